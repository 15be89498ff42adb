package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
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
	m     *migrate.Migrator
	known map[string]bool // versions of the migrations this binary has
	db    *DB
}

// ErrSchemaNewer is returned when the database has migrations applied that
// this binary does not know: a newer Kassa upgraded it.
var ErrSchemaNewer = errors.New("the database schema is newer than this kassa")

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
	known := map[string]bool{}
	for v := range versions {
		known[v] = true
	}
	return &Migrator{m: migrate.NewMigrator(db.DB, ms, migrate.WithMarkAppliedOnSuccess(true)), known: known, db: db}, nil
}

// lock serializes migrations between processes and waits for its turn.
// bun's own lock is a row that fails at once when taken and stays behind
// when its holder dies; instead, PostgreSQL takes a session advisory lock
// (per schema, released with the connection) and SQLite an flock on a file
// beside the database (released by the kernel when the process ends).
func (m *Migrator) lock(ctx context.Context) (unlock func(), err error) {
	if m.db.Dialect == Postgres {
		conn, err := m.db.DB.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		const key = "SELECT hashtext(current_schema() || '.kassa_migrations')"
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(("+key+"))"); err != nil {
			conn.Close()
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		return func() {
			_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(("+key+"))")
			conn.Close()
		}, nil
	}
	if m.db.path == "" {
		return func() {}, nil
	}
	return lockFile(ctx, m.db.path+".migrate.lock")
}

// init prepares bun's bookkeeping table; run under lock.
func (m *Migrator) init(ctx context.Context) error {
	if err := m.m.Init(ctx); err != nil {
		return fmt.Errorf("init migrations: %w", err)
	}
	return nil
}

// newer returns the versions of the applied migrations this binary does
// not know, in order.
func (m *Migrator) newer(ctx context.Context) ([]string, error) {
	applied, err := m.m.AppliedMigrations(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	var out []string
	for _, x := range applied {
		if !m.known[x.Name] {
			out = append(out, x.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// RefuseNewer fails with ErrSchemaNewer when a newer Kassa migrated the
// database (after Status, Up or Down prepared the bookkeeping table). Running on it would fail in ways no test has seen (an older
// binary knows nothing of the new columns' rules), and rolling back would
// undo this binary's last migration underneath the newer ones.
func (m *Migrator) RefuseNewer(ctx context.Context) error {
	newer, err := m.newer(ctx)
	if err != nil || len(newer) == 0 {
		return err
	}
	return fmt.Errorf("%w: a newer Kassa applied migrations this one does not know (%s); "+
		"run that version or a later one, or restore the backup taken before the upgrade", ErrSchemaNewer, strings.Join(newer, ", "))
}

// Up applies every pending migration and returns the names applied. Several
// processes may call it at once: one applies, the others wait and find
// nothing left to do. It fails with ErrSchemaNewer, changing nothing, on a
// database a newer Kassa migrated.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := m.init(ctx); err != nil {
		return nil, err
	}
	if err := m.RefuseNewer(ctx); err != nil {
		return nil, err
	}
	group, err := m.m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	return names(group), nil
}

// Down rolls back the most recently applied migration, one per call, and
// returns its name (nil when none is applied). Like Up, it refuses a
// database a newer Kassa migrated.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := m.init(ctx); err != nil {
		return nil, err
	}
	if err := m.RefuseNewer(ctx); err != nil {
		return nil, err
	}
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	applied := ms.Applied() // newest first
	if len(applied) == 0 {
		return nil, nil
	}
	last := applied[0]
	for _, x := range applied[1:] {
		if x.Name > last.Name {
			last = x
		}
	}
	if last.Down != nil {
		if err := last.Down(ctx, m.m, &last); err != nil {
			return nil, fmt.Errorf("migrate down %s_%s: %w", last.Name, last.Comment, err)
		}
	}
	if err := m.m.MarkUnapplied(ctx, &last); err != nil {
		return nil, fmt.Errorf("migrate down %s_%s: %w", last.Name, last.Comment, err)
	}
	return []string{last.Name + "_" + last.Comment}, nil
}

// Pending returns the names of the migrations not applied yet.
func (m *Migrator) Pending(ctx context.Context) ([]string, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range st {
		if !s.Applied {
			out = append(out, s.Name)
		}
	}
	return out, nil
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name    string
	Applied bool
	// Unknown marks a migration applied by a newer Kassa: only its
	// version is known.
	Unknown bool
}

// Status lists every known migration in order, then the applied ones this
// binary does not know (Unknown).
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	err = m.init(ctx)
	unlock()
	if err != nil {
		return nil, err
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
	newer, err := m.newer(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range newer {
		out = append(out, MigrationStatus{Name: v, Applied: true, Unknown: true})
	}
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
