package idempotency

import (
	"fmt"

	"github.com/kassahq/kassa/core/kit/errs"
)

// The stable error codes of idempotency keys. Clients switch on them;
// never change a released one.
const (
	// CodeInvalidKey: a key that is empty, longer than MaxKeyLength, or
	// holds a character other than printable ASCII.
	CodeInvalidKey = "INVALID_IDEMPOTENCY_KEY"
	// CodeKeyReused: the key was used before with another request.
	CodeKeyReused = "IDEMPOTENCY_KEY_REUSED"
	// CodeKeyInUse: the key is being used by work that has not finished
	// in this very transaction (a nested Do with the same key).
	CodeKeyInUse = "IDEMPOTENCY_KEY_IN_USE"
)

// Field is the field path of the key in the errors of Do, relative to the
// input of the operation that takes it.
const Field = "idempotencyKey"

func invalidKey() *errs.Error {
	return errs.Invalid(Field, CodeInvalidKey,
		fmt.Sprintf("the idempotency key is 1 to %d printable ASCII characters", MaxKeyLength))
}

func keyReused() *errs.Error {
	return errs.Conflict(Field, CodeKeyReused, "this idempotency key was already used for another request")
}

func keyInUse() *errs.Error {
	return errs.Conflict(Field, CodeKeyInUse, "this idempotency key is in use by a request that has not finished")
}
