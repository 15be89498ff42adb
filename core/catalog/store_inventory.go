package catalog

import (
	"context"
	"fmt"
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

// MoveStock applies the conditional UPDATE of a Reservations movement
// (reserve, release or ship q of a variant) and returns the new level; ok
// is false when the guard refused or the variant has no level. The guards
// are in the WHERE clause, so concurrent callers can never cross them; the
// CHECKs of inventory_levels are the last line of defence.
func (s *catalogStore) MoveStock(ctx context.Context, reason AdjustmentReason, variantID string, q int64, now time.Time) (l InventoryLevel, ok bool, err error) {
	var query string
	var args []any
	switch reason {
	case ReasonReserved:
		query = "UPDATE inventory_levels SET reserved = reserved + ?, updated_at = ? WHERE variant_id = ? AND on_hand - reserved >= ?"
		args = []any{q, now, variantID, q}
	case ReasonReleased:
		query = "UPDATE inventory_levels SET reserved = reserved - ?, updated_at = ? WHERE variant_id = ? AND reserved >= ?"
		args = []any{q, now, variantID, q}
	case ReasonShipped:
		query = "UPDATE inventory_levels SET on_hand = on_hand - ?, reserved = reserved - ?, updated_at = ? WHERE variant_id = ? AND reserved >= ? AND on_hand >= ?"
		args = []any{q, q, now, variantID, q, q}
	default:
		return InventoryLevel{}, false, fmt.Errorf("catalog: no stock movement for reason %s", reason)
	}
	err = s.db.Conn(ctx).NewRaw(query+" RETURNING variant_id, on_hand, reserved, updated_at", args...).Scan(ctx, &l)
	if store.IsNoRows(err) {
		return InventoryLevel{}, false, nil
	}
	if err != nil {
		return InventoryLevel{}, false, fmt.Errorf("%s stock: %w", reason, err)
	}
	return l, true, nil
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

// InsertStockMovement appends a ledger row of Reservations; the unique
// index on (reference, variant_id, reason) refuses a second one with
// CodeAlreadyApplied.
func (s *catalogStore) InsertStockMovement(ctx context.Context, row *stockMovementRow) error {
	_, err := s.db.Conn(ctx).NewInsert().Model(row).Exec(ctx)
	if store.IsUniqueViolation(err) {
		return alreadyApplied(row)
	}
	if err != nil {
		return fmt.Errorf("insert stock movement: %w", err)
	}
	return nil
}
