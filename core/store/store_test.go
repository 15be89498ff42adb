package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/migrations"
)

func TestRunInTxJoinsAndRollsBack(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, "CREATE TABLE tx_probe (id TEXT PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		count := func() int64 {
			n, err := db.NewSelect().Table("tx_probe").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		insert := func(ctx context.Context, id string) error {
			_, err := db.Conn(ctx).NewRaw("INSERT INTO tx_probe (id) VALUES (?)", id).Exec(ctx)
			return err
		}

		committed := false
		boom := errors.New("boom")
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			if err := insert(ctx, "a"); err != nil {
				return err
			}
			store.AfterCommit(ctx, func() { committed = true })
			// The inner call joins the outer transaction, so its insert is
			// rolled back with it.
			return db.RunInTx(ctx, func(ctx context.Context) error {
				if !store.InTx(ctx) {
					t.Error("inner call has no transaction")
				}
				if err := insert(ctx, "b"); err != nil {
					return err
				}
				return boom
			})
		})
		if !errors.Is(err, boom) {
			t.Fatalf("RunInTx error = %v, want boom", err)
		}
		if n := count(); n != 0 {
			t.Fatalf("rolled back transaction left %d rows", n)
		}
		if committed {
			t.Fatal("after-commit hook ran for a rolled-back transaction")
		}

		if err := db.RunInTx(ctx, func(ctx context.Context) error {
			store.AfterCommit(ctx, func() { committed = true })
			return insert(ctx, "a")
		}); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 || !committed {
			t.Fatalf("after commit: rows=%d hook=%v", n, committed)
		}

		err = insert(ctx, "a")
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: IsUniqueViolation(%v) = false", err)
		}
	})
}

