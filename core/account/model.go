package account

import (
	"time"

	"github.com/uptrace/bun"
)

// Kind says whether a buyer is a person or a business.
type Kind string

// The kinds of buyer.
const (
	Individual Kind = "individual"
	Business   Kind = "business"
)

// Customer is a buyer's account.
type Customer struct {
	bun.BaseModel `bun:"table:customers"`

	ID string `bun:"id,pk"`
	// Email is stored lower-cased and trimmed; it is unique.
	Email           string     `bun:"email"`
	EmailVerifiedAt *time.Time `bun:"email_verified_at"`
	PasswordHash    *string    `bun:"password_hash"`
	FirstName       string     `bun:"first_name"`
	LastName        string     `bun:"last_name"`
	Phone           string     `bun:"phone"`
	Kind            Kind       `bun:"kind"`
	// CompanyName and TaxID describe a business buyer.
	CompanyName string `bun:"company_name"`
	TaxID       string `bun:"tax_id"`
	// AcceptsMarketing is the buyer's consent to marketing email.
	AcceptsMarketing bool `bun:"accepts_marketing"`
	// Note is the staff's internal note; buyers never see it.
	Note                     string     `bun:"note"`
	DefaultShippingAddressID *string    `bun:"default_shipping_address_id"`
	DefaultBillingAddressID  *string    `bun:"default_billing_address_id"`
	ErasedAt                 *time.Time `bun:"erased_at"`
	CreatedAt                time.Time  `bun:"created_at"`
	UpdatedAt                time.Time  `bun:"updated_at"`
}

// Erased reports whether the buyer's personal data was erased.
func (c *Customer) Erased() bool { return c.ErasedAt != nil }

