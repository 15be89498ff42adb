package e2e

import (
	"net"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpSink is a minimal SMTP server on loopback that keeps every message
// it is given (plain SMTP: the notify.email plugin allows that only to
// this machine).
type smtpSink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
}

func newSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 sink ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.Fields(line + " x")[0])
		switch cmd {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-sink")
			_ = tp.PrintfLine("250 8BITMIME")
		case "MAIL", "RCPT", "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			body, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, string(body))
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unsupported")
		}
	}
}

func (s *smtpSink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// TestAccountEmailLeavesThroughNotifyEmail: with the notify.email plugin
// installed and enabled, a buyer's registration sends the verification
// email over SMTP, and its link verifies the address.
func TestAccountEmailLeavesThroughNotifyEmail(t *testing.T) {
	t.Parallel()
	sink := newSMTPSink(t)
	_, port, _ := net.SplitHostPort(sink.ln.Addr().String())
	dir := t.TempDir()
	kassa(t, dir, "plugin", "install", buildPlugin(t, t.TempDir(), "notify-email"))
	// The SMTP sink listens on loopback: the owner allows private networks.
	kassa(t, dir, "plugin", "settings", "notify.email", "--plugin-allow-private-networks", "--set",
		`{"host":"127.0.0.1","port":`+port+`,"tls":"none","from_address":"shop@example.com","from_name":"Tea House"}`)
	kassa(t, dir, "plugin", "enable", "notify.email", "--plugin-allow-private-networks")

	in := start(t, dir, "--store-name", "Tea House", "--public-url", "https://tea.example", "--plugin-allow-private-networks")
	defer in.stop()
	var reg struct {
		CustomerRegister struct{ UserErrors []struct{ Code string } }
	}
	in.graphql(`mutation { customerRegister(input: {email: "ada@example.com", password: "a long enough passphrase", firstName: "Ada"}) { userErrors { code } } }`, nil, &reg)
	if len(reg.CustomerRegister.UserErrors) > 0 {
		t.Fatalf("register: %+v", reg.CustomerRegister.UserErrors)
	}

	var msg string
	deadline := time.Now().Add(30 * time.Second)
	for msg == "" && time.Now().Before(deadline) {
		if m := sink.messages(); len(m) > 0 {
			msg = m[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	if msg == "" {
		t.Fatalf("no email arrived within 30s\nkassa logs:\n%s", in.logs.String())
	}
	if !strings.Contains(msg, "ada@example.com") || !strings.Contains(msg, "Tea House") {
		t.Fatalf("email lacks recipient or shop name:\n%s", msg)
	}
	// The body is quoted-printable: join soft line breaks, decode "=3D".
	plain := strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(msg)
	token := regexp.MustCompile(`https://tea\.example/account/verify-email\?token=([A-Za-z0-9_%.~-]+)`).FindStringSubmatch(plain)
	if token == nil {
		t.Fatalf("email has no verification link:\n%s", msg)
	}
	if codes := in.verifySignedIn("ada@example.com", "a long enough passphrase", unescape(token[1])); codes != "" {
		t.Fatalf("verification link token refused: %s", codes)
	}
	// The email went out, so the link is not in the development log.
	if strings.Contains(in.logs.String(), unescape(token[1])) {
		t.Fatalf("the link was logged although the email delivered it:\n%s", in.logs.String())
	}
}

// TestDevelopmentLogShowsUndeliveredLinks: without any email channel, a
// development shop logs the verification link so its developer can click
// through, and the link works.
func TestDevelopmentLogShowsUndeliveredLinks(t *testing.T) {
	t.Parallel()
	in := start(t, t.TempDir())
	defer in.stop()
	in.graphql(`mutation { customerRegister(input: {email: "dev@example.com", password: "a long enough passphrase"}) { userErrors { code } } }`, nil, nil)
	linkRE := regexp.MustCompile(`link=\S*/account/verify-email\?token=([A-Za-z0-9_%.~-]+)`)
	deadline := time.Now().Add(20 * time.Second)
	var m []string
	for m == nil && time.Now().Before(deadline) {
		m = linkRE.FindStringSubmatch(in.logs.String())
		time.Sleep(50 * time.Millisecond)
	}
	if m == nil {
		t.Fatalf("no verification link in the development log:\n%s", in.logs.String())
	}
	if codes := in.verifySignedIn("dev@example.com", "a long enough passphrase", unescape(m[1])); codes != "" {
		t.Fatalf("the logged link's token was refused: %s", codes)
	}
}

// verifySignedIn signs in as the buyer (email, password) and redeems the
// verification token as them, as the storefront's verify page does for a
// signed-in buyer; it returns the userErrors' codes, empty when verified.
func (in *instance) verifySignedIn(email, password, token string) string {
	in.t.Helper()
	var login struct {
		CustomerLogin struct {
			Session    struct{ Token string }
			UserErrors []struct{ Code string }
		}
	}
	in.graphql(`mutation($e: String!, $p: String!) { customerLogin(input: {email: $e, password: $p, returnToken: true}) { session { token } userErrors { code } } }`,
		map[string]any{"e": email, "p": password}, &login)
	if login.CustomerLogin.Session.Token == "" {
		in.t.Fatalf("sign-in of %s: %+v", email, login.CustomerLogin.UserErrors)
	}
	out := in.graphqlAs(login.CustomerLogin.Session.Token,
		`mutation { customerVerifyEmail(input: {token: "`+token+`"}) { customer { emailVerified } userErrors { code } } }`)
	if !strings.Contains(out, `"emailVerified":true`) {
		return out
	}
	return ""
}

func unescape(s string) string {
	r := strings.NewReplacer("%2B", "+", "%2F", "/", "%3D", "=")
	return r.Replace(s)
}
