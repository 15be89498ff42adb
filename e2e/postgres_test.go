package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// postgresURL returns a database URL for `kassa serve --database-url` that
// points at a fresh schema, dropped when the test ends.
func postgresURL(t *testing.T) string {
	t.Helper()
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	admin, err := store.Open(ctx, dsn, store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("PostgreSQL unreachable: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "e2e_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestServeOnPostgres runs the same binary on PostgreSQL: migrate, seed,
// serve, query, stop.
func TestServeOnPostgres(t *testing.T) {
	t.Parallel()
	dbURL := postgresURL(t)
	dir := t.TempDir()
	kassa(t, dir, "migrate", "up", "--database-url", dbURL)
	kassa(t, dir, "seed", "demo", "--database-url", dbURL)
	in := start(t, dir, "--database-url", dbURL)
	var res struct {
		Products struct {
			Edges []struct{ Node struct{ Handle string } }
		}
	}
	in.graphql(`{ products(first: 24) { edges { node { handle } } } }`, nil, &res)
	if len(res.Products.Edges) != 24 {
		t.Fatalf("got %d products on PostgreSQL, want 24", len(res.Products.Edges))
	}
	in.stop()
}
