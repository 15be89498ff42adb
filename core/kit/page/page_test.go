package page

import (
	"errors"
	"testing"

	"github.com/kassahq/kassa/core/kit/errs"
)

func TestNewRequest(t *testing.T) {
	t.Parallel()
	i := func(n int32) *int32 { return &n }
	s := func(v string) *string { return &v }
	valid := Cursor{Key: "Shirt", ID: "prd_1"}.Encode()
	tests := []struct {
		name      string
		first     *int32
		after     *string
		wantFirst int
		wantErr   bool
	}{
		{"defaults", nil, nil, DefaultFirst, false},
		{"explicit", i(24), nil, 24, false},
		{"too many", i(MaxFirst + 1), nil, 0, true},
		{"negative", i(-1), nil, 0, true},
		{"good cursor", i(5), s(valid), 5, false},
		{"bad cursor", i(5), s("not a cursor"), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewRequest(tt.first, tt.after)
			if tt.wantErr {
				if !errors.Is(err, errs.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || r.First != tt.wantFirst {
				t.Fatalf("NewRequest = %+v, %v", r, err)
			}
			if tt.after != nil && (r.After == nil || r.After.ID != "prd_1") {
				t.Fatalf("cursor not decoded: %+v", r.After)
			}
		})
	}
}
