package account

import (
	"github.com/kassahq/kassa/core/kit/errs"
)

// The stable error codes of the accounts. Clients switch on them; never
// change a released one.
const (
	CodeCustomerNotFound   = "CUSTOMER_NOT_FOUND"
	CodeAddressNotFound    = "ADDRESS_NOT_FOUND"
	CodeGroupNotFound      = "GROUP_NOT_FOUND"
	CodeStaffNotFound      = "STAFF_NOT_FOUND"
	CodeInvitationNotFound = "INVITATION_NOT_FOUND"
	CodeAPIKeyNotFound     = "API_KEY_NOT_FOUND"

	CodeRequired         = "REQUIRED"
	CodeTooLong          = "TOO_LONG"
	CodeInvalid          = "INVALID"
	CodeInvalidEmail     = "INVALID_EMAIL"
	CodeEmailTaken       = "EMAIL_TAKEN"
	CodeInvalidKind      = "INVALID_KIND"
	CodeInvalidCountry   = "INVALID_COUNTRY"
	CodeTooManyAddresses = "TOO_MANY_ADDRESSES"
	CodeInvalidName      = "INVALID_NAME"
	CodeGroupNameTaken   = "GROUP_NAME_TAKEN"
	CodeInvalidTag       = "INVALID_TAG"
	CodeTooManyTags      = "TOO_MANY_TAGS"
	CodeInvalidCount     = "INVALID_COUNT"

	CodePasswordInvalid   = "PASSWORD_INVALID"
	CodePasswordTooShort  = "PASSWORD_TOO_SHORT"
	CodePasswordTooLong   = "PASSWORD_TOO_LONG"
	CodePasswordTooCommon = "PASSWORD_TOO_COMMON"
	// CodeInvalidCredentials: the email or password (or the current
	// password of a change) is wrong; one code for every reason, so the
	// answer tells nobody whether an account exists.
	CodeInvalidCredentials = "INVALID_CREDENTIALS"
	// CodeInvalidToken: a mailed token is unknown, used or expired.
	CodeInvalidToken = "INVALID_TOKEN"
	// CodeSignInToVerify: an email verification link opened by someone
	// not signed in to the account it verifies.
	CodeSignInToVerify = "SIGN_IN_TO_VERIFY"
	CodeNotACustomer   = "NOT_A_CUSTOMER"
	CodeNotStaff       = "NOT_STAFF"
	// CodeTooManyAttempts: sign-in is throttled (errs.ErrLimited).
	CodeTooManyAttempts = "TOO_MANY_ATTEMPTS"
	// CodeTooManyRequests: a client asked for too many account emails
	// (errs.ErrLimited).
	CodeTooManyRequests = "TOO_MANY_REQUESTS"

	CodeStaffExists       = "STAFF_EXISTS"
	CodeOwnerExists       = "OWNER_EXISTS"
	CodeInvitationClosed  = "INVITATION_CLOSED"
	CodeLastOwner         = "LAST_OWNER"
	CodeCannotDisableSelf = "CANNOT_DISABLE_SELF"
	// CodeRoleNotHeld: the caller may not act on someone holding a role
	// whose permissions the caller does not all hold.
	CodeRoleNotHeld   = "ROLE_NOT_HELD"
	CodeAPIKeyRevoked = "API_KEY_REVOKED"
)

// codeRoleNotFound is the permission system's code for a role that does
// not exist (core/authz).
const codeRoleNotFound = "ROLE_NOT_FOUND"

// Not found. Each is an errs.ErrNotFound.
var (
	errCustomerNotFound   = errs.NotFound(CodeCustomerNotFound, "customer not found")
	errAddressNotFound    = errs.NotFound(CodeAddressNotFound, "address not found")
	errGroupNotFound      = errs.NotFound(CodeGroupNotFound, "customer group not found")
	errStaffNotFound      = errs.NotFound(CodeStaffNotFound, "staff member not found")
	errInvitationNotFound = errs.NotFound(CodeInvitationNotFound, "invitation not found")
	errAPIKeyNotFound     = errs.NotFound(CodeAPIKeyNotFound, "API key not found")

	// errTokenNotFound and errSessionNotFound never reach a client: the
	// service answers INVALID_TOKEN or UNAUTHENTICATED instead, the same
	// for a token that never existed as for one used or expired.
	errTokenNotFound   = errs.NotFound("TOKEN_NOT_FOUND", "no open token with this hash")
	errSessionNotFound = errs.NotFound("SESSION_NOT_FOUND", "no live session with this hash")
)

// Conflicts the store reports when a unique or foreign key refuses a
// write (validation may have passed before a concurrent writer won).
var (
	errEmailTaken     = errs.Conflict("email", CodeEmailTaken, "an account with this email exists")
	errGroupNameTaken = errs.Conflict("name", CodeGroupNameTaken, "a group with this name exists")
	errStaffExists    = errs.Conflict("email", CodeStaffExists, "a staff member with this email exists")
	errMemberNotFound = errs.Invalid("customerIds", CodeCustomerNotFound, "a customer does not exist")
)

// Refusals to authenticate.
var (
	errSessionInvalid  = errs.Unauthenticated("the session is invalid or has expired; sign in again")
	errAPIKeyInvalid   = errs.Unauthenticated("the API key is invalid or revoked")
	errCreatorDisabled = errs.Unauthenticated("the staff member behind this session or key is disabled")
)

func invalidCredentials() error {
	return errs.Invalid("", CodeInvalidCredentials, "email or password is wrong")
}

func wrongCurrentPassword() error {
	return errs.Invalid("currentPassword", CodeInvalidCredentials, "the current password is wrong")
}

func invalidToken(field string) error {
	return errs.Invalid(field, CodeInvalidToken, "this link or token is invalid, used or expired")
}

// asError returns the first domain error err carries, or err as an
// INVALID error on the whole input: the validators collect several
// checks' results with it.
func asError(err error) *errs.Error {
	if err == nil {
		return nil
	}
	if all := errs.All(err); len(all) > 0 {
		return all[0]
	}
	return errs.Invalid("", CodeInvalid, err.Error())
}
