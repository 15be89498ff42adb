package order

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
)

// orderStore is the order domain's persistence: the only place with SQL.
// Every method runs on the transaction carried by ctx, if any
// (store.DB.Conn), so the service composes them, and the moves of
// core/transition, into one transaction, and the cart's checkout takes
// them into its own. Other packages never reach it: they call the Service.
type orderStore struct {
	db *store.DB
}

func newOrderStore(db *store.DB) *orderStore { return &orderStore{db: db} }

// sequenceName is the row of order_sequences that numbers orders on
// SQLite.
const sequenceName = "orders"

// pgSequence is the PostgreSQL SEQUENCE that numbers orders (migration
// 0016, ADR 0010): nextval takes no row lock, so checkouts do not queue
// on the number, and a rolled-back checkout leaves a gap.
const pgSequence = "order_numbers"

// unpaidHeldQuery counts, up to a limit each, the orders awaiting payment
// of a client network and of a buyer. The conditions that repeat the
// partial indexes' own (the network not empty, the customer not null) let
// PostgreSQL's generic plan use orders_unpaid_network and
// orders_unpaid_customer.
const unpaidHeldQuery = "SELECT " +
	"(SELECT count(*) FROM (SELECT 1 FROM orders WHERE client_network = ? AND client_network <> '' AND status = 'OPEN' AND payment_status = 'PENDING' LIMIT ?) n), " +
	"(SELECT count(*) FROM (SELECT 1 FROM orders WHERE customer_id = ? AND customer_id IS NOT NULL AND status = 'OPEN' AND payment_status = 'PENDING' LIMIT ?) c)"

// UnpaidHeld counts the open orders awaiting payment placed from network
// and by customerID (either may be empty: it then counts 0), each count
// stopping at limit.
func (s *orderStore) UnpaidHeld(ctx context.Context, network, customerID string, limit int64) (byNetwork, byCustomer int64, err error) {
	rows, err := s.db.QueryStmt(ctx, unpaidHeldQuery, network, limit, customerID, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("count unpaid orders: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, 0, fmt.Errorf("count unpaid orders: %w", err)
		}
		return 0, 0, fmt.Errorf("count unpaid orders: no row")
	}
	if err := rows.Scan(&byNetwork, &byCustomer); err != nil {
		return 0, 0, fmt.Errorf("count unpaid orders: %w", err)
	}
	return byNetwork, byCustomer, rows.Close()
}

// NextSeq takes the next order number on SQLite: one UPDATE that
// increments the sequence row and returns the number it held. Writers
// take turns on SQLite, so no number is handed out twice; a rolled-back
// checkout gives its number back.
func (s *orderStore) NextSeq(ctx context.Context) (int64, error) {
	rows, err := s.db.QueryStmt(ctx, "UPDATE order_sequences SET next = next + 1 WHERE name = ? RETURNING next - 1", sequenceName)
	if err != nil {
		return 0, fmt.Errorf("take order number: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("take order number: %w", err)
		}
		return 0, fmt.Errorf("take order number: no sequence %q", sequenceName)
	}
	var seq int64
	if err := rows.Scan(&seq); err != nil {
		return 0, fmt.Errorf("take order number: %w", err)
	}
	return seq, rows.Close()
}

// orderRow is an order with the columns the store derives from it.
type orderRow struct {
	Order `bun:",extend"`

	// EmailLocal is the part of the email before its last "@": staff
	// search by it (listQuery.emailLocal).
	EmailLocal string `bun:"email_local"`
}

// emailLocal returns the part of a lower-cased email address before its
// last "@" (all of it without one).
func emailLocal(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[:i]
	}
	return email
}

// orderColumns are the columns InsertOrder writes: every column of
// orderRow (TestInsertColumnsAreTheModels keeps them in step).
const orderColumns = "id, seq, number, customer_id, email, currency, status, payment_status, fulfillment_status, " +
	"shipping_address, billing_address, shipping_method_id, shipping_method_name, subtotal_amount, discount_amount, " +
	"shipping_amount, tax_amount, total_amount, tax_included, tax_name, tax_basis_points, discounts, payment_method, payment_deadline, remind_at, " +
	"reminded_at, cart_id, access_token_hash, cancelled_at, completed_at, created_at, updated_at, email_local, client_network"

