// Package email decides whether an email address typed by a buyer or a
// staff member may be stored, in the one form Kassa keeps: trimmed and
// lower-cased, a bare address (no display name), a domain name with a
// dot. An address at an IP literal (a@[127.0.0.1]) is refused: mail to
// it skips DNS, and a notification channel would send to whatever host
// the buyer names, internal ones included.
//
//	e, err := email.Normalize(in)
//	if errors.Is(err, email.ErrTooLong) { ... }
package email

import (
	"errors"
	"net/mail"
	"strings"
)

// MaxLength is the longest address stored, in bytes (RFC 5321's limit
// on a path, less the angle brackets).
const MaxLength = 254

// The reasons Normalize refuses an address.
var (
	ErrTooLong = errors.New("the email address is too long")
	ErrInvalid = errors.New("not a valid email address")
)

// Normalize returns s trimmed and lower-cased when it is an address
// Kassa stores, else ErrTooLong or ErrInvalid.
func Normalize(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if len(e) > MaxLength {
		return "", ErrTooLong
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e {
		return "", ErrInvalid
	}
	domain := e[strings.LastIndexByte(e, '@')+1:]
	if !strings.Contains(domain, ".") || strings.ContainsAny(domain, "[]") {
		return "", ErrInvalid
	}
	return e, nil
}
