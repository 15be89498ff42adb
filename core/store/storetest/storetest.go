// Package storetest runs store tests on every supported database.
//
//	func TestProductStore(t *testing.T) {
//		storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
//			// db is migrated, empty and private to this test
//		})
//	}
//
// SQLite always runs, on a file in t.TempDir(). PostgreSQL runs when
// KASSA_TEST_POSTGRES_DSN is set, in a schema of its own that is dropped
// afterwards, so tests may run in parallel. Under CI (CI=true) a missing
// or unreachable PostgreSQL fails the test instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/migrations"
)

// PostgresDSNEnv names the variable holding the test PostgreSQL DSN.
const PostgresDSNEnv = "KASSA_TEST_POSTGRES_DSN"

// ForEachDB runs fn as a subtest per database ("sqlite", "postgres"), each
// with a fresh, migrated database.
func ForEachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, NewSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, NewPostgres(t))
	})
}

// Migrated applies every migration to db or fails the test.
func Migrated(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	m, err := store.NewMigrator(db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// NewSQLite returns a migrated SQLite database in a temporary directory.
func NewSQLite(t testing.TB) *store.DB {
	t.Helper()
	return Migrated(t, OpenSQLite(t))
}

// OpenSQLite returns an empty, unmigrated SQLite database.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kassa.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// NewPostgres returns a migrated PostgreSQL database in a schema of its
// own, or skips (fails under CI) when no test server is configured.
func NewPostgres(t testing.TB) *store.DB {
	t.Helper()
	return Migrated(t, OpenPostgres(t))
}

// PostgresDSN returns the test server's DSN, skipping the test when none is
// configured outside CI and failing it under CI.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: PostgreSQL tests must run in CI", PostgresDSNEnv)
		}
		t.Skipf("%s not set; PostgreSQL tests skipped", PostgresDSNEnv)
	}
	return dsn
}

// OpenPostgres returns an empty, unmigrated PostgreSQL database in a fresh
// schema that is dropped when the test ends.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	ctx := context.Background()
	admin, err := store.Open(ctx, dsn, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("PostgreSQL at %s is unreachable: %v", dsn, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	db, err := store.Open(ctx, withSearchPath(dsn, schema), store.Options{MaxOpenConns: 8})
	if err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	return db
}

// DSNOf returns a DSN that opens db's schema again (a second "process" on
// the same PostgreSQL test database).
func DSNOf(t testing.TB, db *store.DB) string {
	t.Helper()
	var schema string
	if err := db.NewRaw("SELECT current_schema()").Scan(context.Background(), &schema); err != nil {
		t.Fatal(err)
	}
	return withSearchPath(PostgresDSN(t), schema)
}

func withSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil || !strings.Contains(dsn, "://") {
		return fmt.Sprintf("%s search_path=%s", dsn, schema)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// GenericPlan returns PostgreSQL's generic plan of text (a statement with
// $n placeholders, as store.DB sends it): the plan a prepared statement
// keeps once PostgreSQL stops planning it per call, made from the tables'
// statistics as they are now, which on a new database are none. EXPLAIN
// without ANALYZE: a write is planned, not run.
func GenericPlan(t testing.TB, db *store.DB, text string) string {
	t.Helper()
	if db.Dialect != store.Postgres {
		t.Fatal("GenericPlan: PostgreSQL only")
	}
	ctx := context.Background()
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := 0
	for i := 0; i < len(text); i++ {
		if text[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(text) && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		if k, err := strconv.Atoi(text[i+1 : j]); err == nil && k > n {
			n = k
		}
	}
	args := make([]string, n)
	for i := range args {
		args[i] = "NULL"
	}
	execute := "EXPLAIN EXECUTE kassa_plan_check"
	if n > 0 {
		execute += "(" + strings.Join(args, ", ") + ")"
	}
	for _, q := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE kassa_plan_check AS " + text} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer func() {
		_, _ = conn.ExecContext(ctx, "DEALLOCATE kassa_plan_check")
		_, _ = conn.ExecContext(ctx, "RESET plan_cache_mode")
	}()
	rows, err := conn.QueryContext(ctx, execute)
	if err != nil {
		t.Fatalf("explain %s: %v", text, err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
