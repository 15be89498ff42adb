package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// maxStmts bounds the prepared statements a DB keeps. Hot statements have
// fixed texts (an IN list of a page's size at most a few sizes), so a few
// dozen suffice; texts beyond the bound run unprepared.
const maxStmts = 128

// prepareTimeout bounds a background prepare's wait for a connection.
const prepareTimeout = 30 * time.Second

// stmtCache holds the prepared statements of QueryStmt and ExecStmt by
// text, and the query hooks that they run as bun would.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	// pending are the texts being prepared in the background.
	pending map[string]bool
	// closed is set by Close: nothing is prepared any more.
	closed bool
	hooks  []bun.QueryHook
	// background counts the prepares in flight; Close cancels them
	// through stop and waits, so that none holds or opens a connection
	// after Close returns (on SQLite: the database's files are let go).
	background sync.WaitGroup
	bgCtx      context.Context
	stop       context.CancelFunc
}

// AddQueryHook adds a bun query hook that also sees the statements of
// QueryStmt, which bun does not run.
func (db *DB) AddQueryHook(h bun.QueryHook) {
	db.stmts.mu.Lock()
	db.stmts.hooks = append(db.stmts.hooks, h)
	db.stmts.mu.Unlock()
	db.DB.AddQueryHook(h)
}

// QueryStmt runs a statement that returns rows (a read, or a write with
// RETURNING) with bound arguments, written with ? placeholders (turned
// into $n on PostgreSQL). The statement is prepared once per connection
// and reused: bun inlines arguments into the text, so SQLite would parse
// every statement again, and PostgreSQL plan it again. Inside the
// transaction of ctx it runs there, on the transaction's connection,
// prepared as well. Arguments are bound as bun writes them (BindArgs).
// Use it for the hot statements of fixed shape (a page's grid, a
// checkout's reads); everything else goes through bun.
func (db *DB) QueryStmt(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	err := db.runStmt(ctx, query, args, func(ctx context.Context, run stmtRunner, text string, args []any) error {
		var err error
		rows, err = run.QueryContext(ctx, text, args...)
		return err
	})
	return rows, err
}

// ExecStmt runs a write with bound arguments as QueryStmt runs a read:
// prepared once per connection, in the transaction of ctx when it
// carries one. Use it for the hot writes of fixed shape (a checkout's
// inserts and conditional updates).
func (db *DB) ExecStmt(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.runStmt(ctx, query, args, func(ctx context.Context, run stmtRunner, text string, args []any) error {
		var err error
		res, err = run.ExecContext(ctx, text, args...)
		return err
	})
	return res, err
}

// stmtRunner runs a statement: a prepared *sql.Stmt (the text is then
// ignored), or a pool or transaction running the text unprepared.
type stmtRunner interface {
	QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, text string, args ...any) (sql.Result, error)
}

// preparedRunner runs a prepared statement, ignoring the text.
type preparedRunner struct{ stmt *sql.Stmt }

func (p preparedRunner) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.stmt.QueryContext(ctx, args...)
}

func (p preparedRunner) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.stmt.ExecContext(ctx, args...)
}

// runStmt finds or prepares the statement of query and runs it with
// call, between the query hooks, as bun runs its own statements.
func (db *DB) runStmt(ctx context.Context, query string, args []any, call func(context.Context, stmtRunner, string, []any) error) error {
	text := query
	if db.Dialect == Postgres {
		text = dollarPlaceholders(query)
	}
	args = db.BindArgs(args)
	db.stmts.mu.RLock()
	hooks := db.stmts.hooks
	stmt := db.stmts.stmts[text]
	db.stmts.mu.RUnlock()
	var event *bun.QueryEvent
	if len(hooks) > 0 {
		event = &bun.QueryEvent{DB: db.DB, Query: text, QueryTemplate: query, QueryArgs: args, StartTime: time.Now()}
		for _, h := range hooks {
			ctx = h.BeforeQuery(ctx, event)
		}
	}
	err := db.callStmt(ctx, text, stmt, args, call)
	if event != nil {
		event.Err = err
		for i := len(hooks) - 1; i >= 0; i-- {
			hooks[i].AfterQuery(ctx, event)
		}
	}
	return err
}

// callStmt runs call with the prepared statement of text (preparing it
// now when stmt is nil), on the transaction of ctx if it carries one.
func (db *DB) callStmt(ctx context.Context, text string, stmt *sql.Stmt, args []any, call func(context.Context, stmtRunner, string, []any) error) error {
	st, inTx := ctx.Value(txKey{}).(*txState)
	if stmt == nil && inTx {
		// database/sql prepares on a connection of the pool, which would
		// wait for one while this transaction holds its own: with every
		// connection held by a transaction doing the same, none would
		// come. Run the text unprepared this once; the next run finds it
		// prepared.
		db.prepareLater(text)
		return call(ctx, st.tx.Tx, text, args)
	}
	if stmt == nil {
		var err error
		if stmt, err = db.prepare(ctx, text); err != nil {
			return err
		}
		if stmt == nil { // the cache is full
			return call(ctx, db.DB.DB, text, args)
		}
	}
	if inTx {
		// database/sql keeps the statement prepared on the transaction's
		// connection when the transaction ends, for the next one there.
		return call(ctx, preparedRunner{st.tx.Tx.StmtContext(ctx, stmt)}, text, args)
	}
	return call(ctx, preparedRunner{stmt}, text, args)
}

// testHookBackgroundPrepare, when set by a test, runs in a background
// prepare before it asks for a connection.
var testHookBackgroundPrepare func(ctx context.Context)

