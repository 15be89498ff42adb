package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorsUnwrapToKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		kind error
		code string
	}{
		{"invalid", Invalid("input.title", "REQUIRED", "title is required"), ErrInvalid, "REQUIRED"},
		{"not found wrapped", fmt.Errorf("load product: %w", NotFound("PRODUCT_NOT_FOUND", "no such product")), ErrNotFound, "PRODUCT_NOT_FOUND"},
		{"conflict", Conflict("handle", "HANDLE_TAKEN", "handle is taken"), ErrConflict, "HANDLE_TAKEN"},
		{"forbidden", Forbidden("FORBIDDEN", "no"), ErrForbidden, "FORBIDDEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.kind) {
				t.Fatalf("errors.Is(%v, %v) = false", tt.err, tt.kind)
			}
			all := All(tt.err)
			if len(all) != 1 || all[0].Code != tt.code {
				t.Fatalf("All() = %+v, want one error with code %s", all, tt.code)
			}
		})
	}
}

func TestValidatorCollects(t *testing.T) {
	t.Parallel()
	var v Validator
	if v.Err() != nil {
		t.Fatal("empty validator returned an error")
	}
	v.Check(false, "a", "A", "a is bad")
	v.Check(true, "b", "B", "b is fine")
	v.Check(false, "c.d", "C", "c is bad")
	err := v.Err()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("list does not unwrap to ErrInvalid: %v", err)
	}
	all := All(err)
	if len(all) != 2 || all[1].Field[1] != "d" {
		t.Fatalf("All() = %+v", all)
	}
	if got := all[0].WithField("input").Field; len(got) != 2 || got[0] != "input" {
		t.Fatalf("WithField = %v", got)
	}
}
