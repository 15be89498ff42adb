package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

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

// TestExecStmt writes with bound arguments through the statement cache,
// outside and inside a transaction (where a rollback undoes it), and
// binds times as bun writes them: a time written by ExecStmt is stored
// as the same text (SQLite) or value (PostgreSQL) as bun's, whatever its
// location, and ScanTime and ScanNullTime read either back.
func TestExecStmt(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, "CREATE TABLE exec_probe (id TEXT PRIMARY KEY, at TIMESTAMP NOT NULL, gone TIMESTAMP)"); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 5, 10, 30, 0, 123456000, time.FixedZone("CST", 8*3600))
		if _, err := db.NewRaw("INSERT INTO exec_probe (id, at, gone) VALUES ('bun', ?, NULL)", at).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecStmt(ctx, "INSERT INTO exec_probe (id, at, gone) VALUES (?, ?, ?)", "stmt", at, (*time.Time)(nil)); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			if _, err := db.ExecStmt(ctx, "INSERT INTO exec_probe (id, at, gone) VALUES (?, ?, ?)", "rolled back", at, &at); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("RunInTx = %v, want boom", err)
		}
		var texts []string
		if err := db.NewRaw("SELECT CAST(at AS TEXT) FROM exec_probe ORDER BY id").Scan(ctx, &texts); err != nil {
			t.Fatal(err)
		}
		if len(texts) != 2 || texts[0] != texts[1] {
			t.Fatalf("stored times %q, want two rows written alike", texts)
		}
		rows, err := db.QueryStmt(ctx, "SELECT id, at, gone FROM exec_probe ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var (
				id   string
				got  time.Time
				gone = &at
			)
			if err := rows.Scan(&id, store.ScanTime(&got), store.ScanNullTime(&gone)); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(at) || got.Location() != time.UTC || gone != nil {
				t.Errorf("%s: read %v and %v, want %v in UTC and nil", id, got, gone, at)
			}
			n++
		}
		if err := rows.Err(); err != nil || n != 2 {
			t.Fatalf("read %d rows (%v), want 2", n, err)
		}
	})
}

// TestStmtInTxWithEveryConnectionTaken: a statement not yet prepared,
// run in a transaction while the transaction holds the pool's only
// connection, runs at once (unprepared, prepared in the background for
// the next run) instead of waiting for a connection to prepare it on.
func TestStmtInTxWithEveryConnectionTaken(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		db.DB.DB.SetMaxOpenConns(1)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := range 3 {
			err := db.RunInTx(ctx, func(ctx context.Context) error {
				rows, err := db.QueryStmt(ctx, "SELECT ? + 1", i)
				if err != nil {
					return err
				}
				defer rows.Close()
				if !rows.Next() {
					return errors.New("no row")
				}
				var n int
				if err := rows.Scan(&n); err != nil {
					return err
				}
				if n != i+1 {
					t.Errorf("read %d, want %d", n, i+1)
				}
				// A connection runs one statement at a time: the rows
				// are closed before the transaction's next one.
				if err := rows.Close(); err != nil {
					return err
				}
				_, err = db.ExecStmt(ctx, "SELECT 1 WHERE ? = 1", i)
				return err
			})
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		}
	})
}

// TestRunWrite: on SQLite the write runs in a transaction (it waits for
// the writer slot), on PostgreSQL on its own; in a transaction it joins
// it either way.
func TestRunWrite(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var inTx bool
		if err := db.RunWrite(ctx, func(ctx context.Context) error { inTx = store.InTx(ctx); return nil }); err != nil {
			t.Fatal(err)
		}
		if want := db.Dialect == store.SQLite; inTx != want {
			t.Errorf("in a transaction: %v, want %v", inTx, want)
		}
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			return db.RunWrite(ctx, func(ctx context.Context) error { inTx = store.InTx(ctx); return nil })
		})
		if err != nil || !inTx {
			t.Errorf("inside a transaction: joined %v (%v), want true", inTx, err)
		}
	})
}
