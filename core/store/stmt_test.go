package store_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// hookCounter counts the statements a bun query hook sees.
type hookCounter struct{ before, after atomic.Int64 }

func (h *hookCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	h.before.Add(1)
	return ctx
}
func (h *hookCounter) AfterQuery(context.Context, *bun.QueryEvent) { h.after.Add(1) }

// TestQueryStmt reads with bound arguments through the statement cache on
// both engines: the same text answers other arguments (it is prepared
// once, not with the first values inlined), an IN list of Placeholders
// binds each value, a read in a transaction sees the transaction's own
// rows, and query hooks see every statement.
func TestQueryStmt(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, "CREATE TABLE stmt_probe (id TEXT PRIMARY KEY, n INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO stmt_probe (id, n) VALUES ('a', 1), ('b', 2), ('c', 3), ('d', 4)"); err != nil {
			t.Fatal(err)
		}
		hooks := &hookCounter{}
		db.AddQueryHook(hooks)
		read := func(ctx context.Context, min int, ids ...string) []string {
			t.Helper()
			args := []any{min}
			for _, id := range ids {
				args = append(args, id)
			}
			rows, err := db.QueryStmt(ctx, "SELECT id FROM stmt_probe WHERE n >= ? AND id IN ("+store.Placeholders(len(ids))+") ORDER BY id", args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				out = append(out, id)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}
		tests := []struct {
			name string
			min  int
			ids  []string
			want []string
		}{
			{"every id", 0, []string{"a", "b", "c"}, []string{"a", "b", "c"}},
			{"the same text, other values", 2, []string{"a", "b", "d"}, []string{"b", "d"}},
			{"one id", 0, []string{"c"}, []string{"c"}},
			{"a value that looks like SQL stays a value", 0, []string{"a') OR ('1'='1"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, read(ctx, tt.min, tt.ids...)); diff != "" {
					t.Fatalf("rows (-want +got):\n%s", diff)
				}
			})
		}
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			if _, err := db.Conn(ctx).NewRaw("INSERT INTO stmt_probe (id, n) VALUES ('e', 5)").Exec(ctx); err != nil {
				return err
			}
			if diff := cmp.Diff([]string{"d", "e"}, read(ctx, 4, "d", "e")); diff != "" {
				t.Errorf("in the transaction (-want +got):\n%s", diff)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := hooks.after.Load(); got < 5 || hooks.before.Load() != got {
			t.Fatalf("hooks saw %d statements before and %d after, want the 5 reads (and the insert) each", hooks.before.Load(), got)
		}
	})
}

func TestPlaceholders(t *testing.T) {
	for n, want := range map[int]string{0: "", 1: "?", 3: "?,?,?"} {
		if got := store.Placeholders(n); got != want {
			t.Errorf("Placeholders(%d) = %q, want %q", n, got, want)
		}
	}
}