// lineColumns are the columns of order_lines InsertOrder writes.
const lineColumns = "id, order_id, position, variant_id, product_id, sku, product_title, variant_title, weight_grams, " +
	"quantity, unit_price_amount, subtotal_amount, discount_amount, tax_amount, total_amount, quantity_shipped"

// timelineColumns are the columns of order_timeline InsertTimeline writes.
const timelineColumns = "id, order_id, machine, from_state, to_state, actor_kind, actor, reason, event_id, created_at, visibility"

// placeholderRow is a row of placeholders, one per column of columns:
// "(?, ?, …)".
func placeholderRow(columns string) string {
	return "(" + strings.Repeat("?, ", strings.Count(columns, ",")) + "?)"
}

// orderValues are o's values in the order of orderColumns.
func orderValues(o *Order) ([]any, error) {
	ship, err := o.ShippingAddress.Value()
	if err != nil {
		return nil, err
	}
	bill, err := o.BillingAddress.Value()
	if err != nil {
		return nil, err
	}
	discounts := o.Discounts
	if discounts == nil {
		discounts = []pricing.Adjustment{}
	}
	disc, err := json.Marshal(discounts)
	if err != nil {
		return nil, err
	}
	return []any{o.ID, o.Seq, o.Number, o.CustomerID, o.Email, o.Currency, string(o.Status), string(o.PaymentStatus), string(o.FulfillmentStatus),
		ship, bill, o.ShippingMethodID, o.ShippingMethodName, o.SubtotalAmount, o.DiscountAmount,
		o.ShippingAmount, o.TaxAmount, o.TotalAmount, o.TaxIncluded, o.TaxName, o.TaxBasisPoints, string(disc), o.PaymentMethod, o.PaymentDeadline, o.RemindAt,
		o.RemindedAt, o.CartID, o.AccessTokenHash, o.CancelledAt, o.CompletedAt, o.CreatedAt, o.UpdatedAt, emailLocal(o.Email), o.ClientNetwork}, nil
}

// linesInsert is the INSERT of n order lines, their values bound in the
// order of lineValues.
func linesInsert(n int) string {
	row := placeholderRow(lineColumns)
	return "INSERT INTO order_lines (" + lineColumns + ") VALUES " + strings.Repeat(row+", ", n-1) + row
}

// lineValues are the values of lines in the order of lineColumns, line
// after line.
func lineValues(lines []*Line) []any {
	args := make([]any, 0, 16*len(lines))
	for _, l := range lines {
		args = append(args, l.ID, l.OrderID, l.Position, l.VariantID, l.ProductID, l.SKU, l.ProductTitle, l.VariantTitle, l.WeightGrams,
			l.Quantity, l.UnitPriceAmount, l.SubtotalAmount, l.DiscountAmount, l.TaxAmount, l.TotalAmount, l.QuantityShipped)
	}
	return args
}

// timelineValues are e's values in the order of timelineColumns.
func timelineValues(e *TimelineEntry) []any {
	return []any{e.ID, e.OrderID, e.Machine, e.FromState, e.ToState, e.ActorKind, e.Actor, e.Reason, e.EventID, e.CreatedAt, string(e.Visibility)}
}

// InsertOrder writes a new order and its lines, with one prepared
// statement each. A second order of one cart is refused with
// CodeCartAlreadyPlaced.
func (s *orderStore) InsertOrder(ctx context.Context, o *Order, lines []*Line) error {
	args, err := orderValues(o)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	if _, err = s.db.ExecStmt(ctx, "INSERT INTO orders ("+orderColumns+") VALUES "+placeholderRow(orderColumns), args...); err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Conflict("cartId", CodeCartAlreadyPlaced, "this cart already placed an order")
		}
		return fmt.Errorf("insert order: %w", err)
	}
	if len(lines) == 0 {
		return nil
	}
	if _, err := s.db.ExecStmt(ctx, linesInsert(len(lines)), lineValues(lines)...); err != nil {
		return fmt.Errorf("insert order lines: %w", err)
	}
	return nil
}

// InsertTimeline writes a timeline row that core/transition does not: the
// placement, a shipment that moved no status, a note, a claim.
func (s *orderStore) InsertTimeline(ctx context.Context, e *TimelineEntry) error {
	if _, err := s.db.ExecStmt(ctx, "INSERT INTO order_timeline ("+timelineColumns+") VALUES "+placeholderRow(timelineColumns), timelineValues(e)...); err != nil {
		return fmt.Errorf("insert order timeline: %w", err)
	}
	return nil
}

