package cart

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
)

// cartStore is the carts' persistence: the only place with SQL. Every
// method runs on the transaction carried by ctx, if any, so a service
// method composes them (and the order's placement) into one transaction.
// It reaches only carts that have not expired under life.
type cartStore struct {
	db   *store.DB
	life lifetimes
}

func newCartStore(db *store.DB, life lifetimes) *cartStore { return &cartStore{db: db, life: life} }

// cartColumns are the columns of carts, in the order scanCart reads them.
const cartColumns = "id, token_hash, customer_id, currency, email, shipping_address, billing_address, " +
	"shipping_method_id, order_id, merged_into, completed_at, created_at, updated_at, touched_at"

// cartFields are the destinations of a row of cartColumns in c.
func cartFields(c *Cart) []any {
	return []any{&c.ID, &c.TokenHash, &c.CustomerID, &c.Currency, &c.Email, &c.ShippingAddress, &c.BillingAddress,
		&c.ShippingMethodID, &c.OrderID, &c.MergedInto, store.ScanNullTime(&c.CompletedAt),
		store.ScanTime(&c.CreatedAt), store.ScanTime(&c.UpdatedAt), store.ScanTime(&c.TouchedAt)}
}

// scanCart reads a row of cartColumns into c.
func scanCart(rows *sql.Rows, c *Cart) error {
	return rows.Scan(cartFields(c)...)
}

// liveCart is the condition that a cart has not expired: its touched_at
// is after the cutoff of its kind (retired, then guest, then buyer: the
// arguments of liveArgs). Reads and takes add it, so an expired cart is
// not found before Purge deletes it. Each argument is compared with
// touched_at, so PostgreSQL types it from the column.
const liveCart = "CASE WHEN completed_at IS NOT NULL OR merged_into IS NOT NULL THEN touched_at > ?" +
	" WHEN customer_id IS NULL THEN touched_at > ? ELSE touched_at > ? END"

// liveArgs are the arguments of liveCart at now.
func (s *cartStore) liveArgs(now time.Time) []any {
	at := s.life.at(now)
	return []any{at.retired, at.guest, at.buyer}
}

// openCart is the condition of the carts a change may take: open (not
// completed, not merged) and not expired (liveArgs).
const openCart = "completed_at IS NULL AND merged_into IS NULL AND " + liveCart

// touchCart is the SET term of a change that renews the cart's life
// (touchEvery): touched_at moves to now (the second argument) only when
// it is older than the first, so that most changes leave it, and the
// indexes on it, as they are.
const touchCart = "touched_at = CASE WHEN touched_at < ? THEN ? ELSE touched_at END"

// touchArgs are the arguments of touchCart at now.
func touchArgs(now time.Time) []any { return []any{now.Add(-touchEvery), now} }

// address is an address column's value: its JSON, or NULL.
func address(a *order.Address) (any, error) {
	if a == nil {
		return nil, nil
	}
	return a.Value()
}

// cartValue is the value of one of c's columns that a change writes
// (Take), as the cart keeps it.
func cartValue(c *Cart, column string) (any, error) {
	switch column {
	case "email":
		return c.Email, nil
	case "shipping_address":
		return address(c.ShippingAddress)
	case "billing_address":
		return address(c.BillingAddress)
	case "shipping_method_id":
		return c.ShippingMethodID, nil
	case "completed_at":
		return c.CompletedAt, nil
	case "order_id":
		return c.OrderID, nil
	}
	return nil, fmt.Errorf("cart: no column %q to write", column)
}

