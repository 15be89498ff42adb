package customer_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/customer"
	"github.com/kassahq/kassa/core/kit/errs"
)

func TestHasher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := customer.NewHasher(customer.PasswordParams{})
	long := strings.Repeat("x", 100)
	enc, err := h.Hash(ctx, long+"1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", enc)
	}
	for pw, want := range map[string]bool{long + "1": true, long + "2": false, long: false, "": false} {
		ok, rehash, err := h.Verify(ctx, pw, enc)
		if err != nil || ok != want || rehash {
			t.Errorf("Verify(%d chars) = %v, %v, %v; want %v", len(pw), ok, rehash, err, want)
		}
	}
	// A hash made with weaker parameters verifies and asks for a rehash.
	weak, _ := customer.NewHasher(customer.PasswordParams{Memory: 8 * 1024, Time: 1, Threads: 1}).Hash(ctx, "pw")
	if ok, rehash, err := h.Verify(ctx, "pw", weak); !ok || !rehash || err != nil {
		t.Errorf("weak hash: %v %v %v", ok, rehash, err)
	}
	if _, _, err := h.Verify(ctx, "pw", "$2a$10$bcrypt"); err == nil {
		t.Error("malformed hash accepted")
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"short":                   "PASSWORD_TOO_SHORT",
		"Basketball":              "PASSWORD_TOO_COMMON",
		"QWERTYUIOP":              "PASSWORD_TOO_COMMON",
		"ana@example.com":         "PASSWORD_TOO_COMMON",
		strings.Repeat("é", 1001): "PASSWORD_TOO_LONG",
		"correct horse battery":   "",
		strings.Repeat("é", 1000): "",
		"ünïcödé pässwörd ok":     "",
	}
	for pw, want := range cases {
		err := customer.CheckPassword("password", pw, "ana@example.com")
		got := ""
		if all := errs.All(err); len(all) > 0 {
			got = all[0].Code
		}
		if got != want {
			t.Errorf("CheckPassword(%.20q) = %q, want %q", pw, got, want)
		}
	}
	if !customer.IsCommonPassword("123456") || customer.IsCommonPassword("x7#kQ!v9-long") {
		t.Error("common password list not loaded")
	}
}

func TestDevTokenLogNeverInProduction(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	m := customer.TokenMessage{Kind: customer.TokenResetPassword, Email: "a@example.com", Token: "ktok_secret"}
	customer.DevLogTokens(log, true).DeliverToken(context.Background(), m)
	if buf.Len() != 0 {
		t.Fatalf("production logged: %s", buf.String())
	}
	customer.DevLogTokens(log, false).DeliverToken(context.Background(), m)
	if !strings.Contains(buf.String(), "ktok_secret") || strings.Contains(buf.String(), "a@example.com") {
		t.Fatalf("development log: %s", buf.String())
	}
}
