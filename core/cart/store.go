package cart

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// cartStore is the carts' persistence: the only place with SQL. Every
// method runs on the transaction carried by ctx, if any, so a service
// method composes them (and the order's placement) into one transaction.
type cartStore struct {
	db *store.DB
}

func newCartStore(db *store.DB) *cartStore { return &cartStore{db: db} }

// Insert writes a new cart. A buyer who already has an open cart makes
// it fail with CodeCartExists (the unique index on open carts).
func (s *cartStore) Insert(ctx context.Context, c *Cart) error {
	_, err := s.db.Conn(ctx).NewInsert().Model(c).Exec(ctx)
	if store.IsUniqueViolation(err) && c.CustomerID != nil {
		return cartExists()
	}
	if err != nil {
		return fmt.Errorf("insert cart: %w", err)
	}
	return nil
}

// cartWhere reads one cart that was not merged away, or
// CodeCartNotFound.
func (s *cartStore) cartWhere(ctx context.Context, where string, args ...any) (*Cart, error) {
	c := new(Cart)
	err := s.db.Conn(ctx).NewSelect().Model(c).Where(where, args...).Where("merged_into IS NULL").Limit(1).Scan(ctx)
	if store.IsNoRows(err) {
		return nil, cartNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("read cart: %w", err)
	}
	return c, nil
}

// ByID reads a cart by id.
func (s *cartStore) ByID(ctx context.Context, id string) (*Cart, error) {
	return s.cartWhere(ctx, "id = ?", id)
}

// ByTokenHash reads a guest cart by the hash of its token.
func (s *cartStore) ByTokenHash(ctx context.Context, hash string) (*Cart, error) {
	return s.cartWhere(ctx, "token_hash = ?", hash)
}

// OpenByCustomer reads a buyer's open cart.
func (s *cartStore) OpenByCustomer(ctx context.Context, customerID string) (*Cart, error) {
	return s.cartWhere(ctx, "customer_id = ? AND completed_at IS NULL", customerID)
}

// cartKey is how a caller names a cart in a WHERE clause: a condition
// on the carts table and its arguments.
type cartKey struct {
	where string
	args  []any
}

// Take takes an open cart for the caller's transaction and reads it, in
// one statement: an UPDATE that stamps updated_at (c.UpdatedAt), writes
// the given columns from c, and returns the whole row into c. On
// PostgreSQL the row stays locked until the transaction ends (SQLite runs
// one writing transaction at a time), so a change racing with a checkout
// either lands before it or finds the cart completed. It reports false,
// and writes nothing, when no open cart that was not merged matches key.
func (s *cartStore) Take(ctx context.Context, c *Cart, key cartKey, columns ...string) (bool, error) {
	err := s.db.Conn(ctx).NewUpdate().Model(c).Column(append(columns, "updated_at")...).
		Where(key.where, key.args...).Where("completed_at IS NULL AND merged_into IS NULL").
		Returning("*").Scan(ctx)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take cart: %w", err)
	}
	return true, nil
}

// Update writes the given columns of an open cart.
func (s *cartStore) Update(ctx context.Context, c *Cart, columns ...string) error {
	_, err := s.db.Conn(ctx).NewUpdate().Model(c).Column(append(columns, "updated_at")...).WherePK().
		Where("completed_at IS NULL").Exec(ctx)
	if err != nil {
		return fmt.Errorf("update cart: %w", err)
	}
	return nil
}

// Adopt makes an open guest cart the buyer's own: it gets the buyer and
// loses its token. It reports false when the cart is no longer an open
// guest cart.
func (s *cartStore) Adopt(ctx context.Context, id, customerID string, now time.Time) (bool, error) {
	r, err := s.db.Conn(ctx).NewRaw(`UPDATE carts SET customer_id = ?, token_hash = NULL, updated_at = ?
		WHERE id = ? AND customer_id IS NULL AND completed_at IS NULL AND merged_into IS NULL`, customerID, now, id).Exec(ctx)
	if store.IsUniqueViolation(err) { // the buyer opened a cart meanwhile
		return false, cartExists()
	}
	if err != nil {
		return false, fmt.Errorf("adopt cart: %w", err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// MarkMerged retires an open guest cart merged into the cart into: its
// token reaches nothing any more. It reports false when the cart is no
// longer open.
func (s *cartStore) MarkMerged(ctx context.Context, id, into string, now time.Time) (bool, error) {
	r, err := s.db.Conn(ctx).NewRaw(`UPDATE carts SET merged_into = ?, token_hash = NULL, updated_at = ?
		WHERE id = ? AND completed_at IS NULL AND merged_into IS NULL`, into, now, id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("merge cart: %w", err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// Lines reads a cart's lines, oldest first.
func (s *cartStore) Lines(ctx context.Context, cartID string) ([]*Line, error) {
	var ls []*Line
	if err := s.db.Conn(ctx).NewSelect().Model(&ls).Where("cart_id = ?", cartID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read cart lines: %w", err)
	}
	return ls, nil
}

// InsertLines writes new lines.
func (s *cartStore) InsertLines(ctx context.Context, ls []*Line) error {
	if len(ls) == 0 {
		return nil
	}
	if _, err := s.db.Conn(ctx).NewInsert().Model(&ls).Exec(ctx); err != nil {
		return fmt.Errorf("insert cart lines: %w", err)
	}
	return nil
}

// SetQuantities sets the quantities of lines of a cart (line id to
// quantity) in one statement.
func (s *cartStore) SetQuantities(ctx context.Context, cartID string, qty map[string]int64) error {
	if len(qty) == 0 {
		return nil
	}
	ids := make([]string, 0, len(qty))
	cases := make([]string, 0, len(qty))
	args := make([]any, 0, 2*len(qty)+2)
	for id, q := range qty {
		ids = append(ids, id)
		cases = append(cases, "WHEN ? THEN CAST(? AS BIGINT)")
		args = append(args, id, q)
	}
	args = append(args, cartID, bun.In(ids))
	_, err := s.db.Conn(ctx).NewRaw("UPDATE cart_lines SET quantity = CASE id "+strings.Join(cases, " ")+
		" END WHERE cart_id = ? AND id IN (?)", args...).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update cart lines: %w", err)
	}
	return nil
}

// SetQuantity sets the quantity of a line of a cart.
func (s *cartStore) SetQuantity(ctx context.Context, cartID, lineID string, qty int64) error {
	if _, err := s.db.Conn(ctx).NewUpdate().Model((*Line)(nil)).Set("quantity = ?", qty).
		Where("id = ? AND cart_id = ?", lineID, cartID).Exec(ctx); err != nil {
		return fmt.Errorf("update cart line: %w", err)
	}
	return nil
}

// DeleteLines removes lines of a cart.
func (s *cartStore) DeleteLines(ctx context.Context, cartID string, lineIDs []string) error {
	if len(lineIDs) == 0 {
		return nil
	}
	if _, err := s.db.Conn(ctx).NewDelete().Model((*Line)(nil)).
		Where("cart_id = ? AND id IN (?)", cartID, bun.In(lineIDs)).Exec(ctx); err != nil {
		return fmt.Errorf("delete cart lines: %w", err)
	}
	return nil
}
