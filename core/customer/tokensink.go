package customer

import (
	"context"
	"log/slog"
	"time"
)

// TokenKind says what a delivered token does.
type TokenKind string

// The kinds of delivered token.
const (
	TokenVerifyEmail     TokenKind = "verify_email"
	TokenResetPassword   TokenKind = "reset_password"
	TokenStaffInvitation TokenKind = "staff_invitation"
	TokenStaffReset      TokenKind = "staff_reset_password"
)

// TokenMessage is a single-use token on its way to a person.
type TokenMessage struct {
	Kind TokenKind
	// Email is the recipient.
	Email string
	// Name is the recipient's name, when known.
	Name string
	// Token is the secret itself.
	Token string
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
}

// TokenSink delivers tokens to people. The events
// kassa.customer.verification_requested, kassa.customer.password_reset_requested
// and kassa.staff.invited carry the same tokens for the notification
// consumer (email plugins); a TokenSink is the way for a shop without one.
type TokenSink interface {
	DeliverToken(ctx context.Context, m TokenMessage)
}

// TokenSinkFunc adapts a function to TokenSink.
type TokenSinkFunc func(ctx context.Context, m TokenMessage)

// DeliverToken calls f.
func (f TokenSinkFunc) DeliverToken(ctx context.Context, m TokenMessage) { f(ctx, m) }

// DevLogTokens returns the sink of a shop without email: in development it
// logs each token, so a developer can click through registration and
// password reset; in production it drops them (tokens then reach people
// only through the notification plugins that consume the events). This is
// the one place a secret is ever logged.
func DevLogTokens(log *slog.Logger, production bool) TokenSink {
	if production {
		return TokenSinkFunc(func(context.Context, TokenMessage) {})
	}
	return TokenSinkFunc(func(ctx context.Context, m TokenMessage) {
		log.InfoContext(ctx, "development mode: account token (not logged in production)",
			"kind", string(m.Kind), "token", m.Token, "expires_at", m.ExpiresAt)
	})
}
