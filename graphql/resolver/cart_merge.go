package resolver

import (
	"context"
	"errors"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
)

// mergeCart takes the guest cart of token into the cart of the buyer who
// just signed in with sess (cart.Service.Merge), acting as that buyer:
// the session is resolved the way the HTTP middleware resolves it on the
// next request. It runs before the session reaches the client, so a
// failure leaves the client signed out and free to retry.
//
// A token that reaches no open guest cart (never issued, or merged or
// checked out already: a storefront that kept a stale token) is ignored:
// the sign-in stands and the buyer's cart stays as it was, which is what
// a buyer signing in expects.
func (r *customerRoot) mergeCart(ctx context.Context, sess *account.NewSession, token string) error {
	if token == "" || r.carts == nil {
		return nil
	}
	sub, err := r.svc.Authenticate(ctx, sess.Token)
	if err != nil {
		return err
	}
	_, err = r.carts.Merge(authz.WithSubject(ctx, sub), token)
	if errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrConflict) {
		return nil
	}
	return err
}
