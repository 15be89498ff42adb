package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/store"
)

// Limits and defaults.
const (
	// MaxKeyLength is the longest key, in bytes (printable ASCII only).
	MaxKeyLength = 255
	// DefaultTTL is how long a key is kept when Options.TTL is zero.
	DefaultTTL = 24 * time.Hour
	// DefaultBatchSize is how many expired keys one DELETE removes when
	// Options.BatchSize is zero.
	DefaultBatchSize = 500
	// maxScopeLength bounds a scope, which code chooses.
	maxScopeLength = 64
)

// Options configure NewKeys. Every field defaults when zero.
type Options struct {
	// Clock dates keys and decides which have expired; nil is the system
	// clock.
	Clock clock.Clock
	// TTL is how long a key holds its result; zero is DefaultTTL. A key
	// used again after it expired runs its work again.
	TTL time.Duration
	// BatchSize is how many expired keys DeleteExpired removes per
	// statement; zero is DefaultBatchSize.
	BatchSize int
}

// Keys records idempotency keys and their results. It asks no
// authorizer: the operation that takes a key has checked its caller, and
// a key reaches only its scope. Every method joins the transaction in
// ctx.
type Keys struct {
	db    *store.DB
	store *keyStore
	clock clock.Clock
	ttl   time.Duration
	batch int
}

// NewKeys returns the idempotency keys over db. It fails when db is nil
// or an option is negative.
func NewKeys(db *store.DB, opts Options) (*Keys, error) {
	switch {
	case db == nil:
		return nil, errors.New("idempotency: no database")
	case opts.TTL < 0:
		return nil, errors.New("idempotency: Options.TTL must not be negative")
	case opts.BatchSize < 0:
		return nil, errors.New("idempotency: Options.BatchSize must not be negative")
	}
	k := &Keys{db: db, store: newKeyStore(db), clock: opts.Clock, ttl: opts.TTL, batch: opts.BatchSize}
	if k.clock == nil {
		k.clock = clock.System
	}
	if k.ttl == 0 {
		k.ttl = DefaultTTL
	}
	if k.batch == 0 {
		k.batch = DefaultBatchSize
	}
	return k, nil
}

// TTL is how long a key holds its result: a retry within it is answered
// with the first call's result.
func (k *Keys) TTL() time.Duration { return k.ttl }

// now is the current time, cut to the microsecond PostgreSQL keeps.
func (k *Keys) now() time.Time { return k.clock.Now().UTC().Truncate(time.Microsecond) }