// Insert writes a new cart. A buyer who already has an open cart makes
// it fail with CodeCartExists (the unique index on open carts).
func (s *cartStore) Insert(ctx context.Context, c *Cart) error {
	ship, err := address(c.ShippingAddress)
	if err != nil {
		return fmt.Errorf("insert cart: %w", err)
	}
	bill, err := address(c.BillingAddress)
	if err != nil {
		return fmt.Errorf("insert cart: %w", err)
	}
	_, err = s.db.ExecStmt(ctx, "INSERT INTO carts ("+cartColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.TokenHash, c.CustomerID, c.Currency, c.Email, ship, bill,
		c.ShippingMethodID, c.OrderID, c.MergedInto, c.CompletedAt, c.CreatedAt, c.UpdatedAt, c.TouchedAt)
	if store.IsUniqueViolation(err) && c.CustomerID != nil {
		return cartExists()
	}
	if err != nil {
		return fmt.Errorf("insert cart: %w", err)
	}
	return nil
}

// cartWhere reads one cart that was not merged away and has not expired
// at now, or CodeCartNotFound. where is a condition of code's on the
// carts table (its values bound). With lines, the cart's lines are read
// with it, in the same statement.
func (s *cartStore) cartWhere(ctx context.Context, lines bool, now time.Time, where string, args ...any) (*Cart, error) {
	args = append(args, s.liveArgs(now)...)
	if lines {
		rows, err := s.db.QueryStmt(ctx, "SELECT "+cartColumnsOf("c")+", "+lineColumnsOf("l")+
			" FROM (SELECT * FROM carts WHERE ("+where+") AND merged_into IS NULL AND "+liveCart+" LIMIT 1) AS c"+
			" LEFT JOIN cart_lines AS l ON l.cart_id = c.id ORDER BY l.id", args...)
		if err != nil {
			return nil, fmt.Errorf("read cart: %w", err)
		}
		c, err := scanCartWithLines(rows)
		if err != nil {
			return nil, fmt.Errorf("read cart: %w", err)
		}
		if c == nil {
			return nil, cartNotFound()
		}
		return c, nil
	}
	rows, err := s.db.QueryStmt(ctx, "SELECT "+cartColumns+" FROM carts WHERE ("+where+") AND merged_into IS NULL AND "+liveCart+" LIMIT 1", args...)
	if err != nil {
		return nil, fmt.Errorf("read cart: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read cart: %w", err)
		}
		return nil, cartNotFound()
	}
	c := new(Cart)
	if err := scanCart(rows, c); err != nil {
		return nil, fmt.Errorf("read cart: %w", err)
	}
	return c, rows.Close()
}

