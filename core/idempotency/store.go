package idempotency

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/store"
)

// keyStore is the persistence of idempotency keys: the only place with
// SQL. Every method runs on the transaction carried by ctx, if any.
type keyStore struct {
	db *store.DB
}

func newKeyStore(db *store.DB) *keyStore { return &keyStore{db: db} }

// record is a stored key as Do reads it back.
type record struct {
	RequestHash string
	// Response is nil while the work that took the key has not stored
	// its result (visible only inside that work's own transaction).
	Response []byte
	// Expires is when the key may be claimed again.
	Expires time.Time
}

// Claim takes the key for the caller's transaction and reports whether
// it did: it inserts the row, or takes over a row that expired but was
// not deleted yet, with response when not nil (DoAnswered), else none
// yet. A row another transaction has inserted and not yet
// committed makes the statement wait (PostgreSQL waits on the primary
// key; SQLite runs one writing transaction at a time), so a concurrent
// duplicate sees the first result once it is committed.
func (s *keyStore) Claim(ctx context.Context, scope, key, hash string, response []byte, now, expires time.Time) (bool, error) {
	var enc *string
	if response != nil {
		e := base64.StdEncoding.EncodeToString(response)
		enc = &e
	}
	rows, err := s.db.QueryStmt(ctx, `INSERT INTO idempotency_keys (scope, idem_key, request_hash, response, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, idem_key) DO UPDATE SET request_hash = excluded.request_hash, response = excluded.response,
			created_at = excluded.created_at, expires_at = excluded.expires_at
		WHERE idempotency_keys.expires_at <= ?
		RETURNING scope`,
		scope, key, hash, enc, now, expires, now,
	)
	if err != nil {
		return false, fmt.Errorf("idempotency: claim key: %w", err)
	}
	defer rows.Close()
	claimed := rows.Next()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("idempotency: claim key: %w", err)
	}
	if err := rows.Close(); err != nil {
		return false, fmt.Errorf("idempotency: claim key: %w", err)
	}
	return claimed, nil
}

// SaveResponse stores the result of the work that claimed the key.
func (s *keyStore) SaveResponse(ctx context.Context, scope, key string, res []byte) error {
	enc := base64.StdEncoding.EncodeToString(res)
	r, err := s.db.ExecStmt(ctx, "UPDATE idempotency_keys SET response = ? WHERE scope = ? AND idem_key = ?", enc, scope, key)
	if err != nil {
		return fmt.Errorf("idempotency: store response: %w", err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return fmt.Errorf("idempotency: store response: key %s/%s is gone", scope, key)
	}
	return nil
}

// Get reads a key; found is false when there is no row.
func (s *keyStore) Get(ctx context.Context, scope, key string) (rec record, found bool, err error) {
	rows, err := s.db.QueryStmt(ctx, "SELECT request_hash, response, expires_at FROM idempotency_keys WHERE scope = ? AND idem_key = ?", scope, key)
	if err != nil {
		return record{}, false, fmt.Errorf("idempotency: read key: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return record{}, false, fmt.Errorf("idempotency: read key: %w", err)
		}
		return record{}, false, nil
	}
	var response *string
	if err := rows.Scan(&rec.RequestHash, &response, &rec.Expires); err != nil {
		return record{}, false, fmt.Errorf("idempotency: read key: %w", err)
	}
	if err := rows.Close(); err != nil {
		return record{}, false, fmt.Errorf("idempotency: read key: %w", err)
	}
	if response != nil {
		rec.Response, err = base64.StdEncoding.DecodeString(*response)
		if err != nil {
			return record{}, false, fmt.Errorf("idempotency: decode response of %s/%s: %w", scope, key, err)
		}
	}
	return rec, true, nil
}

// DeleteExpired deletes up to limit keys that expired at now and returns
// how many it deleted.
func (s *keyStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	r, err := s.db.Conn(ctx).NewRaw(`DELETE FROM idempotency_keys WHERE (scope, idem_key) IN (
			SELECT scope, idem_key FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
		now, limit).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("idempotency: delete expired keys: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("idempotency: delete expired keys: %w", err)
	}
	return n, nil
}