// prepareLater prepares text in the background, once, unless the cache
// is full or closed.
func (db *DB) prepareLater(text string) {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if db.stmts.closed || db.stmts.pending[text] || len(db.stmts.stmts)+len(db.stmts.pending) >= maxStmts {
		return
	}
	if db.stmts.pending == nil {
		db.stmts.pending = map[string]bool{}
	}
	db.stmts.pending[text] = true
	if db.stmts.bgCtx == nil {
		db.stmts.bgCtx, db.stmts.stop = context.WithCancel(context.Background())
	}
	db.stmts.background.Add(1)
	go func() {
		defer db.stmts.background.Done()
		ctx, cancel := context.WithTimeout(db.stmts.bgCtx, prepareTimeout)
		defer cancel()
		if testHookBackgroundPrepare != nil {
			testHookBackgroundPrepare(ctx)
		}
		_, _ = db.prepare(ctx, text) // a failure leaves the text unprepared: it runs as is
		db.stmts.mu.Lock()
		delete(db.stmts.pending, text)
		db.stmts.mu.Unlock()
	}()
}

// bunTime is how bun writes a time: UTC, to the microsecond, with its
// offset. SQLite keeps it as text, so bound times are written the same
// way: a column then compares and sorts alike whoever wrote it.
const bunTime = "2006-01-02 15:04:05.999999-07:00"

// BindArgs returns args as QueryStmt and ExecStmt bind them, that is as
// bun would write them into a statement: a time in UTC (PostgreSQL's
// TIMESTAMP keeps the wall clock it is given, and bun writes UTC) and,
// on SQLite, as text in bun's layout; a nil *time.Time as NULL. Other
// values are bound as they are (database/sql honours driver.Valuer). It
// changes args in place.
func (db *DB) BindArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = db.bindTime(v)
		case *time.Time:
			if v == nil {
				args[i] = nil
			} else {
				args[i] = db.bindTime(*v)
			}
		}
	}
	return args
}

func (db *DB) bindTime(t time.Time) any {
	if db.Dialect == SQLite {
		return t.UTC().Format(bunTime)
	}
	return t.UTC()
}

// prepare returns the statement of text, prepared now unless another
// caller did first; nil when the cache is full or closed. The lock is
// not held while the statement is prepared: that waits for a connection.
func (db *DB) prepare(ctx context.Context, text string) (*sql.Stmt, error) {
	db.stmts.mu.RLock()
	s, full := db.stmts.stmts[text], db.stmts.closed || len(db.stmts.stmts) >= maxStmts
	db.stmts.mu.RUnlock()
	if s != nil || full {
		return s, nil
	}
	s, err := db.DB.DB.PrepareContext(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}
	db.stmts.mu.Lock()
	if old := db.stmts.stmts[text]; old != nil || db.stmts.closed || len(db.stmts.stmts) >= maxStmts {
		db.stmts.mu.Unlock()
		// Another caller was first, or the cache filled or closed
		// meanwhile. Closed outside the lock: closing takes the lock of
		// each connection the statement ran on, which a transaction on
		// that connection may hold while it waits to read the cache.
		_ = s.Close()
		return old, nil
	}
	if db.stmts.stmts == nil {
		db.stmts.stmts = make(map[string]*sql.Stmt)
	}
	db.stmts.stmts[text] = s
	db.stmts.mu.Unlock()
	return s, nil
}

// closeStmts closes the prepared statements; Close calls it. Nothing is
// prepared afterwards.
func (db *DB) closeStmts() {
	db.stmts.mu.Lock()
	db.stmts.closed = true
	if db.stmts.stop != nil {
		db.stmts.stop()
	}
	db.stmts.mu.Unlock()
	db.stmts.background.Wait()
	db.stmts.mu.Lock()
	stmts := db.stmts.stmts
	db.stmts.stmts = nil
	db.stmts.mu.Unlock()
	for _, s := range stmts { // outside the lock, as in prepare
		_ = s.Close()
	}
}

// Close closes the prepared statements of QueryStmt, then the pool.
func (db *DB) Close() error {
	db.closeStmts()
	return db.DB.Close()
}

// Placeholders returns n ? placeholders separated by commas, for an IN
// list of QueryStmt.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// dollarPlaceholders numbers the ? placeholders of query as PostgreSQL's
// $1, $2, … The texts of QueryStmt hold no ? inside literals.
func dollarPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 2*strings.Count(query, "?"))
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// ScanTime returns a rows.Scan destination that reads a TIMESTAMP
// column into t, in UTC: a time as PostgreSQL's driver returns it, or
// the text bun or BindArgs wrote, as SQLite may return it (RETURNING
// columns carry no declared type).
func ScanTime(t *time.Time) sql.Scanner { return (*timeDest)(t) }

// ScanNullTime is ScanTime for a nullable column: NULL sets *t to nil.
func ScanNullTime(t **time.Time) sql.Scanner { return nullTimeDest{t} }

type timeDest time.Time

func (d *timeDest) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	*d = timeDest(t)
	return nil
}

type nullTimeDest struct{ t **time.Time }

func (d nullTimeDest) Scan(src any) error {
	if src == nil {
		*d.t = nil
		return nil
	}
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	*d.t = &t
	return nil
}

// timeLayouts are the layouts a stored time is read in, bun's first.
var timeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999-07",
	"2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02"}

func parseTime(src any) (time.Time, error) {
	var s string
	switch v := src.(type) {
	case time.Time:
		return v.UTC(), nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return time.Time{}, fmt.Errorf("store: scan a time from %T", src)
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("store: scan a time from %q", s)
}
