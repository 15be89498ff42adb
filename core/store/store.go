package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database engine behind a DB.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is Kassa's database handle.
type DB struct {
	*bun.DB
	// Dialect is the engine in use.
	Dialect Dialect
	// path is the SQLite database file ("" on PostgreSQL).
	path string
	// stmts are the prepared statements of QueryStmt (stmt.go).
	stmts stmtCache
	// writer lets one SQLite transaction at a time hold a connection
	// (writer.go); nil on PostgreSQL.
	writer writerSlot
}

// Options tune Open.
type Options struct {
	// MaxOpenConns caps the pool; 0 picks a default for the engine:
	// PostgreSQL 4 per CPU (the cap also admits only as many
	// transactions as the database can work on: more wait longer on the
	// same rows), SQLite 4 per CPU and at least 8 (its transactions wait
	// for the one writer slot without a connection, so the pool serves
	// reads beside the writer; see writer.go).
	MaxOpenConns int
}

// Open connects to the database named by url: "postgres://..." or
// "postgresql://..." for PostgreSQL, "sqlite:PATH", "file:PATH" or a plain
// path for SQLite. SQLite runs in WAL mode with foreign keys on, a busy
// timeout, and write transactions that take the lock when they begin so
// concurrent writers queue instead of failing. On SQLite the transactions
// of one DB queue for one writer slot before they take a connection
// (writer.go), so the pool (Options.MaxOpenConns, default 4 per CPU, at
// least 8) serves reads beside the writer.
func Open(ctx context.Context, rawURL string, opt Options) (*DB, error) {
	var (
		sqldb   *sql.DB
		dialect Dialect
		err     error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		dialect = Postgres
		sqldb, err = sql.Open("pgx", withExecMode(rawURL))
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		n := opt.MaxOpenConns
		if n == 0 {
			n = 4 * runtime.GOMAXPROCS(0)
		}
		sqldb.SetMaxOpenConns(n)
		sqldb.SetMaxIdleConns(n)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
	default:
		dialect = SQLite
		path := sqlitePath(rawURL)
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		if err := createPrivate(path); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
			q.Add("_pragma", p)
		}
		// Every transaction takes the write lock at BEGIN: a deferred
		// transaction that upgrades later can fail with SQLITE_BUSY at
		// once, bypassing the busy timeout.
		q.Set("_txlock", "immediate")
		sqldb, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		n := opt.MaxOpenConns
		if n == 0 {
			// Reads run beside the one writer (WAL) and transactions
			// wait for the writer slot without a connection (writer.go),
			// so the pool serves reads: as many as the cores can run,
			// and a few more for reads waiting on the disk.
			n = max(8, 4*runtime.GOMAXPROCS(0))
		}
		sqldb.SetMaxOpenConns(n)
		sqldb.SetMaxIdleConns(n)
		sqldb.SetConnMaxLifetime(0)
	}

	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pingCtx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connect %s database: %w", dialect, err)
	}

	var db *bun.DB
	var file string
	if dialect == Postgres {
		db = bun.NewDB(sqldb, pgdialect.New())
	} else {
		db = bun.NewDB(sqldb, sqlitedialect.New())
		file = sqlitePath(rawURL)
	}
	return &DB{DB: db, Dialect: dialect, path: file, writer: newWriterSlot(dialect)}, nil
}

// createPrivate creates the SQLite file at path readable by its owner only,
// and takes group and world access away from an existing one and its WAL
// and shared-memory files. SQLite would create the file with the process
// umask (0644 by default); it gives the -wal and -shm files it creates the
// mode of the database file, so they follow. In-memory databases have no
// file.
func createPrivate(path string) error {
	if strings.HasPrefix(path, ":memory:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue // no WAL yet
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("make %s private: %w", p, err)
			}
		}
	}
	return nil
}

// sqlitePath extracts the file path of a SQLite URL.
// SQLiteFile returns the file a SQLite database URL (or plain path)
// names, and false for a PostgreSQL URL.
func SQLiteFile(rawURL string) (string, bool) {
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		return "", false
	}
	return sqlitePath(rawURL), true
}

func sqlitePath(rawURL string) string {
	path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "file:")
	path = strings.TrimPrefix(path, "//")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

type txKey struct{}

type txState struct {
	tx          bun.Tx
	afterCommit []func()
	// touched is what the transaction changed, for caches (touch.go).
	touched map[any]bool
}

// RunInTx runs fn in a transaction. When ctx already carries one, fn joins
// it and the outermost caller commits or rolls back. fn must use Conn(ctx)
// for every query.
func (db *DB) RunInTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*txState); ok {
		return fn(ctx)
	}
	st := &txState{}
	err := db.runInTx(ctx, st, fn)
	if err != nil {
		return err
	}
	for _, f := range st.afterCommit {
		f()
	}
	return nil
}

// RunWrite runs fn, which writes with a single statement, the cheapest
// atomic way on each engine: in a transaction on SQLite (so it waits in
// turn for the writer slot rather than in SQLite's busy timeout) and as
// it is on PostgreSQL, where a statement outside a transaction commits on
// its own and BEGIN and COMMIT would add two round trips. When ctx
// carries a transaction, fn joins it.
func (db *DB) RunWrite(ctx context.Context, fn func(ctx context.Context) error) error {
	if db.Dialect == SQLite {
		return db.RunInTx(ctx, fn)
	}
	return fn(ctx)
}

// runInTx runs fn in a new transaction holding the SQLite writer slot.
func (db *DB) runInTx(ctx context.Context, st *txState, fn func(ctx context.Context) error) error {
	defer db.writer.acquire(ctx)()
	return db.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st.tx = tx
		return fn(context.WithValue(ctx, txKey{}, st))
	})
}

// Conn returns the transaction carried by ctx, or the pool.
func (db *DB) Conn(ctx context.Context) bun.IDB {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.tx
	}
	return db.DB
}

// InTx reports whether ctx carries an open transaction.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*txState)
	return ok
}

// AfterCommit runs f once the transaction carried by ctx has committed, or
// at once when ctx carries none. Use it for side effects that must not
// happen for a rolled-back change (waking the outbox relay, answering a
// webhook).
func AfterCommit(ctx context.Context, f func()) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		st.afterCommit = append(st.afterCommit, f)
		return
	}
	f()
}

// IsUniqueViolation reports whether err is a unique or primary key
// constraint violation on either engine.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign key violation on
// either engine.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// IsNoRows reports whether err means a query found nothing.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
