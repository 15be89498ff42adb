package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/kassahq/kassa/core/authz"
)

// ownerSeparator joins a scope and the owner of its keys in the stored
// scope (Owned). The scopes code chooses never hold it.
const ownerSeparator = "/"

// maxOwnerLength bounds an owner: a customer id, or "guest:" and a
// SHA-256 in hex.
const maxOwnerLength = 128

// OwnerOf returns whose key a buyer-facing operation (a checkout, a
// payment's start) takes, for Owned: the signed-in buyer ("customer:" and
// their id); a guest, by the credential they name what they act on with
// (a cart token, an order's access token), hashed ("guest:" and its
// SHA-256 in hex; "guest" with none); and "" for staff, API keys and the
// platform, whose keys the shop shares in each scope.
//
// Buyers' keys are theirs: without an owner, buyer B sending a key buyer
// A used would learn it is in use (IDEMPOTENCY_KEY_REUSED), and anyone
// predicting another buyer's keys could block their requests for a day.
func OwnerOf(ctx context.Context, guestCredential string) string {
	sub := authz.SubjectFrom(ctx)
	switch sub.Kind {
	case authz.KindCustomer:
		return "customer:" + sub.ID
	case authz.KindAnonymous, "":
		if guestCredential == "" {
			return "guest"
		}
		sum := sha256.Sum256([]byte(guestCredential))
		return "guest:" + hex.EncodeToString(sum[:])
	}
	return ""
}

// Owned returns scope narrowed to the keys of owner (OwnerOf), for Do and
// DoAnswered: the same key sent by two owners is two keys, and neither
// learns of the other's. The same owner sending a key again with another
// request is still CodeKeyReused. An empty owner is scope itself, the
// keys the shop shares.
func Owned(scope, owner string) string {
	if owner == "" {
		return scope
	}
	return scope + ownerSeparator + owner
}
