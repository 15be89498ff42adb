package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/notify"
)

// Error codes of failed deliveries (notify.Delivery.ErrorCode).
const (
	// CodeInvalidRecipient: the recipient has no usable email address.
	CodeInvalidRecipient = "invalid_recipient"
	// CodeTemplateMissing: the plugin has no template for the id.
	CodeTemplateMissing = "template_missing"
	// CodeInvalidData: the data misses what the template needs (or is not
	// a JSON object).
	CodeInvalidData = "invalid_data"
	// CodeNotConfigured: Send before Configure.
	CodeNotConfigured = "not_configured"
	// CodeSMTPUnavailable: the server could not be reached or hung up.
	CodeSMTPUnavailable = "smtp_unavailable"
	// CodeStartTLSUnsupported: the server does not offer STARTTLS.
	CodeStartTLSUnsupported = "starttls_unsupported"
	// CodeTLSFailed: the TLS handshake failed (certificate not trusted).
	CodeTLSFailed = "tls_failed"
	// CodeAuthFailed: the server refused the user name or password.
	CodeAuthFailed = "auth_failed"
	// CodeSenderRejected: the server refused the sender address.
	CodeSenderRejected = "sender_rejected"
	// CodeRecipientRejected: the server refused the recipient for good.
	CodeRecipientRejected = "recipient_rejected"
	// CodeMessageRejected: the server refused the message for good.
	CodeMessageRejected = "message_rejected"
	// CodeTemporaryFailure: the server answered 4xx; try again later.
	CodeTemporaryFailure = "temporary_failure"
	// CodeOutcomeUnknown: the connection broke after the message was
	// handed over and before the server confirmed it. A retry may deliver
	// a duplicate, recognisable by its identical Message-ID.
	CodeOutcomeUnknown = "outcome_unknown"
)

// stage is the step of an SMTP session; it decides how an error is
// reported.
type stage int

const (
	stageConnect stage = iota // connect, greeting, EHLO
	stageTLS                  // TLS handshake
	stageAuth                 // AUTH
	stageMail                 // MAIL FROM
	stageRcpt                 // RCPT TO
	stageData                 // DATA and writing the message
	stageEnd                  // the server's answer to the end of the message
)

// failure builds a failed delivery from an error at a stage. Everything is
// retryable except the server's permanent (5xx) refusal of the recipient
// or of the message: a refused login or sender is a settings problem staff
// can fix, and Kassa's retry then succeeds.
func failure(st stage, err error) *notify.Delivery {
	d := &notify.Delivery{Status: notify.DeliveryFailed, Retryable: true, ErrorMessage: err.Error()}
	var tpErr *textproto.Error // the server's answer, nil for network errors
	errors.As(err, &tpErr)
	switch {
	case st == stageTLS:
		d.ErrorCode = CodeTLSFailed
	case st == stageAuth:
		d.ErrorCode = CodeAuthFailed
	case tpErr == nil && st == stageEnd:
		d.ErrorCode = CodeOutcomeUnknown
	case tpErr == nil || st == stageConnect:
		d.ErrorCode = CodeSMTPUnavailable
	case tpErr.Code < 500:
		d.ErrorCode = CodeTemporaryFailure
	case st == stageMail:
		d.ErrorCode = CodeSenderRejected
	case st == stageRcpt:
		d.ErrorCode, d.Retryable = CodeRecipientRejected, false
	default:
		d.ErrorCode, d.Retryable = CodeMessageRejected, false
	}
	return d
}

// answerMargin is kept free before the deadline of Kassa's call, so Send
// answers with a status instead of timing out.
const answerMargin = 500 * time.Millisecond

// session is an open, authenticated SMTP connection.
type session struct {
	c *smtp.Client
}

// dial connects, says EHLO, secures the connection as configured and logs
// in. The context's deadline (or the timeout setting, whichever is first)
// bounds the whole session.
func dial(ctx context.Context, cfg *settings) (*session, *notify.Delivery) {
	deadline := time.Now().Add(cfg.timeout())
	// Keep a moment before Kassa's deadline to answer with a status.
	if d, ok := ctx.Deadline(); ok && d.Add(-answerMargin).Before(deadline) {
		deadline = d.Add(-answerMargin)
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.port()))
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// Checked after DNS resolution: a host name that resolves (or is
	// rebound) to a private address is refused unless the owner allows it.
	conn, err := cfg.guard.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, failure(stageConnect, fmt.Errorf("connect to %s: %w", addr, err))
	}
	_ = conn.SetDeadline(deadline)
	tlsConf := &tls.Config{ServerName: cfg.Host, InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in for development, documented
	if cfg.tlsMode() == TLSImplicit {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return nil, failure(stageTLS, fmt.Errorf("TLS handshake with %s: %w", addr, err))
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		conn.Close()
		return nil, failure(stageConnect, fmt.Errorf("SMTP greeting of %s: %w", addr, err))
	}
	fail := func(st stage, err error) (*session, *notify.Delivery) {
		c.Close()
		return nil, failure(st, err)
	}
	if err := c.Hello(cfg.helo()); err != nil {
		return fail(stageConnect, fmt.Errorf("EHLO: %w", err))
	}
	if cfg.tlsMode() == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			c.Close()
			return nil, &notify.Delivery{Status: notify.DeliveryFailed, Retryable: true, ErrorCode: CodeStartTLSUnsupported,
				ErrorMessage: fmt.Sprintf("%s does not offer STARTTLS; refusing to send unencrypted (use tls for port 465)", addr)}
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return fail(stageTLS, fmt.Errorf("STARTTLS with %s: %w", addr, err))
		}
	}
	if cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fail(stageAuth, fmt.Errorf("%s offers no AUTH after EHLO", addr))
		}
		// PlainAuth refuses to send the password over an unencrypted
		// connection to anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host)); err != nil {
			return fail(stageAuth, fmt.Errorf("login as the configured user: %w", err))
		}
	}
	return &session{c: c}, nil
}

// send hands one message to the server. Only a 250 answer to the end of
// DATA counts as sent.
func (s *session) send(from, to string, msg []byte) *notify.Delivery {
	defer s.c.Close()
	if err := s.c.Mail(from); err != nil {
		return failure(stageMail, fmt.Errorf("MAIL FROM: %w", err))
	}
	if err := s.c.Rcpt(to); err != nil {
		return failure(stageRcpt, fmt.Errorf("RCPT TO: %w", err))
	}
	w, err := s.c.Data()
	if err != nil {
		return failure(stageData, fmt.Errorf("DATA: %w", err))
	}
	if _, err := w.Write(msg); err != nil {
		return failure(stageData, fmt.Errorf("write message: %w", err))
	}
	if err := w.Close(); err != nil {
		return failure(stageEnd, fmt.Errorf("end of message: %w", err))
	}
	_ = s.c.Quit() // the message is accepted; a failing QUIT changes nothing
	return nil
}

// probe logs in and out again, for Health.
func probe(ctx context.Context, cfg *settings) *notify.Delivery {
	s, fail := dial(ctx, cfg)
	if fail != nil {
		return fail
	}
	_ = s.c.Quit()
	s.c.Close()
	return nil
}
