package account

import "time"

// Event subjects. Payloads carry ids; those meant for the notification
// consumer also carry the recipient and, for the token events, the
// single-use token: the notification plugins need it to write the email,
// and the outbox row holding it is as protected as the database. The
// token never appears in logs.
const (
	SubjectCustomerRegistered            = "kassa.customer.registered"
	SubjectCustomerRegistrationAttempted = "kassa.customer.registration_attempted"
	SubjectCustomerVerificationRequested = "kassa.customer.verification_requested"
	SubjectCustomerEmailVerified         = "kassa.customer.email_verified"
	SubjectCustomerPasswordResetRequest  = "kassa.customer.password_reset_requested"
	SubjectCustomerPasswordChanged       = "kassa.customer.password_changed"
	SubjectCustomerUpdated               = "kassa.customer.updated"
	SubjectCustomerErased                = "kassa.customer.erased"
	SubjectStaffInvited                  = "kassa.staff.invited"
	SubjectStaffJoined                   = "kassa.staff.joined"
	SubjectStaffDisabled                 = "kassa.staff.disabled"
	SubjectStaffEnabled                  = "kassa.staff.enabled"
	SubjectStaffRolesChanged             = "kassa.staff.roles_changed"
	SubjectStaffPasswordResetRequest     = "kassa.staff.password_reset_requested"
	SubjectStaffPasswordChanged          = "kassa.staff.password_changed"
	SubjectSessionEnded                  = "kassa.session.ended"
	SubjectAPIKeyCreated                 = "kassa.apikey.created"
	SubjectAPIKeyRevoked                 = "kassa.apikey.revoked"
)

// CustomerEvent is the payload of the kassa.customer.* events.
type CustomerEvent struct {
	CustomerID string `json:"customerId"`
	// Email is set on events the notification consumer mails.
	Email string `json:"email,omitempty"`
	// Name is how to greet the buyer.
	Name string `json:"name,omitempty"`
}

// TokenEvent is the payload of events that carry a single-use token to
// the notification consumer.
type TokenEvent struct {
	CustomerID   string    `json:"customerId,omitempty"`
	StaffID      string    `json:"staffId,omitempty"`
	InvitationID string    `json:"invitationId,omitempty"`
	Email        string    `json:"email"`
	Name         string    `json:"name,omitempty"`
	Roles        []string  `json:"roles,omitempty"`
	Token        string    `json:"token"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// RedactedCustomerEvent is the payload that replaces a kassa.customer.*
// event's once its buyer is erased: the id stays (the account row keeps
// it too), the email, name and single-use token go. An unsent event is
// still delivered, with this payload: consumers see that it happened, and
// the notification consumer mails nobody (a welcome or reset mail to an
// erased buyer is exactly what must not go out).
type RedactedCustomerEvent struct {
	CustomerID string `json:"customerId"`
	// Redacted is always "erased".
	Redacted string `json:"redacted"`
}

// StaffEvent is the payload of the kassa.staff.* events other than
// kassa.staff.invited.
type StaffEvent struct {
	StaffID string   `json:"staffId"`
	Roles   []string `json:"roles,omitempty"`
}

// SessionEvent is the payload of kassa.session.ended: a session ended
// by its holder (logout, or a new sign-in that replaced it). Sessions
// that end with their principal (a disabled member, an erased buyer, a
// changed password) are told by the principal's own event instead.
type SessionEvent struct {
	SessionID string `json:"sessionId"`
}

// APIKeyEvent is the payload of the kassa.apikey.* events.
type APIKeyEvent struct {
	APIKeyID string `json:"apiKeyId"`
	Role     string `json:"role,omitempty"`
}
