package email_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/kit/email"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		in, want string
		err      error
	}{
		{"ada@example.com", "ada@example.com", nil},
		{"  Ada.Lovelace+shop@Example.COM ", "ada.lovelace+shop@example.com", nil},
		{"ada@mail.example.co.uk", "ada@mail.example.co.uk", nil},
		{"ada@localhost", "", email.ErrInvalid},
		{"a@[127.0.0.1]", "", email.ErrInvalid},
		{"a@[ipv6:::1]", "", email.ErrInvalid},
		{"a@[10.0.0.1.example]", "", email.ErrInvalid},
		{"Ada <ada@example.com>", "", email.ErrInvalid},
		{"ada@example.com (work)", "", email.ErrInvalid},
		{"ada", "", email.ErrInvalid},
		{"@example.com", "", email.ErrInvalid},
		{"ada@", "", email.ErrInvalid},
		{"", "", email.ErrInvalid},
		{strings.Repeat("a", 243) + "@example.com", "", email.ErrTooLong},
		{strings.Repeat("a", 242) + "@example.com", strings.Repeat("a", 242) + "@example.com", nil}, // 254 bytes
	}
	for _, c := range cases {
		got, err := email.Normalize(c.in)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("Normalize(%.40q) = %q, %v; want %q, %v", c.in, got, err, c.want, c.err)
		}
	}
}
