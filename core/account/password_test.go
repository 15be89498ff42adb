package account_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store/storetest"
)

func TestHasher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := account.NewHasher(account.PasswordParams{})
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
	weak, _ := account.NewHasher(account.PasswordParams{Memory: 8 * 1024, Time: 1, Threads: 1}).Hash(ctx, "pw")
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
		"short":                     "PASSWORD_TOO_SHORT",
		"Basketball":                "PASSWORD_TOO_COMMON",
		"QWERTYUIOP":                "PASSWORD_TOO_COMMON",
		"anastasia@example.com":     "PASSWORD_TOO_COMMON",
		strings.Repeat("é", 1001):   "PASSWORD_TOO_LONG",
		"correct horse battery":     "",
		strings.Repeat("éñçø", 250): "",
		"ünïcödé pässwörd ok":       "",
		// Decorated common words and the email address.
		"password123":        "PASSWORD_TOO_COMMON",
		"Password2024!":      "PASSWORD_TOO_COMMON",
		"123456dragon":       "PASSWORD_TOO_COMMON",
		"p@ssw0rd!!":         "PASSWORD_TOO_COMMON",
		"1l0veyou!!":         "PASSWORD_TOO_COMMON",
		"Pass-Word 2024":     "PASSWORD_TOO_COMMON",
		"ana@2024!!":         "",
		"anastasia1990":      "PASSWORD_TOO_COMMON",
		"Anastasia#1990":     "PASSWORD_TOO_COMMON",
		"password8472910365": "",
		"dragonfly-pancakes": "",
		"Tr0ub4dor&3":        "",
		// Repetition and runs.
		"aaaaaaaaaaaa":  "PASSWORD_TOO_COMMON",
		"1212121212121": "PASSWORD_TOO_COMMON",
		"abcdefghijkl":  "PASSWORD_TOO_COMMON",
		"9876543210":    "PASSWORD_TOO_COMMON",
		"abcdefghijkl9": "",
		"乌龙茶乌龙茶乌龙茶乌龙":   "PASSWORD_TOO_COMMON",
		"乌龙茶很好喝真的很好喝":   "",
	}
	for pw, want := range cases {
		err := account.CheckPassword("password", pw, "anastasia@example.com")
		got := ""
		if all := errs.All(err); len(all) > 0 {
			got = all[0].Code
		}
		if got != want {
			t.Errorf("CheckPassword(%.20q) = %q, want %q", pw, got, want)
		}
	}
	if !account.IsCommonPassword("123456") || account.IsCommonPassword("x7#kQ!v9-long") {
		t.Error("common password list not loaded")
	}
}

// TestTokensNeverLogged: with no token sink, as in the app, the tokens
// leave only through their events; the service logs none of them, nor the
// address they go to (the development log of links is the notification
// dispatcher's, tested in core/notify).
func TestTokensNeverLogged(t *testing.T) {
	t.Parallel()
	db := storetest.NewSQLite(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	var sent eventPayloads
	svc := build(t, db, enf, account.Options{Logger: log, Outbox: &sent})
	ctx := context.Background()
	if err := svc.Register(ctx, account.Registration{Email: "a@example.com", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RequestPasswordReset(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(sent, " "), "ktok_") {
		t.Fatalf("no token left through the events: %q", sent)
	}
	if strings.Contains(buf.String(), "ktok_") || strings.Contains(buf.String(), "a@example.com") {
		t.Fatalf("log holds a token or an address: %s", buf.String())
	}
}

// eventPayloads records the payloads of the events added to it.
type eventPayloads []string

func (p *eventPayloads) Add(_ context.Context, e events.Event) error {
	*p = append(*p, string(e.Payload))
	return nil
}

// TestRefusedStaffSignInLogged: a refused staff sign-in is a warning
// naming the client's address and, for a known address, the staff
// member, for an operator's alerts; never the email typed nor the
// password. Throttled attempts are logged too.
func TestRefusedStaffSignInLogged(t *testing.T) {
	t.Parallel()
	db := storetest.NewSQLite(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	svc := build(t, db, enf, account.Options{Logger: log})
	owner, err := svc.CreateOwner(authz.WithSubject(context.Background(), authz.SystemSubject("test")),
		account.NewStaff{Email: "own@shop.example", Password: "owner secret phrase"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := account.WithClient(context.Background(), account.Client{IP: "198.51.100.7"})
	if _, _, err := svc.StaffLogin(ctx, "own@shop.example", "wrong guess 1"); err == nil {
		t.Fatal("a wrong password signed in")
	}
	if _, _, err := svc.StaffLogin(ctx, "typo-owner-secret@shop.example", "owner secret phrase"); err == nil {
		t.Fatal("an unknown address signed in")
	}
	for i := range 20 {
		if _, _, err := svc.StaffLogin(ctx, "own@shop.example", fmt.Sprintf("wrong guess %d", i+2)); errors.Is(err, errs.ErrLimited) {
			break
		}
	}
	var refused []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["msg"] == "staff sign-in refused" {
			refused = append(refused, rec)
		}
	}
	if len(refused) < 3 {
		t.Fatalf("%d refusals logged:\n%s", len(refused), buf.String())
	}
	first, second, last := refused[0], refused[1], refused[len(refused)-1]
	if first["level"] != "WARN" || first["client"] != "198.51.100.7" || first["staff"] != owner.ID || first["reason"] != "invalid credentials" {
		t.Errorf("a wrong password: %v", first)
	}
	if _, named := second["staff"]; named || second["client"] != "198.51.100.7" {
		t.Errorf("an unknown address: %v", second)
	}
	if last["reason"] != "throttled" {
		t.Errorf("the last refusal: %v", last)
	}
	for _, secret := range []string{"wrong guess", "owner secret phrase", "typo-owner-secret", "own@shop.example"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, buf.String())
		}
	}
}