// InsertNumbered takes the next order number for o (Seq, and Number with
// prefix) and writes o, its lines and its first timeline row: on
// PostgreSQL in one statement, the number from the order_numbers
// SEQUENCE (no row lock: concurrent checkouts do not wait for each
// other's commit, and a rolled-back one leaves a gap, ADR 0010) and the
// inserts as data-modifying CTEs (the lines' foreign key is checked at
// the statement's end); on SQLite, where writers take turns anyway, as
// NextSeq on the counter row (gap-free), InsertOrder and InsertTimeline.
func (s *orderStore) InsertNumbered(ctx context.Context, o *Order, lines []*Line, first *TimelineEntry, prefix string) error {
	if s.db.Dialect != store.Postgres {
		seq, err := s.NextSeq(ctx)
		if err != nil {
			return err
		}
		o.Seq, o.Number = seq, prefix+strconv.FormatInt(seq, 10)
		if err := s.InsertOrder(ctx, o, lines); err != nil {
			return err
		}
		return s.InsertTimeline(ctx, first)
	}
	orderArgs, err := orderValues(o)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	// The order's values with seq and number taken from the sequence:
	// its select list is orderColumns' placeholders but those two.
	sel := strings.Split(placeholderRow(orderColumns), ", ")
	sel[0] = strings.TrimPrefix(sel[0], "(")
	sel[len(sel)-1] = strings.TrimSuffix(sel[len(sel)-1], ")")
	sel[1], sel[2] = "n.seq", "CAST(? AS TEXT) || CAST(n.seq AS TEXT)"
	args := make([]any, 0, 1+len(orderArgs)+16*len(lines)+11)
	args = append(args, orderArgs[0], prefix)
	args = append(args, orderArgs[3:]...)
	var q strings.Builder
	q.WriteString("WITH n AS (SELECT nextval('" + pgSequence + "') AS seq), ")
	q.WriteString("o AS (INSERT INTO orders (" + orderColumns + ") SELECT " + strings.Join(sel, ", ") + " FROM n RETURNING seq, number), ")
	if len(lines) > 0 {
		q.WriteString("l AS (" + linesInsert(len(lines)) + "), ")
		args = append(args, lineValues(lines)...)
	}
	q.WriteString("t AS (INSERT INTO order_timeline (" + timelineColumns + ") VALUES " + placeholderRow(timelineColumns) + ") ")
	args = append(args, timelineValues(first)...)
	q.WriteString("SELECT seq, number FROM o")
	rows, err := s.db.QueryStmt(ctx, q.String(), args...)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Conflict("cartId", CodeCartAlreadyPlaced, "this cart already placed an order")
		}
		return fmt.Errorf("insert order: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Conflict("cartId", CodeCartAlreadyPlaced, "this cart already placed an order")
			}
			return fmt.Errorf("insert order: %w", err)
		}
		return fmt.Errorf("insert order: no row returned")
	}
	if err := rows.Scan(&o.Seq, &o.Number); err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	if err := rows.Close(); err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Conflict("cartId", CodeCartAlreadyPlaced, "this cart already placed an order")
		}
		return fmt.Errorf("insert order: %w", err)
	}
	return nil
}

// OrderByID returns one order, or CodeOrderNotFound.
func (s *orderStore) OrderByID(ctx context.Context, id string) (*Order, error) {
	return s.orderWhere(ctx, "o.id = ?", id)
}

// OrderByTokenHash returns the order whose guest access token hashes to h,
// or CodeOrderNotFound.
func (s *orderStore) OrderByTokenHash(ctx context.Context, h string) (*Order, error) {
	if h == "" {
		return nil, orderNotFound()
	}
	// The repeated condition lets SQLite use the partial index on the
	// token (it matches a partial index only on its literal WHERE).
	return s.orderWhere(ctx, "o.access_token_hash = ? AND o.access_token_hash <> ''", h)
}

// orderWhere reads one order row with a statement of fixed text, its
// argument bound: an order's page and its status subscription read it
// on every change.
func (s *orderStore) orderWhere(ctx context.Context, where string, arg any) (*Order, error) {
	o := new(Order)
	n, err := s.db.ScanStmt(ctx, o, "SELECT "+s.db.ModelColumns(o, "o.")+" FROM \"orders\" AS o WHERE "+where+" LIMIT 1", arg)
	if err != nil {
		return nil, fmt.Errorf("read order: %w", err)
	}
	if n == 0 {
		return nil, orderNotFound()
	}
	return o, nil
}

