package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// The queries of stock: levels, the ledger, and the guarded moves of
// adjustments by hand and of Reservations.

// LevelsByVariantIDs returns the stock of the given variants, by variant id.
func (s *catalogStore) LevelsByVariantIDs(ctx context.Context, ids []string) (map[string]InventoryLevel, error) {
	out := make(map[string]InventoryLevel, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var ls []InventoryLevel
	if err := s.db.Conn(ctx).NewSelect().Model(&ls).Where("variant_id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	for _, l := range ls {
		out[l.VariantID] = l
	}
	return out, nil
}

// AdjustOnHand adds delta to a variant's stock on hand unless that would
// take it below zero or above MaxQuantity, and returns the new level. ok
// is false when the guard refused (or the variant has no level). The guard
// is part of the UPDATE, so concurrent adjustments can never cross either
// bound.
func (s *catalogStore) AdjustOnHand(ctx context.Context, variantID string, delta int64, now time.Time) (l InventoryLevel, ok bool, err error) {
	err = s.db.Conn(ctx).NewRaw(
		"UPDATE inventory_levels SET on_hand = on_hand + ?, updated_at = ? WHERE variant_id = ? AND on_hand + ? >= 0 AND on_hand + ? <= ? RETURNING variant_id, on_hand, reserved, updated_at",
		delta, now, variantID, delta, delta, int64(MaxQuantity)).Scan(ctx, &l)
	if store.IsNoRows(err) {
		return InventoryLevel{}, false, nil
	}
	if err != nil {
		return InventoryLevel{}, false, fmt.Errorf("adjust inventory: %w", err)
	}
	return l, true, nil
}

// InsertAdjustment appends one row to the stock ledger.
func (s *catalogStore) InsertAdjustment(ctx context.Context, a *InventoryAdjustment) error {
	if _, err := s.db.Conn(ctx).NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("insert inventory adjustment: %w", err)
	}
	return nil
}

// Adjustments returns up to limit ledger rows of a variant, newest first,
// before the row with id before ("" for the newest).
func (s *catalogStore) Adjustments(ctx context.Context, variantID, before string, limit int) ([]InventoryAdjustment, error) {
	var as []InventoryAdjustment
	q := s.db.Conn(ctx).NewSelect().Model(&as).Where("variant_id = ?", variantID)
	if before != "" {
		q = q.Where("id < ?", before)
	}
	if err := q.OrderExpr("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read inventory adjustments: %w", err)
	}
	return as, nil
}

// stockMovementRow is a ledger row with the columns of migration 0007: a
// movement of Reservations.
type stockMovementRow struct {
	InventoryAdjustment `bun:",extend"`

	// ReservedDelta is added to reserved.
	ReservedDelta int64 `bun:"reserved_delta"`
	// Reference is the order or shipment that moved the stock.
	Reference string `bun:"reference"`
}

// moveStockText is the conditional UPDATE of each Reservations reason,
// with its arguments in the order args gives them.
var moveStockText = map[AdjustmentReason]string{
	ReasonReserved: "UPDATE inventory_levels SET reserved = reserved + ?, updated_at = ? WHERE variant_id = ? AND on_hand - reserved >= ?",
	ReasonReleased: "UPDATE inventory_levels SET reserved = reserved - ?, updated_at = ? WHERE variant_id = ? AND reserved >= ?",
	ReasonShipped:  "UPDATE inventory_levels SET on_hand = on_hand - ?, reserved = reserved - ?, updated_at = ? WHERE variant_id = ? AND reserved >= ? AND on_hand >= ?",
}

// MoveStock applies the conditional UPDATE of a Reservations movement
// (reserve, release or ship q of a variant) and returns the new level; ok
// is false when the guard refused or the variant has no level. The guards
// are in the WHERE clause, so concurrent callers can never cross them; the
// CHECKs of inventory_levels are the last line of defence. The statement
// is prepared: every checkout of one variant runs it (MoveStocks).
func (s *catalogStore) MoveStock(ctx context.Context, reason AdjustmentReason, variantID string, q int64, now time.Time) (l InventoryLevel, ok bool, err error) {
	query, known := moveStockText[reason]
	if !known {
		return InventoryLevel{}, false, fmt.Errorf("catalog: no stock movement for reason %s", reason)
	}
	var args []any
	if reason == ReasonShipped {
		args = []any{q, q, now, variantID, q, q}
	} else {
		args = []any{q, now, variantID, q}
	}
	rows, err := s.db.QueryStmt(ctx, query+" RETURNING variant_id, on_hand, reserved, updated_at", args...)
	if err != nil {
		return InventoryLevel{}, false, fmt.Errorf("%s stock: %w", reason, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return InventoryLevel{}, false, fmt.Errorf("%s stock: %w", reason, err)
		}
		return InventoryLevel{}, false, nil
	}
	if err := rows.Scan(&l.VariantID, &l.OnHand, &l.Reserved, store.ScanTime(&l.UpdatedAt)); err != nil {
		return InventoryLevel{}, false, fmt.Errorf("%s stock: %w", reason, err)
	}
	if err := rows.Close(); err != nil {
		return InventoryLevel{}, false, fmt.Errorf("%s stock: %w", reason, err)
	}
	return l, true, nil
}

