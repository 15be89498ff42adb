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

// maxStmts bounds the prepared statements a DB keeps. Hot reads have
// fixed texts (an IN list of a page's size at most a few sizes), so a few
// dozen suffice; texts beyond the bound run unprepared.
const maxStmts = 128

// stmtCache holds the prepared statements of QueryStmt by text, and the
// query hooks that QueryStmt runs as bun would.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	hooks []bun.QueryHook
}

// AddQueryHook adds a bun query hook that also sees the statements of
// QueryStmt, which bun does not run.
func (db *DB) AddQueryHook(h bun.QueryHook) {
	db.stmts.mu.Lock()
	db.stmts.hooks = append(db.stmts.hooks, h)
	db.stmts.mu.Unlock()
	db.DB.AddQueryHook(h)
}

// QueryStmt runs a read with bound arguments, written with ? placeholders
// (turned into $n on PostgreSQL). Outside a transaction the statement is
// prepared once and reused on every connection: bun inlines arguments into
// the text, so SQLite would parse every statement again, and PostgreSQL
// plan it again. Inside the transaction of ctx it runs there, unprepared.
// Use it for the hot reads of fixed shape (a page's grid); everything else
// goes through bun.
func (db *DB) QueryStmt(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	text := query
	if db.Dialect == Postgres {
		text = dollarPlaceholders(query)
	}
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
	rows, err := db.queryStmt(ctx, text, stmt, args)
	if event != nil {
		event.Err = err
		for i := len(hooks) - 1; i >= 0; i-- {
			hooks[i].AfterQuery(ctx, event)
		}
	}
	return rows, err
}

func (db *DB) queryStmt(ctx context.Context, text string, stmt *sql.Stmt, args []any) (*sql.Rows, error) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.tx.Tx.QueryContext(ctx, text, args...)
	}
	if stmt == nil {
		var err error
		if stmt, err = db.prepare(ctx, text); err != nil {
			return nil, err
		}
		if stmt == nil { // the cache is full
			return db.DB.DB.QueryContext(ctx, text, args...)
		}
	}
	return stmt.QueryContext(ctx, args...)
}

// prepare returns the statement of text, prepared now unless another
// caller did first; nil when the cache is full.
func (db *DB) prepare(ctx context.Context, text string) (*sql.Stmt, error) {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if s := db.stmts.stmts[text]; s != nil {
		return s, nil
	}
	if len(db.stmts.stmts) >= maxStmts {
		return nil, nil
	}
	s, err := db.DB.DB.PrepareContext(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}
	if db.stmts.stmts == nil {
		db.stmts.stmts = make(map[string]*sql.Stmt)
	}
	db.stmts.stmts[text] = s
	return s, nil
}

// closeStmts closes the prepared statements; Close calls it.
func (db *DB) closeStmts() {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	for _, s := range db.stmts.stmts {
		_ = s.Close()
	}
	db.stmts.stmts = nil
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
