// Package idempotency makes a retried request do its work once. A client
// sends a key with a request that must not happen twice (complete a
// checkout, a staff bulk action); Keys.Do records the key in the caller's
// transaction before the work runs and stores the work's result in the
// same transaction, so the key, the work and its result commit or roll
// back together:
//
//	err := db.RunInTx(ctx, func(ctx context.Context) error {
//		res, err := keys.Do(ctx, "checkout", key, []byte(cartID), func(ctx context.Context) ([]byte, error) {
//			placed, err := place(ctx) // joins the same transaction
//			if err != nil {
//				return nil, err // the transaction rolls back: no key is kept
//			}
//			return json.Marshal(placed)
//		})
//		...
//	})
//
// A repeat with the same key and request returns the first result without
// running the work again; a concurrent repeat waits on the key's row until
// the first transaction ends and then returns its result (or, when the
// first rolled back, runs the work itself). The same key with another
// request is refused with IDEMPOTENCY_KEY_REUSED. Keys expire after
// Options.TTL (24 hours); DeleteExpired, run by the idempotency.expiry
// worker that core/app starts, removes them in batches.
//
// Scopes keep the uses of keys apart ("checkout", "order.bulk"): the same
// key in two scopes is two keys. Where buyers send keys, the scope is
// narrowed to the caller's own keys, so that buyers never meet each
// other's (staff and API keys share the shop's):
//
//	scope := idempotency.Owned(cart.CheckoutScope, idempotency.OwnerOf(ctx, cartToken))
//	raw, ran, err := keys.DoAnswered(ctx, scope, key, request, answer, work)
package idempotency
