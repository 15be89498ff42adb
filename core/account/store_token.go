package account

import (
	"context"
	"fmt"
	"time"
)

// The queries of the single-use tokens mailed to people: email
// verification, password resets, the owner setup token.

func (st *accountStore) insertToken(ctx context.Context, t *accountToken) error {
	if _, err := st.conn(ctx).NewInsert().Model(t).Exec(ctx); err != nil {
		return fmt.Errorf("insert account token: %w", err)
	}
	return nil
}

// openToken returns the unused, unexpired token with the hash;
// errs.ErrNotFound when there is none.
func (st *accountStore) openToken(ctx context.Context, purpose TokenPurpose, tokenHash string, now time.Time) (*accountToken, error) {
	t := new(accountToken)
	if err := one(st.conn(ctx).NewSelect().Model(t).
		Where("token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", tokenHash, purpose, now).Scan(ctx),
		"account token", errTokenNotFound); err != nil {
		return nil, err
	}
	return t, nil
}

// useToken marks an open token used; false when someone used it first or
// it expired meanwhile. This conditional update makes tokens single-use.
func (st *accountStore) useToken(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*accountToken)(nil)).Set("used_at = ?", now).
		Where("id = ? AND used_at IS NULL AND expires_at > ?", id, now).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("use account token: %w", err)
	}
	return affected(res, "use account token")
}

// revokeTokens ends the unused tokens of a purpose for a principal ("" for
// the owner setup token).
func (st *accountStore) revokeTokens(ctx context.Context, purpose TokenPurpose, principalID string, now time.Time) error {
	if _, err := st.conn(ctx).NewUpdate().Model((*accountToken)(nil)).Set("used_at = ?", now).
		Where("purpose = ? AND principal_id = ? AND used_at IS NULL", purpose, principalID).Exec(ctx); err != nil {
		return fmt.Errorf("revoke account tokens: %w", err)
	}
	return nil
}