// moveStocksSet is the SET and guard of each Reservations reason over the
// rows of the VALUES list d (vid, qty) in moveStocksText.
var moveStocksSet = map[AdjustmentReason]string{
	ReasonReserved: "SET reserved = reserved + d.qty, updated_at = ? FROM d WHERE inventory_levels.variant_id = d.vid AND on_hand - reserved >= d.qty",
	ReasonReleased: "SET reserved = reserved - d.qty, updated_at = ? FROM d WHERE inventory_levels.variant_id = d.vid AND reserved >= d.qty",
	ReasonShipped:  "SET on_hand = on_hand - d.qty, reserved = reserved - d.qty, updated_at = ? FROM d WHERE inventory_levels.variant_id = d.vid AND reserved >= d.qty AND on_hand >= d.qty",
}

// moveStocksText is the conditional UPDATE of n variants at once for a
// reason: the variant ids and quantities, then the time, bound. On
// PostgreSQL the rows are first locked in variant id order (the
// materialized FOR UPDATE, whose sort runs before its locks), so two
// orders drawing on the same variants queue instead of deadlocking, as
// the one-statement-per-variant moves did; the guard is still the
// UPDATE's WHERE, re-checked on the newest row after a wait. SQLite runs
// one writer at a time and needs no lock order.
func moveStocksText(dialect store.Dialect, reason AdjustmentReason, n int) string {
	values := strings.TrimSuffix(strings.Repeat("(?, CAST(? AS BIGINT)), ", n), ", ")
	q := "WITH d(vid, qty) AS (VALUES " + values + ")"
	where := ""
	if dialect == store.Postgres {
		q += ", locked AS MATERIALIZED (SELECT variant_id FROM inventory_levels WHERE variant_id IN (SELECT vid FROM d) ORDER BY variant_id FOR UPDATE)"
		where = " AND inventory_levels.variant_id IN (SELECT variant_id FROM locked)"
	}
	return q + " UPDATE inventory_levels " + moveStocksSet[reason] + where +
		" RETURNING variant_id, on_hand, reserved, updated_at"
}

// MoveStocks applies the conditional UPDATE of a Reservations movement to
// every draw in one statement and returns the new levels of the variants
// it moved, by id; a variant whose guard refused (or that has no level)
// is absent, and the caller must roll back the others. One draw runs
// MoveStock's simpler statement. The statements are prepared (one text
// per reason and number of variants).
func (s *catalogStore) MoveStocks(ctx context.Context, reason AdjustmentReason, draws []variantDraw, now time.Time) (map[string]InventoryLevel, error) {
	out := make(map[string]InventoryLevel, len(draws))
	if len(draws) == 1 {
		l, ok, err := s.MoveStock(ctx, reason, draws[0].variantID, draws[0].quantity, now)
		if ok {
			out[l.VariantID] = l
		}
		return out, err
	}
	if _, known := moveStocksSet[reason]; !known {
		return nil, fmt.Errorf("catalog: no stock movement for reason %s", reason)
	}
	args := make([]any, 0, 2*len(draws)+1)
	for _, d := range draws {
		args = append(args, d.variantID, d.quantity)
	}
	args = append(args, now)
	rows, err := s.db.QueryStmt(ctx, moveStocksText(s.db.Dialect, reason, len(draws)), args...)
	if err != nil {
		return nil, fmt.Errorf("%s stock: %w", reason, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l InventoryLevel
		if err := rows.Scan(&l.VariantID, &l.OnHand, &l.Reserved, store.ScanTime(&l.UpdatedAt)); err != nil {
			return nil, fmt.Errorf("%s stock: %w", reason, err)
		}
		out[l.VariantID] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s stock: %w", reason, err)
	}
	return out, nil
}

// moveStocksLoggedText is MoveStocksLogged's statement for n variants
// (PostgreSQL only): moveStocksText's locks and conditional UPDATE, and
// the ledger rows of the variants it moved inserted from its RETURNING
// (their on_hand_after), so the stock rows stay locked for one round trip
// less. Bound: per variant its id, quantity, ledger row id, delta and
// reserved delta; then the time of the UPDATE; then the ledger's reason,
// note, actor, time and reference.
func moveStocksLoggedText(reason AdjustmentReason, n int) string {
	values := strings.TrimSuffix(strings.Repeat("(?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT), CAST(? AS BIGINT)), ", n), ", ")
	return "WITH d(vid, qty, adj, delta, rdelta) AS (VALUES " + values + ")" +
		", locked AS MATERIALIZED (SELECT variant_id FROM inventory_levels WHERE variant_id IN (SELECT vid FROM d) ORDER BY variant_id FOR UPDATE)" +
		", u AS (UPDATE inventory_levels " + moveStocksSet[reason] + " AND inventory_levels.variant_id IN (SELECT variant_id FROM locked)" +
		" RETURNING inventory_levels.variant_id, inventory_levels.on_hand, inventory_levels.reserved, inventory_levels.updated_at)" +
		", a AS (INSERT INTO inventory_adjustments (" + stockMovementColumns + ")" +
		" SELECT d.adj, u.variant_id, d.delta, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), u.on_hand, CAST(? AS TIMESTAMP), d.rdelta, CAST(? AS TEXT)" +
		" FROM u JOIN d ON d.vid = u.variant_id ORDER BY u.variant_id ON CONFLICT DO NOTHING RETURNING variant_id)" +
		" SELECT u.variant_id, u.on_hand, u.reserved, u.updated_at, a.variant_id IS NOT NULL FROM u LEFT JOIN a ON a.variant_id = u.variant_id"
}

// MoveStocksLogged is MoveStocks and InsertStockMovements in one
// statement, on PostgreSQL: rows are the ledger rows of draws, in the
// same order, whose OnHandAfter the statement fills from the new level.
// It returns the new levels of the variants it moved, by id, and which of
// them got their ledger row (a variant whose row the unique index kept
// out, a movement applied already, is absent from written). The caller
// rolls back when a variant is missing from either.
func (s *catalogStore) MoveStocksLogged(ctx context.Context, reason AdjustmentReason, draws []variantDraw, rows []stockMovementRow, now time.Time) (levels map[string]InventoryLevel, written map[string]bool, err error) {
	if _, known := moveStocksSet[reason]; !known {
		return nil, nil, fmt.Errorf("catalog: no stock movement for reason %s", reason)
	}
	if len(draws) == 0 || len(rows) != len(draws) {
		return nil, nil, fmt.Errorf("catalog: %d ledger rows for %d variants", len(rows), len(draws))
	}
	args := make([]any, 0, 5*len(draws)+6)
	for i, d := range draws {
		args = append(args, d.variantID, d.quantity, rows[i].ID, rows[i].Delta, rows[i].ReservedDelta)
	}
	r0 := rows[0]
	args = append(args, now, string(r0.Reason), r0.Note, r0.Actor, r0.CreatedAt, r0.Reference)
	rs, err := s.db.QueryStmt(ctx, moveStocksLoggedText(reason, len(draws)), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s stock: %w", reason, err)
	}
	defer rs.Close()
	levels = make(map[string]InventoryLevel, len(draws))
	written = make(map[string]bool, len(draws))
	for rs.Next() {
		var (
			l  InventoryLevel
			ok bool
		)
		if err := rs.Scan(&l.VariantID, &l.OnHand, &l.Reserved, store.ScanTime(&l.UpdatedAt), &ok); err != nil {
			return nil, nil, fmt.Errorf("%s stock: %w", reason, err)
		}
		levels[l.VariantID] = l
		written[l.VariantID] = ok
	}
	if err := rs.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s stock: %w", reason, err)
	}
	return levels, written, rs.Close()
}

