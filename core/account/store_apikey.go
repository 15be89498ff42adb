package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/page"
)

// The queries of API keys.

func (st *accountStore) insertAPIKey(ctx context.Context, k *APIKey) error {
	if _, err := st.conn(ctx).NewInsert().Model(k).Exec(ctx); err != nil {
		return fmt.Errorf("insert API key: %w", err)
	}
	return nil
}

func (st *accountStore) apiKeyByID(ctx context.Context, id string) (*APIKey, error) {
	k := new(APIKey)
	if err := one(st.conn(ctx).NewSelect().Model(k).Where("id = ?", id).Scan(ctx), "API key", errAPIKeyNotFound); err != nil {
		return nil, err
	}
	return k, nil
}

// liveAPIKey returns the unrevoked key with the hash; errs.ErrNotFound
// when there is none. A key whose
// staff member is disabled is not live either: disabling revokes their
// keys, and this condition also covers keys that escaped that (made in a
// race with the disable, or traced to a disabled member by migration 0005).
func (st *accountStore) liveAPIKey(ctx context.Context, tokenHash string) (*APIKey, error) {
	k := new(APIKey)
	if err := one(st.conn(ctx).NewSelect().Model(k).Where("token_hash = ? AND revoked_at IS NULL", tokenHash).
		Where("(creator_staff_id IS NULL OR EXISTS (SELECT 1 FROM staff_members s WHERE s.id = ?TableAlias.creator_staff_id AND s.status = ?))", StaffActive).
		Scan(ctx), "API key", errAPIKeyNotFound); err != nil {
		return nil, err
	}
	return k, nil
}

func (st *accountStore) listAPIKeys(ctx context.Context, req page.Request) (page.Page[*APIKey], error) {
	var rows []*APIKey
	return keyset(ctx, st.conn(ctx).NewSelect().Model(&rows), &rows, req, func(k *APIKey) string { return k.ID })
}

// revokeAPIKey marks a key revoked; false when it already was.
func (st *accountStore) revokeAPIKey(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*APIKey)(nil)).Set("revoked_at = ?", now).
		Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revoke API key: %w", err)
	}
	return affected(res, "revoke API key")
}

// revokeAPIKeysOf revokes the live keys that answer to a staff member and
// returns them.
func (st *accountStore) revokeAPIKeysOf(ctx context.Context, staffID string, now time.Time) ([]*APIKey, error) {
	var keys []*APIKey
	if err := st.conn(ctx).NewSelect().Model(&keys).Where("creator_staff_id = ? AND revoked_at IS NULL", staffID).
		OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list API keys of %s: %w", staffID, err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i], k.RevokedAt = k.ID, &now
	}
	if _, err := st.conn(ctx).NewUpdate().Model((*APIKey)(nil)).Set("revoked_at = ?", now).
		Where("id IN (?) AND revoked_at IS NULL", bun.In(ids)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("revoke API keys of %s: %w", staffID, err)
	}
	return keys, nil
}

// liveAPIKeysOf returns the unrevoked keys that answer to a staff member.
func (st *accountStore) liveAPIKeysOf(ctx context.Context, staffID string) ([]*APIKey, error) {
	var keys []*APIKey
	if err := st.conn(ctx).NewSelect().Model(&keys).Where("creator_staff_id = ? AND revoked_at IS NULL", staffID).
		OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list API keys of %s: %w", staffID, err)
	}
	return keys, nil
}

// touchAPIKey records use at most once per interval, so a busy integration
// does not write on every request.
func (st *accountStore) touchAPIKey(ctx context.Context, id string, now time.Time, every time.Duration) error {
	if _, err := st.conn(ctx).NewUpdate().Model((*APIKey)(nil)).Set("last_used_at = ?", now).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, now.Add(-every)).Exec(ctx); err != nil {
		return fmt.Errorf("touch API key: %w", err)
	}
	return nil
}
