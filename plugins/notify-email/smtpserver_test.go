package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a small real SMTP server on 127.0.0.1 for the tests:
// EHLO/HELO, STARTTLS (or TLS from the first byte), AUTH PLAIN, MAIL, RCPT,
// DATA, RSET, NOOP, QUIT. Recipients starting with "bounce" are refused
// for good (550), "defer" for now (451).
type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config
	implicit bool // TLS from the first byte
	starttls bool // offer STARTTLS
	user     string
	pass     string

	mu       sync.Mutex
	messages []received
	logins   int
}

// received is a message the server accepted.
type received struct {
	From   string
	To     []string
	Data   []byte
	TLS    bool
	Authed bool
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kassa test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// startSMTP starts a server; implicit selects TLS from the first byte,
// otherwise starttls says whether STARTTLS is offered.
func startSMTP(t *testing.T, implicit, starttls bool) *smtpServer {
	t.Helper()
	s := &smtpServer{
		tls:      &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}, MinVersion: tls.VersionTLS12},
		implicit: implicit, starttls: starttls, user: "shop@kassa.example", pass: testPassword,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	s.ln = ln
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

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// mails returns the accepted messages.
func (s *smtpServer) mails() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

// withMessageID returns the accepted messages carrying the Message-ID.
func (s *smtpServer) withMessageID(id string) []received {
	var out []received
	for _, m := range s.mails() {
		if bytes.Contains(m.Data, []byte("Message-ID: "+id+"\r\n")) {
			out = append(out, m)
		}
	}
	return out
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(conn)
	secure, authed := s.implicit, false
	var cur *received
	_ = tp.PrintfLine("220 localhost ESMTP kassa-test")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"localhost greets " + arg, "8BITMIME", "SIZE 10485760"}
			if s.starttls && !secure {
				lines = append(lines, "STARTTLS")
			}
			if secure {
				lines = append(lines, "AUTH PLAIN")
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				_ = tp.PrintfLine("250%s%s", sep, l)
			}
		case "STARTTLS":
			if !s.starttls || secure {
				_ = tp.PrintfLine("503 5.5.1 STARTTLS not possible")
				continue
			}
			_ = tp.PrintfLine("220 2.0.0 ready to start TLS")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, tp, secure, authed, cur = tc, textproto.NewConn(tc), true, false, nil
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !secure || !strings.EqualFold(mech, "PLAIN") {
				_ = tp.PrintfLine("504 5.5.4 unrecognized authentication type")
				continue
			}
			if resp == "" {
				_ = tp.PrintfLine("334 ")
				if resp, err = tp.ReadLine(); err != nil {
					return
				}
			}
			raw, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if len(parts) == 3 && parts[1] == s.user && parts[2] == s.pass {
				authed = true
				s.mu.Lock()
				s.logins++
				s.mu.Unlock()
				_ = tp.PrintfLine("235 2.7.0 authentication successful")
			} else {
				_ = tp.PrintfLine("535 5.7.8 authentication credentials invalid")
			}
		case "MAIL":
			if !authed {
				_ = tp.PrintfLine("530 5.7.0 authentication required")
				continue
			}
			cur = &received{From: addrOf(arg), TLS: secure, Authed: authed}
			_ = tp.PrintfLine("250 2.1.0 ok")
		case "RCPT":
			if cur == nil {
				_ = tp.PrintfLine("503 5.5.1 MAIL first")
				continue
			}
			to := addrOf(arg)
			switch {
			case strings.HasPrefix(to, "bounce"):
				_ = tp.PrintfLine("550 5.1.1 <%s>: mailbox unavailable", to)
			case strings.HasPrefix(to, "defer"):
				_ = tp.PrintfLine("451 4.3.0 try again later")
			default:
				cur.To = append(cur.To, to)
				_ = tp.PrintfLine("250 2.1.5 ok")
			}
		case "DATA":
			if cur == nil || len(cur.To) == 0 {
				_ = tp.PrintfLine("503 5.5.1 RCPT first")
				continue
			}
			_ = tp.PrintfLine("354 end data with <CR><LF>.<CR><LF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			// ReadDotBytes turns CRLF into LF; put the wire format back.
			cur.Data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
			s.mu.Lock()
			s.messages = append(s.messages, *cur)
			s.mu.Unlock()
			cur = nil
			_ = tp.PrintfLine("250 2.0.0 queued")
		case "RSET":
			cur = nil
			_ = tp.PrintfLine("250 2.0.0 ok")
		case "NOOP":
			_ = tp.PrintfLine("250 2.0.0 ok")
		case "QUIT":
			_ = tp.PrintfLine("221 2.0.0 bye")
			return
		default:
			_ = tp.PrintfLine("502 5.5.2 command not recognized")
		}
	}
}

// addrOf extracts the address of "FROM:<a@b> BODY=8BITMIME".
func addrOf(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}
