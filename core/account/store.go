package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
)

// accountStore is the only place with the accounts' SQL, split by concept
// into store_customer.go, store_group.go, store_staff.go, store_token.go,
// store_session.go, store_apikey.go and store_throttle.go; this file holds
// what they share. Every method runs in the transaction carried by ctx,
// if any, so a service method composes with another domain's inside one
// transaction.
type accountStore struct {
	db *store.DB
}

func newAccountStore(db *store.DB) *accountStore { return &accountStore{db: db} }

func (st *accountStore) conn(ctx context.Context) bun.IDB { return st.db.Conn(ctx) }

// one maps the error of a query for one row: no row is nf (an
// errs.ErrNotFound, never nil, nil), any other failure is wrapped with
// what.
func one(err error, what string, nf *errs.Error) error {
	switch {
	case err == nil:
		return nil
	case store.IsNoRows(err):
		return nf
	}
	return fmt.Errorf("get %s: %w", what, err)
}

// affected reports whether a conditional update or delete changed
// exactly one row: false when another writer got there first.
func affected(res interface{ RowsAffected() (int64, error) }, what string) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return n == 1, nil
}

// keyset pages rows newest first by id (ids sort by creation time).
func keyset[T any](ctx context.Context, q *bun.SelectQuery, rows *[]T, req page.Request, idOf func(T) string) (page.Page[T], error) {
	if req.After != nil {
		q = q.Where("?TableAlias.id < ?", req.After.ID)
	}
	if err := q.OrderExpr("?TableAlias.id DESC").Limit(int64(req.First + 1)).Scan(ctx); err != nil {
		return page.Page[T]{}, fmt.Errorf("list: %w", err)
	}
	p := page.Page[T]{HasPrevious: req.After != nil}
	if len(*rows) > req.First {
		*rows = (*rows)[:req.First]
		p.HasNext = true
	}
	p.Items = *rows
	for _, r := range *rows {
		p.Cursors = append(p.Cursors, page.Cursor{ID: idOf(r)})
	}
	return p, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