// TestMigrationsUpDownUp applies every migration, rolls them all back,
// applies them again and checks that the schema is the same as after the
// first pass, and that rolling back leaves no table behind.
func TestMigrationsUpDownUp(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { checkUpDownUp(t, storetest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { checkUpDownUp(t, storetest.OpenPostgres(t)) })
}

func checkUpDownUp(t *testing.T, db *store.DB) {
	ctx := context.Background()
	m, err := store.NewMigrator(db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 {
		t.Fatal("no migrations applied")
	}
	first := schemaOf(t, db)

	for {
		rolled, err := m.Down(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rolled) == 0 {
			break
		}
		if len(rolled) != 1 {
			t.Fatalf("down rolled back %v at once, want one migration per call", rolled)
		}
	}
	if left := schemaOf(t, db); len(left) != 0 {
		t.Fatalf("tables left after rolling back every migration: %v", left)
	}
	status, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		if s.Applied {
			t.Fatalf("%s still marked applied after rollback", s.Name)
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, schemaOf(t, db)); diff != "" {
		t.Fatalf("schema after up/down/up differs (-first +second):\n%s", diff)
	}
}

// TestMigrationsRefuseNewerSchema: on a database a newer Kassa migrated
// (a migration this binary does not know is applied), up and down fail
// with ErrSchemaNewer and change nothing, and status lists the unknown
// migration, so an older binary started after a failed upgrade does not
// serve on a schema it was not written for.
func TestMigrationsRefuseNewerSchema(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { checkRefuseNewer(t, storetest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { checkRefuseNewer(t, storetest.OpenPostgres(t)) })
}

func checkRefuseNewer(t *testing.T, db *store.DB) {
	ctx := context.Background()
	m, err := store.NewMigrator(db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewRaw("INSERT INTO bun_migrations (name, group_id, migrated_at) VALUES ('9999', 99, CURRENT_TIMESTAMP)").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	before := schemaOf(t, db)
	if _, err := m.Up(ctx); !errors.Is(err, store.ErrSchemaNewer) || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("up on a newer schema: %v, want ErrSchemaNewer naming 9999", err)
	}
	if _, err := m.Down(ctx); !errors.Is(err, store.ErrSchemaNewer) {
		t.Fatalf("down on a newer schema: %v, want ErrSchemaNewer", err)
	}
	if diff := cmp.Diff(before, schemaOf(t, db)); diff != "" {
		t.Fatalf("refused up and down changed the schema (-before +after):\n%s", diff)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := st[len(st)-1]
	if last != (store.MigrationStatus{Name: "9999", Applied: true, Unknown: true}) {
		t.Fatalf("status ends with %+v, want the unknown migration 9999", last)
	}
	for _, s := range st[:len(st)-1] {
		if !s.Applied || s.Unknown {
			t.Fatalf("status %+v, want every known migration applied", s)
		}
	}
}

// schemaOf describes the application tables: table -> column definitions
// and index names, excluding the migration bookkeeping tables.
func schemaOf(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	var rows []struct {
		Tbl  string
		Desc string
	}
	var q string
	if db.Dialect == store.Postgres {
		q = `SELECT table_name AS tbl, column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS desc
		     FROM information_schema.columns WHERE table_schema = current_schema()
		     UNION ALL
		     SELECT tablename AS tbl, 'index ' || indexdef AS desc FROM pg_indexes WHERE schemaname = current_schema()`
	} else {
		q = `SELECT m.name AS tbl, p.name || ' ' || p.type || ' ' || p."notnull" || ' ' || coalesce(p.dflt_value, '') AS desc
		     FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'
		     UNION ALL
		     SELECT tbl_name AS tbl, 'index ' || coalesce(sql, name) AS desc FROM sqlite_master WHERE type = 'index'`
	}
	if err := db.NewRaw(q).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Tbl == "bun_migrations" || r.Tbl == "bun_migration_locks" || r.Tbl == "sqlite_sequence" {
			continue
		}
		out[r.Tbl] = append(out[r.Tbl], r.Desc)
	}
	for _, cols := range out {
		sort.Strings(cols)
	}
	return out
}

// TestMigrationsConcurrentStarts: instances starting together on an empty
// database all succeed; one applies the migrations, the others wait for it
// and find nothing to do.
func TestMigrationsConcurrentStarts(t *testing.T) {
	open := map[string]func(t *testing.T) (string, func(t *testing.T) *store.DB){
		"sqlite": func(t *testing.T) (string, func(t *testing.T) *store.DB) {
			path := filepath.Join(t.TempDir(), "kassa.db")
			return path, func(t *testing.T) *store.DB {
				db, err := store.Open(context.Background(), path, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
		},
		"postgres": func(t *testing.T) (string, func(t *testing.T) *store.DB) {
			first := storetest.OpenPostgres(t)
			dsn := storetest.DSNOf(t, first)
			return dsn, func(t *testing.T) *store.DB {
				db, err := store.Open(context.Background(), dsn, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
		},
	}
	for name, mk := range open {
		t.Run(name, func(t *testing.T) {
			_, newDB := mk(t)
			const n = 4
			applied := make(chan []string, n)
			errc := make(chan error, n)
			for i := 0; i < n; i++ {
				db := newDB(t)
				go func() {
					m, err := store.NewMigrator(db, migrations.FS)
					if err != nil {
						errc <- err
						return
					}
					got, err := m.Up(context.Background())
					errc <- err
					applied <- got
				}()
			}
			total := 0
			for i := 0; i < n; i++ {
				if err := <-errc; err != nil {
					t.Fatalf("concurrent migrate up: %v", err)
				}
				total += len(<-applied)
			}
			m, _ := store.NewMigrator(newDB(t), migrations.FS)
			pending, err := m.Pending(context.Background())
			if err != nil || len(pending) != 0 || total == 0 {
				t.Fatalf("after concurrent starts: %d applied in all, pending %v, %v", total, pending, err)
			}
			st, _ := m.Status(context.Background())
			if total != len(st) {
				t.Fatalf("%d migrations applied by %d processes together, want each applied once (%d)", total, n, len(st))
			}
		})
	}
}

// TestSQLiteFilesArePrivate: the database file and the WAL and
// shared-memory files SQLite creates beside it are readable by the owner
// only, whatever the umask; an existing world-readable file is tightened.
func TestSQLiteFilesArePrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "kassa.db")
	wantPrivate := func(when string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", when, filepath.Base(p), m)
			}
		}
	}
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE mode_probe (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO mode_probe (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	wantPrivate("after a write")
	db.Close()

	// A database created by an older Kassa, before this rule.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, "sqlite:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "INSERT INTO mode_probe (id) VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	wantPrivate("after reopening a 0644 file")
}