// Lines returns an order's lines in position order.
func (s *orderStore) Lines(ctx context.Context, orderID string) ([]*Line, error) {
	m, err := s.LinesOf(ctx, []string{orderID})
	return m[orderID], err
}

// Shipments returns an order's shipments, oldest first, with their lines.
func (s *orderStore) Shipments(ctx context.Context, orderID string) ([]*Shipment, error) {
	m, err := s.ShipmentsOf(ctx, []string{orderID})
	return m[orderID], err
}

// Notes returns an order's staff notes, oldest first.
func (s *orderStore) Notes(ctx context.Context, orderID string) ([]*Note, error) {
	m, err := s.NotesOf(ctx, []string{orderID})
	return m[orderID], err
}

// Timeline returns an order's timeline, oldest first; with buyerOnly, the
// entries buyers see only.
func (s *orderStore) Timeline(ctx context.Context, orderID string, buyerOnly bool) ([]*TimelineEntry, error) {
	m, err := s.TimelineOf(ctx, []string{orderID}, buyerOnly)
	return m[orderID], err
}

// guard is the condition under which a change spanning the order's
// dimensions may go ahead, and the columns it sets.
type guard struct {
	// The states each dimension must be in; nil accepts any.
	status      []Status
	payment     []PaymentStatus
	fulfillment []FulfillmentStatus
	now         time.Time
	// cancelled and completed stamp cancelled_at or completed_at.
	cancelled, completed bool
}