// LevelByVariantID reads one variant's stock, or errs.ErrNotFound.
func (s *catalogStore) LevelByVariantID(ctx context.Context, variantID string) (InventoryLevel, error) {
	var l InventoryLevel
	err := s.db.Conn(ctx).NewSelect().Model(&l).Where("variant_id = ?", variantID).Limit(1).Scan(ctx)
	if store.IsNoRows(err) {
		return InventoryLevel{}, variantNotFound("")
	}
	if err != nil {
		return InventoryLevel{}, fmt.Errorf("read inventory: %w", err)
	}
	return l, nil
}

// stockMovementColumns are the columns of a stockMovementRow, in the
// order InsertStockMovements binds them.
const stockMovementColumns = "id, variant_id, delta, reason, note, actor, on_hand_after, created_at, reserved_delta, reference"

// InsertStockMovements appends ledger rows of Reservations, in one
// statement. The unique index on (reference, variant_id, reason) keeps a
// second row of a movement out: the first row, in the given order, that
// it kept out is refused with CodeAlreadyApplied (and the others are
// written: the caller rolls back on the error).
func (s *catalogStore) InsertStockMovements(ctx context.Context, rows []stockMovementRow) error {
	if len(rows) == 0 {
		return nil
	}
	row := "(" + strings.Repeat("?, ", strings.Count(stockMovementColumns, ",")) + "?)"
	args := make([]any, 0, 10*len(rows))
	for _, r := range rows {
		args = append(args, r.ID, r.VariantID, r.Delta, string(r.Reason), r.Note, r.Actor, r.OnHandAfter, r.CreatedAt,
			r.ReservedDelta, r.Reference)
	}
	q := "INSERT INTO inventory_adjustments (" + stockMovementColumns + ") VALUES " +
		strings.Repeat(row+", ", len(rows)-1) + row + " ON CONFLICT DO NOTHING RETURNING id"
	rs, err := s.db.QueryStmt(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("insert stock movements: %w", err)
	}
	defer rs.Close()
	written := make(map[string]bool, len(rows))
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return fmt.Errorf("insert stock movements: %w", err)
		}
		written[id] = true
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("insert stock movements: %w", err)
	}
	for i := range rows {
		if !written[rows[i].ID] {
			return alreadyApplied(&rows[i])
		}
	}
	return nil
}