// ValidKey reports whether key is acceptable to Do: 1 to MaxKeyLength
// printable ASCII characters (a UUID, a ULID, a client's own scheme).
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyLength {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// Do runs fn once per (scope, key) and returns its result, in the
// transaction carried by ctx (or a transaction of its own).
//
//   - The first call records the key with the SHA-256 of request, runs fn
//     in the same transaction and stores fn's result there.
//   - A later call with the same request returns the stored result and
//     does not run fn. A concurrent call waits until the first
//     transaction ends: it then returns the stored result, or runs fn
//     itself when the first rolled back.
//   - The same key with another request is refused with CodeKeyReused.
//   - When fn fails, Do returns its error and the transaction must roll
//     back (it does when Do owns it, and when the caller's RunInTx returns
//     the error): nothing is kept, so a retry runs fn again.
//
// request is what the caller asks for, in a form that is equal for
// equal requests (the cart completed, the ids of a bulk action). An
// invalid key is refused with CodeInvalidKey (field "idempotencyKey")
// before anything is written. scope is chosen by code, narrowed to a
// buyer's keys by Owned where buyers send keys: an invalid one is a plain
// error.
func (k *Keys) Do(ctx context.Context, scope, key string, request []byte, fn func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	out, _, err := k.do(ctx, scope, key, request, nil, fn)
	return out, err
}

// DoAnswered is Do for work whose result, answer, is known before it runs
// (the ids of what it will create, which a retry reads back): answer is
// stored with the claim, in the same statement, so nothing is written to
// the key after fn, while fn's own writes hold their locks. It returns
// the stored result and whether fn ran in this call: when it did not, the
// result is answer as an earlier call stored it. The guarantees are Do's:
// a concurrent call waits for the first transaction and then returns its
// answer, or runs fn itself when the first rolled back, since the answer
// is stored if and only if fn's work commits with it. Unlike Do, a second
// call with the same key inside the first's own transaction, before fn
// returns, gets the answer rather than CodeKeyInUse.
func (k *Keys) DoAnswered(ctx context.Context, scope, key string, request, answer []byte, fn func(ctx context.Context) error) ([]byte, bool, error) {
	if answer == nil {
		answer = []byte{} // as a replay reads it back
	}
	return k.do(ctx, scope, key, request, answer, func(ctx context.Context) ([]byte, error) { return nil, fn(ctx) })
}

// do is Do and DoAnswered: answer, when not nil, is stored with the
// claim, and fn's result is then ignored. ran reports whether fn ran.
func (k *Keys) do(ctx context.Context, scope, key string, request, answer []byte, fn func(ctx context.Context) ([]byte, error)) (out []byte, ran bool, err error) {
	if !validScope(scope) {
		return nil, false, fmt.Errorf("idempotency: invalid scope %q", scope)
	}
	if !ValidKey(key) {
		return nil, false, invalidKey()
	}
	sum := sha256.Sum256(request)
	hash := hex.EncodeToString(sum[:])
	err = k.db.RunInTx(ctx, func(ctx context.Context) error {
		// Two rounds at most: a row read as taken may be deleted by the
		// expiry worker before it is read back; the second claim then
		// takes the key.
		for range 2 {
			now := k.now()
			claimed, err := k.store.Claim(ctx, scope, key, hash, answer, now, now.Add(k.ttl))
			if err != nil {
				return err
			}
			if claimed {
				res, err := fn(ctx)
				if err != nil {
					return err
				}
				ran = true
				if answer != nil {
					out = answer
					return nil
				}
				if res == nil {
					res = []byte{} // as a replay reads it back
				}
				if err := k.store.SaveResponse(ctx, scope, key, res); err != nil {
					return err
				}
				out = res
				return nil
			}
			rec, found, err := k.store.Get(ctx, scope, key)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			switch {
			case rec.RequestHash != hash:
				return keyReused()
			case rec.Response == nil:
				return keyInUse()
			}
			out = rec.Response
			return nil
		}
		return fmt.Errorf("idempotency: key %s/%s vanished twice while it was read", scope, key)
	})
	if err != nil {
		return nil, false, err
	}
	return out, ran, nil
}

// Lookup tells, without writing, what Do would make of the key now: an
// error when Do would refuse it (CodeInvalidKey, CodeKeyReused for
// another request, CodeKeyInUse while a first call's result is not
// stored), replay true when Do would return a stored result without
// running fn, false when fn would run. For work with effects outside the
// database before Do (a gateway called), which must not happen for a
// request Do is going to refuse or replay. Do still decides: a call
// between Lookup and Do can take the key.
func (k *Keys) Lookup(ctx context.Context, scope, key string, request []byte) (replay bool, err error) {
	if !validScope(scope) {
		return false, fmt.Errorf("idempotency: invalid scope %q", scope)
	}
	if !ValidKey(key) {
		return false, invalidKey()
	}
	rec, found, err := k.store.Get(ctx, scope, key)
	switch {
	case err != nil:
		return false, err
	case !found, !rec.Expires.After(k.now()):
		return false, nil // an expired key is Claim's to take again
	}
	sum := sha256.Sum256(request)
	switch {
	case rec.RequestHash != hex.EncodeToString(sum[:]):
		return false, keyReused()
	case rec.Response == nil:
		return false, keyInUse()
	}
	return true, nil
}

// validScope reports whether scope, as Owned returns it, is one code may
// use: a name of at most maxScopeLength printable ASCII characters
// without the owner separator, and an owner of at most maxOwnerLength
// when there is one.
func validScope(scope string) bool {
	name, owner, owned := strings.Cut(scope, ownerSeparator)
	if name == "" || len(name) > maxScopeLength || !ValidKey(name) {
		return false
	}
	return !owned || (len(owner) <= maxOwnerLength && ValidKey(owner))
}

// DeleteExpired deletes every expired key, BatchSize rows per statement,
// until none is left or ctx is done. Its signature is a worker.Periodic's
// round: core/app runs it as the idempotency.expiry worker. Several
// instances may run it at once: deleting a row twice deletes it once, so
// no claim is needed.
func (k *Keys) DeleteExpired(ctx context.Context) error {
	now := k.now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := k.store.DeleteExpired(ctx, now, k.batch)
		if err != nil {
			return err
		}
		if n < int64(k.batch) {
			return nil
		}
	}
}