// Address is one entry of a buyer's address book.
type Address struct {
	bun.BaseModel `bun:"table:customer_addresses"`

	ID          string    `bun:"id,pk"`
	CustomerID  string    `bun:"customer_id"`
	FirstName   string    `bun:"first_name"`
	LastName    string    `bun:"last_name"`
	Company     string    `bun:"company"`
	Line1       string    `bun:"line1"`
	Line2       string    `bun:"line2"`
	City        string    `bun:"city"`
	Province    string    `bun:"province"`
	PostalCode  string    `bun:"postal_code"`
	CountryCode string    `bun:"country_code"`
	Phone       string    `bun:"phone"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

// Group is a named set of buyers (wholesale, VIP) that promotions target.
type Group struct {
	bun.BaseModel `bun:"table:customer_groups"`

	ID          string    `bun:"id,pk"`
	Name        string    `bun:"name"`
	Description string    `bun:"description"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

type groupMember struct {
	bun.BaseModel `bun:"table:customer_group_members"`

	GroupID    string    `bun:"group_id,pk"`
	CustomerID string    `bun:"customer_id,pk"`
	CreatedAt  time.Time `bun:"created_at"`
}

type customerTag struct {
	bun.BaseModel `bun:"table:customer_tags"`

	CustomerID string `bun:"customer_id,pk"`
	Tag        string `bun:"tag,pk"`
}

// StaffStatus says whether a staff member may sign in.
type StaffStatus string

// The staff statuses.
const (
	StaffActive   StaffStatus = "active"
	StaffDisabled StaffStatus = "disabled"
)

// StaffMember is a person working in the shop's admin.
type StaffMember struct {
	bun.BaseModel `bun:"table:staff_members"`

	ID           string      `bun:"id,pk"`
	Email        string      `bun:"email"`
	Name         string      `bun:"name"`
	PasswordHash *string     `bun:"password_hash"`
	Status       StaffStatus `bun:"status"`
	CreatedAt    time.Time   `bun:"created_at"`
	UpdatedAt    time.Time   `bun:"updated_at"`
	LastLoginAt  *time.Time  `bun:"last_login_at"`

	// Roles are filled from the permission policy, not stored here.
	Roles []string `bun:"-"`
}

// Invitation asks someone by email to join the staff with roles.
type Invitation struct {
	bun.BaseModel `bun:"table:staff_invitations"`

	ID         string     `bun:"id,pk"`
	Email      string     `bun:"email"`
	Name       string     `bun:"name"`
	RolesCSV   string     `bun:"roles"`
	TokenHash  string     `bun:"token_hash"`
	InvitedBy  string     `bun:"invited_by"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	AcceptedAt *time.Time `bun:"accepted_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// PrincipalKind says whose a session is.
type PrincipalKind string

// The kinds of session owner.
const (
	PrincipalCustomer PrincipalKind = "customer"
	PrincipalStaff    PrincipalKind = "staff"
)

// Session is a signed-in browser or app. The token itself is never
// stored, only its SHA-256.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	ID            string        `bun:"id,pk"`
	TokenHash     string        `bun:"token_hash"`
	PrincipalKind PrincipalKind `bun:"principal_kind"`
	PrincipalID   string        `bun:"principal_id"`
	CreatedAt     time.Time     `bun:"created_at"`
	ExpiresAt     time.Time     `bun:"expires_at"`
	LastSeenAt    time.Time     `bun:"last_seen_at"`
	IP            string        `bun:"ip"`
	UserAgent     string        `bun:"user_agent"`
}

// TokenPurpose says what a single-use account token is for.
type TokenPurpose string

// The purposes of account tokens.
const (
	PurposeVerifyEmail   TokenPurpose = "verify_email"
	PurposeResetPassword TokenPurpose = "reset_password"
	PurposeOwnerSetup    TokenPurpose = "owner_setup"
	PurposeStaffReset    TokenPurpose = "staff_reset_password"
)

// accountToken is a single-use, expiring token mailed to someone.
type accountToken struct {
	bun.BaseModel `bun:"table:account_tokens"`

	ID          string       `bun:"id,pk"`
	TokenHash   string       `bun:"token_hash"`
	Purpose     TokenPurpose `bun:"purpose"`
	PrincipalID string       `bun:"principal_id"`
	CreatedAt   time.Time    `bun:"created_at"`
	ExpiresAt   time.Time    `bun:"expires_at"`
	UsedAt      *time.Time   `bun:"used_at"`
}

// APIKey lets an integration call the API with the permissions of a role.
// The key itself is shown once, at creation; only its SHA-256 is stored.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID   string `bun:"id,pk"`
	Name string `bun:"name"`
	// TokenHash is the SHA-256 of the key.
	TokenHash string `bun:"token_hash"`
	// Hint is the start and end of the key, for telling keys apart.
	Hint string `bun:"hint"`
	// CreatedBy is the subject that made the key: a staff member, another
	// key or the system (the command line).
	CreatedBy string `bun:"created_by"`
	// CreatorStaffID is the staff member the key answers to: its creator,
	// or for a key made by a key, that key's staff member. Disabling them
	// revokes the key, and the key stops working while they are disabled.
	// Nil for keys the system made and keys older than this record
	// (migration 0005) that could not be traced to a staff member.
	CreatorStaffID *string    `bun:"creator_staff_id"`
	CreatedAt      time.Time  `bun:"created_at"`
	LastUsedAt     *time.Time `bun:"last_used_at"`
	RevokedAt      *time.Time `bun:"revoked_at"`

	// Role is filled from the permission policy, not stored here.
	Role string `bun:"-"`
	// Creator is the staff member of CreatorStaffID, filled by the service
	// when the caller may read them.
	Creator *StaffMember `bun:"-"`
}

// throttleRow counts failed sign-ins for one key.
type throttleRow struct {
	bun.BaseModel `bun:"table:login_throttle"`

	Key           string     `bun:"key,pk"`
	Failures      int        `bun:"failures"`
	LastFailureAt time.Time  `bun:"last_failure_at"`
	BlockedUntil  *time.Time `bun:"blocked_until"`
}
