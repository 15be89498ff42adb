package account_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/migrations"
)

// TestMigrationTracesExistingKeys checks migration 0005 on both engines:
// keys made before it answer to the staff member behind their created_by,
// through a chain of keys too; keys of the system answer to nobody.
func TestMigrationTracesExistingKeys(t *testing.T) {
	ctx := context.Background()
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(engine.name, func(t *testing.T) {
			db := engine.open(t)
			// The schema as it was before 0005.
			before := filterFS{migrations.FS, func(name string) bool { return name < "0005" }}
			m, err := store.NewMigrator(db, before)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			if _, err := db.ExecContext(ctx, `INSERT INTO staff_members (id, email, status, created_at, updated_at) VALUES ('stf_dev', 'dev@shop.example', 'active', ?, ?)`, now, now); err != nil {
				t.Fatal(err)
			}
			for i, k := range [][2]string{{"key_a", "stf_dev"}, {"key_b", "key_a"}, {"key_c", "key_b"}, {"key_sys", "system:cli"}} {
				if _, err := db.ExecContext(ctx, `INSERT INTO api_keys (id, name, token_hash, hint, created_by, created_at) VALUES (?, ?, ?, 'h', ?, ?)`,
					k[0], k[0], strings.Repeat("x", i+1), k[1], now); err != nil {
					t.Fatal(err)
				}
			}
			storetest.Migrated(t, db)
			var rows []struct {
				ID      string  `bun:"id"`
				Creator *string `bun:"creator_staff_id"`
			}
			if err := db.NewSelect().Table("api_keys").Column("id", "creator_staff_id").OrderExpr("id").Scan(ctx, &rows); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range rows {
				got[r.ID] = "<nil>"
				if r.Creator != nil {
					got[r.ID] = *r.Creator
				}
			}
			want := map[string]string{"key_a": "stf_dev", "key_b": "stf_dev", "key_c": "stf_dev", "key_sys": "<nil>"}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("%s answers to %s, want %s", id, got[id], w)
				}
			}
		})
	}
}

// filterFS shows the files of an fs.FS whose names keep passes.
type filterFS struct {
	fsys fs.FS
	keep func(string) bool
}

func (f filterFS) Open(name string) (fs.File, error) {
	if name != "." && !f.keep(name) {
		return nil, fs.ErrNotExist
	}
	return f.fsys.Open(name)
}

func (f filterFS) ReadDir(name string) ([]fs.DirEntry, error) {
	all, err := fs.ReadDir(f.fsys, name)
	if err != nil {
		return nil, err
	}
	var out []fs.DirEntry
	for _, e := range all {
		if f.keep(e.Name()) {
			out = append(out, e)
		}
	}
	return out, nil
}
