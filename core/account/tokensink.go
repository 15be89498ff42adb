package account

import (
	"context"
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

// TokenSink receives each single-use token once its transaction
// committed, besides the event that carries it. Tokens reach people
// through the events kassa.customer.verification_requested,
// kassa.customer.password_reset_requested and kassa.staff.invited, which
// the notification consumer mails (or, in development, logs when no
// channel delivered them); a sink is for tests that need the token
// without reading events.
type TokenSink interface {
	DeliverToken(ctx context.Context, m TokenMessage)
}

// TokenSinkFunc adapts a function to TokenSink.
type TokenSinkFunc func(ctx context.Context, m TokenMessage)

// DeliverToken calls f.
func (f TokenSinkFunc) DeliverToken(ctx context.Context, m TokenMessage) { f(ctx, m) }
