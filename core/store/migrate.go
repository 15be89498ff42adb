package store

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"testing/fstest"

	"github.com/uptrace/bun/migrate"
)

// migrationFile matches NNNN_name.up.sql, NNNN_name.down.sql and their
// dialect overrides NNNN_name.postgres.up.sql / NNNN_name.sqlite.down.sql.
var migrationFile = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.(up|down)\.sql$`)

// Migrator applies Kassa's schema migrations. Each migration is a pair of
// SQL files shared by both engines, with an engine-specific override file
// only where the SQL must differ. Every migration runs in one transaction.
type Migrator struct {
	m *migrate.Migrator
}

// NewMigrator prepares the migrations found in fsys for db's dialect.
func NewMigrator(db *DB, fsys fs.FS) (*Migrator, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	type key struct{ version, name, dir string }
	chosen := map[key][]byte{}
	override := map[key]bool{}
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		k := key{m[1], m[2], m[4]}
		if m[3] != "" && Dialect(m[3]) != db.Dialect {
			continue
		}
		if override[k] {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		chosen[k] = b
		if m[3] != "" {
			override[k] = true
		}
	}
	versions := map[string]string{}
	mapfs := fstest.MapFS{}
	for k, b := range chosen {
		if prev, ok := versions[k.version]; ok && prev != k.name {
			return nil, fmt.Errorf("migrations %s_%s and %s_%s share a version", k.version, prev, k.version, k.name)
		}
		versions[k.version] = k.name
		// ".tx." tells bun to run the file in one transaction.
		mapfs[k.version+"_"+k.name+".tx."+k.dir+".sql"] = &fstest.MapFile{Data: b}
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(mapfs); err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{m: migrate.NewMigrator(db.DB, ms, migrate.WithMarkAppliedOnSuccess(true))}, nil
}

// Up applies every pending migration and returns the names applied.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migrations: %w", err)
	}
	if err := m.m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer m.m.Unlock(ctx) //nolint:errcheck // best effort; the lock row is ours
	group, err := m.m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	return names(group), nil
}

// Down rolls back the last applied group of migrations (the ones one Up
// call applied) and returns their names.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migrations: %w", err)
	}
	if err := m.m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer m.m.Unlock(ctx) //nolint:errcheck // best effort
	group, err := m.m.Rollback(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate down: %w", err)
	}
	return names(group), nil
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name    string
	Applied bool
}

// Status lists every known migration in order.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migrations: %w", err)
	}
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, x := range ms {
		out = append(out, MigrationStatus{Name: x.Name + "_" + x.Comment, Applied: x.IsApplied()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func names(g *migrate.MigrationGroup) []string {
	if g == nil {
		return nil
	}
	out := make([]string, 0, len(g.Migrations))
	for _, x := range g.Migrations {
		out = append(out, x.Name+"_"+x.Comment)
	}
	return out
}