// scanCartWithLines reads the rows of a cart joined with its lines (the
// columns of cartColumnsOf and lineColumnsOf, one row per line, one row
// with NULL line columns for a cart without lines) and closes them; nil
// when there is no row.
func scanCartWithLines(rows *sql.Rows) (*Cart, error) {
	defer rows.Close()
	var (
		c             *Cart
		id, variantID sql.NullString
		qty           sql.NullInt64
		created       *time.Time
		// The cart's columns repeat on every line's row: they are decoded
		// from the first row only (the addresses are JSON, decoded again
		// for every line otherwise) and only read past on the others.
		skip   = make([]any, strings.Count(cartColumns, ",")+1)
		skipTo = make([]any, 0, len(skip)+4)
		lineTo = []any{&id, &variantID, &qty, store.ScanNullTime(&created)}
	)
	for i := range skip {
		skipTo = append(skipTo, &skip[i])
	}
	skipTo = append(skipTo, lineTo...)
	for rows.Next() {
		id, variantID, qty, created = sql.NullString{}, sql.NullString{}, sql.NullInt64{}, nil
		if c == nil {
			row := new(Cart)
			if err := rows.Scan(append(cartFields(row), lineTo...)...); err != nil {
				return nil, err
			}
			c = row
		} else if err := rows.Scan(skipTo...); err != nil {
			return nil, err
		}
		if id.Valid {
			c.Lines = append(c.Lines, &Line{ID: id.String, CartID: c.ID, VariantID: variantID.String, Quantity: qty.Int64, CreatedAt: *created})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return c, rows.Close()
}

// cartColumnsOf is cartColumns qualified by a table alias.
func cartColumnsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(cartColumns, ", ", ", "+alias+".")
}

// lineColumnsOf are the columns of a line that scanCartWithLines reads,
// qualified by a table alias.
func lineColumnsOf(alias string) string {
	return alias + ".id, " + alias + ".variant_id, " + alias + ".quantity, " + alias + ".created_at"
}

// ByID reads a cart by id, with its lines if asked, unless it expired at
// now.
func (s *cartStore) ByID(ctx context.Context, id string, lines bool, now time.Time) (*Cart, error) {
	return s.cartWhere(ctx, lines, now, "id = ?", id)
}

// ByTokenHash reads a guest cart by the hash of its token, with its
// lines if asked, unless it expired at now.
func (s *cartStore) ByTokenHash(ctx context.Context, hash string, lines bool, now time.Time) (*Cart, error) {
	return s.cartWhere(ctx, lines, now, "token_hash = ?", hash)
}

// OpenByCustomer reads a buyer's open cart, with its lines if asked,
// unless it expired at now.
func (s *cartStore) OpenByCustomer(ctx context.Context, customerID string, lines bool, now time.Time) (*Cart, error) {
	return s.cartWhere(ctx, lines, now, "customer_id = ? AND completed_at IS NULL", customerID)
}

// DeleteExpiredOpen deletes the buyer's open cart, with its lines, if it
// expired at now: the unique index on open carts would refuse the buyer
// another until Purge ran.
func (s *cartStore) DeleteExpiredOpen(ctx context.Context, customerID string, now time.Time) error {
	_, err := s.db.ExecStmt(ctx, "DELETE FROM carts WHERE customer_id = ? AND completed_at IS NULL AND merged_into IS NULL AND touched_at <= ?",
		customerID, s.life.at(now).buyer)
	if err != nil {
		return fmt.Errorf("delete expired cart: %w", err)
	}
	return nil
}

// DeleteExpired deletes up to limit carts matching where (a kind of
// purgeKinds) last touched at or before cutoff, oldest first, with their
// lines (ON DELETE CASCADE), and returns how many it deleted. One
// statement: on PostgreSQL it picks carts no other transaction holds
// (FOR UPDATE SKIP LOCKED, in a materialized CTE so the LIMIT is not
// re-evaluated), and rechecks their touched_at on the latest version.
func (s *cartStore) DeleteExpired(ctx context.Context, where string, cutoff time.Time, limit int) (int64, error) {
	r, err := s.db.Conn(ctx).NewRaw(purgeStatement(s.db.Dialect, where), cutoff, limit).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// purgeStatement is DeleteExpired's statement on dialect, with two
// arguments: the cutoff and the limit.
func purgeStatement(dialect store.Dialect, where string) string {
	pick := "SELECT id FROM carts WHERE " + where + " AND touched_at <= ? ORDER BY touched_at LIMIT ?"
	if dialect == store.Postgres {
		// The ids as an array: carts are then found by their primary key
		// whatever PostgreSQL estimates of the CTE (a hash join would
		// read the whole table).
		return "WITH doomed AS MATERIALIZED (" + pick + " FOR UPDATE SKIP LOCKED) DELETE FROM carts WHERE id = ANY (ARRAY(SELECT id FROM doomed))"
	}
	return "DELETE FROM carts WHERE id IN (" + pick + ")"
}

// cartKey is how a caller names a cart in a WHERE clause: a condition
// on the carts table and its arguments.
type cartKey struct {
	where string
	args  []any
}

// Take takes an open cart for the caller's transaction and reads it, in
// one statement: an UPDATE that stamps updated_at (c.UpdatedAt), renews
// the cart's life (touchCart), writes the given columns from c, and
// returns the whole row into c. On PostgreSQL the row stays locked until
// the transaction ends (SQLite runs one writing transaction at a time),
// so a change racing with a checkout either lands before it or finds the
// cart completed. It reports false, and writes nothing, when no open cart
// that was not merged and has not expired at c.UpdatedAt matches key.
// The statement is prepared (one text per key and set of columns).
func (s *cartStore) Take(ctx context.Context, c *Cart, key cartKey, columns ...string) (bool, error) {
	q, args, err := s.takeStatement(c, key, columns)
	if err != nil {
		return false, err
	}
	rows, err := s.db.QueryStmt(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("take cart: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return false, fmt.Errorf("take cart: %w", err)
		}
		return false, nil
	}
	if err := scanCart(rows, c); err != nil {
		return false, fmt.Errorf("take cart: %w", err)
	}
	if err := rows.Close(); err != nil {
		return false, fmt.Errorf("take cart: %w", err)
	}
	return true, nil
}

// takeStatement is Take's UPDATE and its arguments: it writes columns
// from c and updated_at on the open cart key names, and returns the
// row's cartColumns.
func (s *cartStore) takeStatement(c *Cart, key cartKey, columns []string) (string, []any, error) {
	set, args, err := takeSet(c, columns)
	if err != nil {
		return "", nil, err
	}
	return "UPDATE carts SET " + set + " WHERE (" + key.where + ") AND " + openCart + " RETURNING " + cartColumns,
		append(append(args, key.args...), s.liveArgs(c.UpdatedAt)...), nil
}

// takeSet is the SET list of a take, columns from c, updated_at and
// touched_at, and its arguments. A take that completes the cart touches
// it at once: a retired cart's retention counts from then.
func takeSet(c *Cart, columns []string) (string, []any, error) {
	var q strings.Builder
	args := make([]any, 0, len(columns)+3)
	for _, col := range columns {
		v, err := cartValue(c, col)
		if err != nil {
			return "", nil, err
		}
		q.WriteString(col)
		q.WriteString(" = ?, ")
		args = append(args, v)
	}
	q.WriteString("updated_at = ?, ")
	args = append(args, c.UpdatedAt)
	if slices.Contains(columns, "completed_at") {
		q.WriteString("touched_at = ?")
		return q.String(), append(args, c.UpdatedAt), nil
	}
	q.WriteString(touchCart)
	return q.String(), append(args, touchArgs(c.UpdatedAt)...), nil
}

// TakeWithLines is Take that also reads the cart's lines, as they are
// once the cart is taken. On PostgreSQL it tries one statement first: it
// reads the cart's row version (xmin) and its lines in the statement's
// snapshot and takes the cart only if that version is still the latest,
// so the lines read are the lines under the lock (every change of a
// cart's lines takes the cart first, and so makes a new version). When
// another transaction changed the cart meanwhile, or it matches nothing,
// it falls back to Take and a read of the lines after it, as on SQLite.
func (s *cartStore) TakeWithLines(ctx context.Context, c *Cart, key cartKey, columns ...string) (bool, error) {
	if s.db.Dialect == store.Postgres {
		set, setArgs, err := takeSet(c, columns)
		if err != nil {
			return false, err
		}
		stmt := "WITH s AS (SELECT id, xmin FROM carts WHERE (" + key.where + ") AND " + openCart + "), " +
			"c AS (UPDATE carts SET " + set + " FROM s WHERE carts.id = s.id AND carts.xmin = s.xmin" +
			" AND carts.completed_at IS NULL AND carts.merged_into IS NULL RETURNING " + cartColumnsOf("carts") + ") " +
			"SELECT " + cartColumnsOf("c") + ", " + lineColumnsOf("l") + " FROM c LEFT JOIN cart_lines AS l ON l.cart_id = c.id ORDER BY l.id"
		rows, err := s.db.QueryStmt(ctx, stmt, append(append(append([]any{}, key.args...), s.liveArgs(c.UpdatedAt)...), setArgs...)...)
		if err != nil {
			return false, fmt.Errorf("take cart: %w", err)
		}
		got, err := scanCartWithLines(rows)
		if err != nil {
			return false, fmt.Errorf("take cart: %w", err)
		}
		if got != nil {
			*c = *got
			return true, nil
		}
	}
	ok, err := s.Take(ctx, c, key, columns...)
	if !ok || err != nil {
		return ok, err
	}
	c.Lines, err = s.Lines(ctx, c.ID)
	return err == nil, err
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
// loses its token, and its life starts again as a buyer's cart. It
// reports false when the cart is no longer an open guest cart.
func (s *cartStore) Adopt(ctx context.Context, id, customerID string, now time.Time) (bool, error) {
	r, err := s.db.Conn(ctx).NewRaw(`UPDATE carts SET customer_id = ?, token_hash = NULL, updated_at = ?, touched_at = ?
		WHERE id = ? AND customer_id IS NULL AND completed_at IS NULL AND merged_into IS NULL`, customerID, now, now, id).Exec(ctx)
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
// token reaches nothing any more, and it is kept as a completed cart is
// (Purge). It reports false when the cart is no longer open.
func (s *cartStore) MarkMerged(ctx context.Context, id, into string, now time.Time) (bool, error) {
	r, err := s.db.Conn(ctx).NewRaw(`UPDATE carts SET merged_into = ?, token_hash = NULL, updated_at = ?, touched_at = ?
		WHERE id = ? AND completed_at IS NULL AND merged_into IS NULL`, into, now, now, id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("merge cart: %w", err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// Lines reads a cart's lines, oldest first.
func (s *cartStore) Lines(ctx context.Context, cartID string) ([]*Line, error) {
	rows, err := s.db.QueryStmt(ctx, "SELECT id, cart_id, variant_id, quantity, created_at FROM cart_lines WHERE cart_id = ? ORDER BY id", cartID)
	if err != nil {
		return nil, fmt.Errorf("read cart lines: %w", err)
	}
	defer rows.Close()
	var ls []*Line
	for rows.Next() {
		l := new(Line)
		if err := rows.Scan(&l.ID, &l.CartID, &l.VariantID, &l.Quantity, store.ScanTime(&l.CreatedAt)); err != nil {
			return nil, fmt.Errorf("read cart lines: %w", err)
		}
		ls = append(ls, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cart lines: %w", err)
	}
	return ls, nil
}

// InsertLines writes new lines, in one statement.
func (s *cartStore) InsertLines(ctx context.Context, ls []*Line) error {
	if len(ls) == 0 {
		return nil
	}
	args := make([]any, 0, 5*len(ls))
	for _, l := range ls {
		args = append(args, l.ID, l.CartID, l.VariantID, l.Quantity, l.CreatedAt)
	}
	q := "INSERT INTO cart_lines (id, cart_id, variant_id, quantity, created_at) VALUES " + rowsOf("(?, ?, ?, ?, ?)", len(ls))
	if _, err := s.db.ExecStmt(ctx, q, args...); err != nil {
		return fmt.Errorf("insert cart lines: %w", err)
	}
	return nil
}

// rowsOf repeats a row of placeholders n times, for a multi-row VALUES.
func rowsOf(row string, n int) string {
	return strings.Repeat(row+", ", n-1) + row
}

// SetQuantities sets the quantities of lines of a cart (line id to
// quantity) in one statement.
func (s *cartStore) SetQuantities(ctx context.Context, cartID string, qty map[string]int64) error {
	if len(qty) == 0 {
		return nil
	}
	ids := make([]any, 0, len(qty))
	args := make([]any, 0, 3*len(qty)+1)
	for id, q := range qty {
		ids = append(ids, id)
		args = append(args, id, q)
	}
	args = append(args, cartID)
	args = append(args, ids...)
	_, err := s.db.ExecStmt(ctx, "UPDATE cart_lines SET quantity = CASE id "+strings.Repeat("WHEN ? THEN CAST(? AS BIGINT) ", len(qty))+
		"END WHERE cart_id = ? AND id IN ("+store.Placeholders(len(qty))+")", args...)
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
	args := make([]any, 0, 1+len(lineIDs))
	args = append(args, cartID)
	for _, id := range lineIDs {
		args = append(args, id)
	}
	if _, err := s.db.ExecStmt(ctx, "DELETE FROM cart_lines WHERE cart_id = ? AND id IN ("+store.Placeholders(len(lineIDs))+")", args...); err != nil {
		return fmt.Errorf("delete cart lines: %w", err)
	}
	return nil
}

// lineAdd is what AddAtOnce adds of one variant: its quantity, the most
// its line may then hold, and the id of its line if it is new.
type lineAdd struct {
	variantID string
	quantity  int64
	limit     int64
	newID     string
}

// AddAtOnce adds lines to the open cart key names in one statement, on
// PostgreSQL only, when it can decide alone: the cart is in currency cur,
// no variant's line goes over its limit, the cart stays within maxLines,
// and the cart's row version (xmin) read in the statement's snapshot is
// still the latest when its UPDATE takes it (as TakeWithLines: the lines
// it read are then the lines under the lock). It then stamps updated_at,
// adds to existing lines, inserts new ones and returns the cart with its
// lines as they are after the change. Otherwise it writes nothing and
// returns nil, and the caller takes the transactional way, which says
// what is wrong.
func (s *cartStore) AddAtOnce(ctx context.Context, key cartKey, cur string, adds []lineAdd, maxLines int, now time.Time) (*Cart, error) {
	args := make([]any, 0, len(key.args)+4*len(adds)+9)
	args = append(append(args, key.args...), s.liveArgs(now)...)
	for _, a := range adds {
		args = append(args, a.variantID, a.quantity, a.limit, a.newID)
	}
	args = append(append(append(args, maxLines, now), touchArgs(now)...), cur, now)
	stmt := "WITH s AS (SELECT id, xmin FROM carts WHERE (" + key.where + ") AND " + openCart + "), " +
		"l AS (SELECT cl.id, cl.variant_id, cl.quantity, cl.created_at FROM cart_lines AS cl JOIN s ON cl.cart_id = s.id), " +
		"d(vid, qty, lim, lid) AS (VALUES " + rowsOf("(?, CAST(? AS BIGINT), CAST(? AS BIGINT), ?)", len(adds)) + "), " +
		"chk AS (SELECT NOT EXISTS (SELECT 1 FROM d LEFT JOIN l ON l.variant_id = d.vid WHERE COALESCE(l.quantity, 0) + d.qty > d.lim)" +
		" AND (SELECT count(*) FROM l) + (SELECT count(*) FROM d WHERE NOT EXISTS (SELECT 1 FROM l WHERE l.variant_id = d.vid)) <= CAST(? AS BIGINT) AS ok), " +
		"c AS (UPDATE carts SET updated_at = ?, " + touchCart + " FROM s, chk WHERE chk.ok AND carts.id = s.id AND carts.xmin = s.xmin AND carts.currency = ?" +
		" AND carts.completed_at IS NULL AND carts.merged_into IS NULL RETURNING " + cartColumnsOf("carts") + "), " +
		"u AS (UPDATE cart_lines SET quantity = cart_lines.quantity + d.qty FROM d, c WHERE cart_lines.cart_id = c.id AND cart_lines.variant_id = d.vid" +
		" RETURNING cart_lines.id, cart_lines.variant_id, cart_lines.quantity, cart_lines.created_at), " +
		"i AS (INSERT INTO cart_lines (id, cart_id, variant_id, quantity, created_at) SELECT d.lid, c.id, d.vid, d.qty, CAST(? AS TIMESTAMP) FROM d, c" +
		" WHERE NOT EXISTS (SELECT 1 FROM l WHERE l.variant_id = d.vid) RETURNING id, variant_id, quantity, created_at), " +
		"x AS (SELECT * FROM l WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = l.id) UNION ALL SELECT * FROM u UNION ALL SELECT * FROM i) " +
		"SELECT " + cartColumnsOf("c") + ", " + lineColumnsOf("x") + " FROM c LEFT JOIN x ON true ORDER BY x.id"
	rows, err := s.db.QueryStmt(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("add cart lines: %w", err)
	}
	c, err := scanCartWithLines(rows)
	if err != nil {
		return nil, fmt.Errorf("add cart lines: %w", err)
	}
	return c, nil
}
