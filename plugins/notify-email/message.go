package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// messageID derives the RFC 5322 Message-ID from Kassa's message id: the
// same message always gets the same Message-ID, so should a retry ever
// deliver twice (see CodeOutcomeUnknown), mail clients show one message.
func messageID(kassaID, domain string) string {
	sum := sha256.Sum256([]byte(kassaID))
	if domain == "" {
		domain = "kassa.invalid"
	}
	return "<" + hex.EncodeToString(sum[:16]) + ".kassa@" + domain + ">"
}

// mimeMessage is an email ready for DATA.
type mimeMessage struct {
	From, To, ReplyTo mail.Address
	Subject           string
	MessageID         string
	Date              time.Time
	Language          string
	Content           rendered
}

// encodeHeader encodes a header value as RFC 2047 encoded words when it is
// not plain ASCII (a Chinese subject becomes =?UTF-8?b?...?=).
func encodeHeader(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] < ' ' {
			return mime.BEncoding.Encode("UTF-8", s)
		}
	}
	return s
}

// fold breaks a header line at spaces so that lines stay under 78
// characters where possible (RFC 5322 2.1.1); encoded words never contain
// spaces, so they are never split.
func fold(name, value string) string {
	line := name + ": "
	var b strings.Builder
	for i, word := range strings.Split(value, " ") {
		if i > 0 {
			if len(line)+1+len(word) > 76 {
				b.WriteString(line + "\r\n")
				line = " " + word
				continue
			}
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\r\n")
	return b.String()
}

// bytes renders the message: headers, then a multipart/alternative body
// with a text/plain and a text/html part, both UTF-8 and quoted-printable
// (7-bit clean, so no server needs 8BITMIME), with CRLF line ends.
func (m *mimeMessage) bytes() ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ typ, content string }{
		{"text/plain; charset=UTF-8", m.Content.Text},
		{"text/html; charset=UTF-8", m.Content.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(crlf(part.content))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}

	var b bytes.Buffer
	b.WriteString(fold("From", m.From.String()))
	b.WriteString(fold("To", m.To.String()))
	if m.ReplyTo.Address != "" {
		b.WriteString(fold("Reply-To", m.ReplyTo.String()))
	}
	b.WriteString(fold("Subject", encodeHeader(m.Subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", m.Date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: %s\r\n", m.MessageID)
	b.WriteString("MIME-Version: 1.0\r\n")
	if m.Language != "" {
		fmt.Fprintf(&b, "Content-Language: %s\r\n", m.Language)
	}
	// A transactional email: no out-of-office replies (RFC 3834).
	b.WriteString("Auto-Submitted: auto-generated\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n", mw.Boundary())
	b.WriteString("\r\n")
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// crlf normalizes line ends to CRLF.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}
