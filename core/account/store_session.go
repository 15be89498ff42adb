package account

import (
	"context"
	"fmt"
	"time"
)

// The queries of sessions: signed-in browsers and apps.

func (st *accountStore) insertSession(ctx context.Context, s *Session) error {
	if _, err := st.conn(ctx).NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// liveSession returns the unexpired session with the token hash;
// errs.ErrNotFound when there is none.
func (st *accountStore) liveSession(ctx context.Context, tokenHash string, now time.Time) (*Session, error) {
	s := new(Session)
	if err := one(st.conn(ctx).NewSelect().Model(s).Where("token_hash = ? AND expires_at > ?", tokenHash, now).Scan(ctx),
		"session", errSessionNotFound); err != nil {
		return nil, err
	}
	return s, nil
}

func (st *accountStore) deleteSession(ctx context.Context, id string) error {
	if _, err := st.conn(ctx).NewDelete().Model((*Session)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// deleteSessionsOf ends every session of a principal except keep.
func (st *accountStore) deleteSessionsOf(ctx context.Context, kind PrincipalKind, principalID, keep string) error {
	q := st.conn(ctx).NewDelete().Model((*Session)(nil)).Where("principal_kind = ? AND principal_id = ?", kind, principalID)
	if keep != "" {
		q = q.Where("id <> ?", keep)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

// touchSession records activity at most once per interval.
func (st *accountStore) touchSession(ctx context.Context, id string, now time.Time, every time.Duration) error {
	if _, err := st.conn(ctx).NewUpdate().Model((*Session)(nil)).Set("last_seen_at = ?", now).
		Where("id = ? AND last_seen_at < ?", id, now.Add(-every)).Exec(ctx); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

func (st *accountStore) sessionsOf(ctx context.Context, kind PrincipalKind, principalID string) ([]*Session, error) {
	var out []*Session
	if err := st.conn(ctx).NewSelect().Model(&out).Where("principal_kind = ? AND principal_id = ?", kind, principalID).
		OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}
