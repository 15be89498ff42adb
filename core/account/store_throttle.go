package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// The queries of sign-in throttling and of the account email limits
// (ThrottlePolicy, MailPolicy): failure counts per key.

func (st *accountStore) throttleRows(ctx context.Context, keys []string) ([]throttleRow, error) {
	var out []throttleRow
	if err := st.conn(ctx).NewSelect().Model(&out).Where("key IN (?)", bun.In(keys)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read throttle: %w", err)
	}
	return out, nil
}

// recordFailure adds one failure to key, restarting the count when the
// last failure is older than window, and returns the new count.
func (st *accountStore) recordFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	row := &throttleRow{Key: key, Failures: 1, LastFailureAt: now}
	var failures int
	err := st.conn(ctx).NewInsert().Model(row).
		On("CONFLICT (key) DO UPDATE").
		Set("failures = CASE WHEN ?TableAlias.last_failure_at < ? THEN 1 ELSE ?TableAlias.failures + 1 END", now.Add(-window)).
		Set("last_failure_at = EXCLUDED.last_failure_at").
		Returning("failures").Scan(ctx, &failures)
	if err != nil {
		return 0, fmt.Errorf("record failed sign-in: %w", err)
	}
	return failures, nil
}

func (st *accountStore) blockUntil(ctx context.Context, key string, until time.Time) error {
	if _, err := st.conn(ctx).NewUpdate().Model((*throttleRow)(nil)).Set("blocked_until = ?", until).Where("key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("block sign-in: %w", err)
	}
	return nil
}

func (st *accountStore) clearThrottle(ctx context.Context, key string) error {
	if _, err := st.conn(ctx).NewDelete().Model((*throttleRow)(nil)).Where("key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("clear throttle: %w", err)
	}
	return nil
}