// Guard stamps the order's updated_at if, and only if, its dimensions are
// in the states g names, and reports whether they were. It is the first
// write of every change that spans dimensions (a cancellation needs
// nothing shipped and no money moved): on PostgreSQL it locks the row, so
// a concurrent change of another dimension waits and then finds the state
// it expected gone; on SQLite writers take turns anyway. The moves that
// follow in the same transaction then find the states g checked.
func (s *orderStore) Guard(ctx context.Context, orderID string, g guard) (bool, error) {
	q := s.db.Conn(ctx).NewUpdate().Table("orders").Set("updated_at = ?", g.now).Where("id = ?", orderID)
	if g.cancelled {
		q = q.Set("cancelled_at = ?", g.now)
	}
	if g.completed {
		q = q.Set("completed_at = ?", g.now)
	}
	if g.status != nil {
		q = q.Where("status IN (?)", bun.In(g.status))
	}
	if g.payment != nil {
		q = q.Where("payment_status IN (?)", bun.In(g.payment))
	}
	if g.fulfillment != nil {
		q = q.Where("fulfillment_status IN (?)", bun.In(g.fulfillment))
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("guard order %s: %w", orderID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("guard order %s: %w", orderID, err)
	}
	return n == 1, nil
}

// AddShipped counts q more units of an order line as shipped unless that
// would ship more than the line holds, and reports whether it did. The
// bound is in the WHERE clause, so concurrent shipments never exceed it.
func (s *orderStore) AddShipped(ctx context.Context, orderID, lineID string, q int64) (bool, error) {
	res, err := s.db.Conn(ctx).NewUpdate().Table("order_lines").
		Set("quantity_shipped = quantity_shipped + ?", q).
		Where("id = ? AND order_id = ? AND quantity_shipped + ? <= quantity", lineID, orderID, q).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("ship order line %s: %w", lineID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("ship order line %s: %w", lineID, err)
	}
	return n == 1, nil
}

// InsertShipment writes a shipment and its lines.
func (s *orderStore) InsertShipment(ctx context.Context, sh *Shipment) error {
	conn := s.db.Conn(ctx)
	if _, err := conn.NewInsert().Model(sh).Exec(ctx); err != nil {
		return fmt.Errorf("insert shipment: %w", err)
	}
	if _, err := conn.NewInsert().Model(&sh.Lines).Exec(ctx); err != nil {
		return fmt.Errorf("insert shipment lines: %w", err)
	}
	return nil
}

// MarkShipmentsDelivered stamps the order's shipments not yet delivered.
func (s *orderStore) MarkShipmentsDelivered(ctx context.Context, orderID string, now time.Time) error {
	if _, err := s.db.Conn(ctx).NewUpdate().Table("order_shipments").Set("delivered_at = ?", now).
		Where("order_id = ? AND delivered_at IS NULL", orderID).Exec(ctx); err != nil {
		return fmt.Errorf("mark shipments delivered: %w", err)
	}
	return nil
}

// InsertNote writes a staff note.
func (s *orderStore) InsertNote(ctx context.Context, n *Note) error {
	if _, err := s.db.Conn(ctx).NewInsert().Model(n).Exec(ctx); err != nil {
		return fmt.Errorf("insert order note: %w", err)
	}
	return nil
}

// claimed is an order ClaimGuestOrders attached to its buyer.
type claimed struct {
	ID     string `bun:"id"`
	Number string `bun:"number"`
}

// ClaimGuestOrders attaches every guest order placed with email to the
// customer, in one conditional UPDATE (an order already attached to
// someone is left alone), and returns the orders it attached.
func (s *orderStore) ClaimGuestOrders(ctx context.Context, customerID, email string, now time.Time) ([]claimed, error) {
	var out []claimed
	err := s.db.Conn(ctx).NewRaw(
		"UPDATE orders SET customer_id = ?, access_token_hash = '', updated_at = ? WHERE customer_id IS NULL AND email = ? RETURNING id, number",
		customerID, now, email).Scan(ctx, &out)
	if err != nil && !store.IsNoRows(err) {
		return nil, fmt.Errorf("claim guest orders: %w", err)
	}
	return out, nil
}

// listQuery is a validated Filter (or a buyer's own orders) with the
// paging of one request.
type listQuery struct {
	status      Status
	payment     PaymentStatus
	fulfillment FulfillmentStatus
	from, to    time.Time
	customerID  string
	method      string
	// seq, emailExact and emailLocal come from Filter.Query; at most one
	// is set.
	seq        int64
	emailExact string
	emailLocal string

	sortKey   SortKey
	ascending bool
	after     *page.Cursor
	limit     int
}

// List returns up to q.limit orders after q.after in q's order, each with
// its cursor. Every filter is a column of an index that also gives the
// default order (migration 0010), and paging is a keyset on (sort key,
// id), so a page costs the same wherever it starts.
func (s *orderStore) List(ctx context.Context, q listQuery) ([]*Order, []page.Cursor, error) {
	rows := make([]*Order, 0, q.limit)
	sel, err := s.listSelect(ctx, q, &rows)
	if err != nil {
		return nil, nil, err
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("list orders: %w", err)
	}
	cursors := make([]page.Cursor, len(rows))
	for i, o := range rows {
		c := page.Cursor{ID: o.ID}
		switch q.sortKey {
		case SortNumber:
			c.Key = strconv.FormatInt(o.Seq, 10)
		case SortTotal:
			c.Key = strconv.FormatInt(o.TotalAmount, 10)
		default:
			c.Key = o.CreatedAt.UTC().Format(time.RFC3339Nano)
		}
		cursors[i] = c
	}
	return rows, cursors, nil
}

// Count counts the orders matching q's filters, up to limit: the first
// limit orders of the list in its order (countSelect), whatever the
// shop's size.
func (s *orderStore) Count(ctx context.Context, q listQuery, limit int) (int, error) {
	sel, err := s.countSelect(ctx, q, limit)
	if err != nil {
		return 0, err
	}
	var n int
	if err := sel.Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("count orders: %w", err)
	}
	return n, nil
}

// countSelect builds the query of Count: the count of the list's first
// limit orders. Read in the list's order, they are the index entries its
// first pages read, newest first; without that order a planner may scan
// the table for a filter it thinks common (OPEN and PAID), reading past
// every old order to the recent ones that match.
func (s *orderStore) countSelect(ctx context.Context, q listQuery, limit int) (*bun.SelectQuery, error) {
	q.after, q.limit = nil, limit
	matching, err := pageOf(s.db.Conn(ctx).NewSelect().TableExpr("orders AS o").ColumnExpr("1"), q)
	if err != nil {
		return nil, err
	}
	return s.db.Conn(ctx).NewSelect().ColumnExpr("COUNT(*)").TableExpr("(?) AS m", matching), nil
}

// listSelect builds the query of List into rows.
func (s *orderStore) listSelect(ctx context.Context, q listQuery, rows *[]*Order) (*bun.SelectQuery, error) {
	return pageOf(s.db.Conn(ctx).NewSelect().Model(rows), q)
}

// pageOf adds q's filters, cursor, order and limit to sel, a query of
// orders aliased o.
func pageOf(sel *bun.SelectQuery, q listQuery) (*bun.SelectQuery, error) {
	sel = filterOrders(sel, q)

	var sortCol string
	switch q.sortKey {
	case SortNumber:
		sortCol = "o.seq"
	case SortTotal:
		sortCol = "o.total_amount"
	default:
		sortCol = "o.created_at"
	}
	op, dir := "<", "DESC"
	if q.ascending {
		op, dir = ">", "ASC"
	}
	if q.after != nil {
		key, err := cursorValue(q.sortKey, q.after.Key)
		if err != nil {
			return nil, err
		}
		if q.sortKey == SortNumber {
			// Numbers are unique: the number alone places the cursor.
			sel = sel.Where("o.seq "+op+" ?", key)
		} else {
			// A row value compares (key, id) as a pair, which both
			// engines answer from the (key, id) indexes.
			sel = sel.Where("("+sortCol+", o.id) "+op+" (?, ?)", key, q.after.ID)
		}
	}
	sel = sel.OrderExpr(sortCol + " " + dir)
	if q.sortKey != SortNumber {
		sel = sel.OrderExpr("o.id " + dir)
	}
	return sel.Limit(int64(q.limit)), nil
}

// filterOrders adds q's filters (statuses, dates, buyer, method, number
// or email) to sel, a query of orders aliased o.
func filterOrders(sel *bun.SelectQuery, q listQuery) *bun.SelectQuery {
	if q.status != "" {
		sel = sel.Where("o.status = ?", q.status)
	}
	if q.payment != "" {
		sel = sel.Where("o.payment_status = ?", q.payment)
	}
	if q.fulfillment != "" {
		sel = sel.Where("o.fulfillment_status = ?", q.fulfillment)
	}
	if !q.from.IsZero() {
		sel = sel.Where("o.created_at >= ?", q.from)
	}
	if !q.to.IsZero() {
		sel = sel.Where("o.created_at < ?", q.to)
	}
	if q.customerID != "" {
		sel = sel.Where("o.customer_id = ?", q.customerID)
	}
	if q.method != "" {
		sel = sel.Where("o.payment_method = ?", q.method)
	}
	switch {
	case q.seq != 0:
		sel = sel.Where("o.seq = ?", q.seq)
	case q.emailExact != "":
		sel = sel.Where("o.email = ?", q.emailExact)
	case q.emailLocal != "":
		sel = sel.Where("o.email_local = ?", q.emailLocal)
	}
	return sel
}

// cursorValue converts a cursor key back to the SQL value of the sort
// column.
func cursorValue(k SortKey, key string) (any, error) {
	bad := errs.Invalid("after", CodeInvalidCursor, "cursor is not valid")
	switch k {
	case SortNumber, SortTotal:
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, bad
		}
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, key)
	if err != nil {
		return nil, bad
	}
	return t.UTC(), nil
}

// Savepoint runs fn after a savepoint and rolls back to it when fn fails,
// so that a failed step leaves the caller's transaction as it found it:
// on PostgreSQL a failed statement would otherwise abort the whole
// transaction, and a caller that carried on after the error would commit
// half of the step. Events the step added to a batch of
// transition.RunBatched leave the batch with it. name is an identifier
// written in code.
func (s *orderStore) Savepoint(ctx context.Context, name string, fn func() error) error {
	conn := s.db.Conn(ctx)
	if _, err := conn.NewRaw("SAVEPOINT ?", bun.Ident(name)).Exec(ctx); err != nil {
		return fmt.Errorf("savepoint %s: %w", name, err)
	}
	rewind := transition.MarkBatch(ctx)
	if err := fn(); err != nil {
		rewind()
		if _, rerr := conn.NewRaw("ROLLBACK TO SAVEPOINT ?", bun.Ident(name)).Exec(ctx); rerr != nil {
			return fmt.Errorf("%w (and rolling back to savepoint %s: %v)", err, name, rerr)
		}
		if _, rerr := conn.NewRaw("RELEASE SAVEPOINT ?", bun.Ident(name)).Exec(ctx); rerr != nil {
			return fmt.Errorf("%w (and releasing savepoint %s: %v)", err, name, rerr)
		}
		return err
	}
	if _, err := conn.NewRaw("RELEASE SAVEPOINT ?", bun.Ident(name)).Exec(ctx); err != nil {
		return fmt.Errorf("release savepoint %s: %w", name, err)
	}
	return nil
}
