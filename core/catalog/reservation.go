package catalog

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
)

// The ledger reasons of stock moved by orders (Reservations). Staff cannot
// choose them: AdjustmentReason.Valid stays false for them.
const (
	// ReasonReserved is stock held for a placed order: reserved +q.
	ReasonReserved AdjustmentReason = "RESERVED"
	// ReasonReleased is a reservation given back (order cancelled or
	// unpaid at its deadline): reserved -q.
	ReasonReleased AdjustmentReason = "RELEASED"
	// ReasonShipped is reserved stock that left the shop: on hand -q,
	// reserved -q.
	ReasonShipped AdjustmentReason = "SHIPPED"
)

// ReservationLine is what one line of an order draws on a variant's stock.
// Several lines may name the same variant; their quantities add up.
type ReservationLine struct {
	VariantID string
	Quantity  int64
}

// ReservationsOptions configure NewReservations. Every field is optional.
type ReservationsOptions struct {
	// Clock stamps ledger rows; the system clock when nil.
	Clock clock.Clock
	// Outbox receives kassa.inventory.moved in the transaction of each
	// move, so every instance drops the public answers that showed the
	// old available quantity (CacheSubjects). core/app always sets it;
	// nil emits nothing, for tests of the ledger alone.
	Outbox Outbox
}

// Reservations moves stock for orders: Reserve at checkout, Release when
// an unpaid or cancelled order gives it back, Commit when it ships.
//
// It is the catalog's side of a port that the order package declares
// (ADR 0006), and it asks no authorizer: the calling domain has already
// authorized its own operation (a buyer completing checkout, staff
// cancelling), and a buyer holds no inventory permission. Only core/app
// builds it and hands it to other domains; GraphQL and the storefront
// never reach it. Every method joins the transaction in ctx (store.RunInTx),
// so the stock moves with the caller's order and goes back if the caller
// rolls back. Each move emits one kassa.inventory.moved (StockMovedEvent)
// through the outbox, in the same transaction: it says only that stock
// moved, so cached catalog answers are dropped; the order's own events
// (order.placed, order.cancelled, order.shipped) say why, and
// kassa.inventory.adjusted stays the event of adjustments by hand.
type Reservations struct {
	db     *store.DB
	store  *catalogStore
	clock  clock.Clock
	outbox Outbox
	// cache holds the checkout answers whose availability moves drop.
	cache *checkoutCache
}

// NewReservations returns the catalog's stock reservations over db.
func NewReservations(db *store.DB, opts ReservationsOptions) *Reservations {
	r := &Reservations{db: db, store: newCatalogStore(db), clock: opts.Clock, outbox: opts.Outbox, cache: checkoutCacheOf(db)}
	if r.clock == nil {
		r.clock = clock.System
	}
	return r
}

// Reserve holds stock for the order named by ref, all or nothing: one
// conditional UPDATE for all variants, of the sum of every line drawing on
// each, which never takes available stock below zero under any concurrency on
// either engine. A variant short of stock fails the whole request with an
// *InsufficientStockError; the caller's transaction must then roll back
// (on PostgreSQL the rows already reserved are undone by that rollback,
// and nothing is left half reserved). A second Reserve with the same ref
// and variant is refused with CodeAlreadyApplied.
func (r *Reservations) Reserve(ctx context.Context, ref string, lines []ReservationLine) error {
	return r.move(ctx, ReasonReserved, ref, lines)
}

// Release gives back stock reserved for ref (an order cancelled or unpaid
// at its deadline). It never takes reserved below zero (CodeNotReserved),
// and releases a ref's variant once (CodeAlreadyApplied).
func (r *Reservations) Release(ctx context.Context, ref string, lines []ReservationLine) error {
	return r.move(ctx, ReasonReleased, ref, lines)
}

// Commit turns reserved stock into shipped stock: on hand and reserved
// both go down by the quantity. ref names the shipment (an order may ship
// in parts), and each shipment commits a variant once. Neither figure
// goes below zero: more than is reserved is CodeNotReserved, more than is
// on hand (staff counted stock down under the reservation) is an
// *InsufficientStockError.
func (r *Reservations) Commit(ctx context.Context, ref string, lines []ReservationLine) error {
	return r.move(ctx, ReasonShipped, ref, lines)
}

// variantDraw is the sum a request draws on one variant.
type variantDraw struct {
	variantID string
	quantity  int64
	// field is the path of the first line naming the variant.
	field string
}

// sumLines validates a request and sums its lines per variant, in variant
// id order: every transaction touches rows in the same order, so two
// PostgreSQL transactions reserving the same variants queue instead of
// deadlocking.
func sumLines(ref string, lines []ReservationLine) ([]variantDraw, error) {
	var v errs.Validator
	v.Check(ref != "", "reference", CodeReferenceRequired, "name the order or shipment")
	v.Check(len(lines) > 0, "lines", CodeRequired, "at least one line")
	byVariant := map[string]*variantDraw{}
	var out []*variantDraw
	for i, l := range lines {
		field := "lines." + strconv.Itoa(i)
		v.Check(l.VariantID != "", field+".variantId", CodeRequired, "required")
		if l.Quantity <= 0 || l.Quantity > MaxQuantity {
			v.Add(errs.Invalid(field+".quantity", CodeInvalidQuantity, fmt.Sprintf("must be between 1 and %d", MaxQuantity)))
			continue
		}
		d := byVariant[l.VariantID]
		if d == nil {
			d = &variantDraw{variantID: l.VariantID, field: field + ".quantity"}
			byVariant[l.VariantID] = d
			out = append(out, d)
		}
		d.quantity += l.Quantity
		v.Check(d.quantity <= MaxQuantity, field+".quantity", CodeInvalidQuantity,
			fmt.Sprintf("lines of one variant must add up to at most %d", MaxQuantity))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *variantDraw) int {
		switch {
		case a.variantID < b.variantID:
			return -1
		case a.variantID > b.variantID:
			return 1
		}
		return 0
	})
	draws := make([]variantDraw, len(out))
	for i, d := range out {
		draws[i] = *d
	}
	return draws, nil
}

// move applies the conditional UPDATE of every variant in one statement
// and writes the ledger rows of every variant: in the same statement on
// PostgreSQL (MoveStocksLogged: the stock rows it locks stay locked to
// the caller's commit, one round trip fewer), in a second one on SQLite.
// A refusal is reported as one UPDATE and INSERT per variant in id order
// would report it: the first variant whose guard refused, unless a
// variant before it was moved for ref already (CodeAlreadyApplied).
func (r *Reservations) move(ctx context.Context, reason AdjustmentReason, ref string, lines []ReservationLine) error {
	draws, err := sumLines(ref, lines)
	if err != nil {
		return err
	}
	return r.db.RunInTx(ctx, func(ctx context.Context) error {
		now := r.clock.Now().UTC().Truncate(time.Microsecond)
		moved := StockMovedEvent{Reference: ref, Reason: reason, Variants: make([]StockMove, 0, len(draws))}
		rows := make([]stockMovementRow, len(draws))
		for i, d := range draws {
			row := stockMovementRow{InventoryAdjustment: InventoryAdjustment{
				ID: id.New("adj"), VariantID: d.variantID, Reason: reason, Note: ref,
				Actor: actor(ctx), CreatedAt: now,
			}, Reference: ref, ReservedDelta: d.quantity}
			if reason == ReasonReleased || reason == ReasonShipped {
				row.ReservedDelta = -d.quantity
			}
			if reason == ReasonShipped {
				row.Delta = -d.quantity
			}
			rows[i] = row
		}
		var levels map[string]InventoryLevel
		written := map[string]bool{}
		if r.db.Dialect == store.Postgres {
			if levels, written, err = r.store.MoveStocksLogged(ctx, reason, draws, rows, now); err != nil {
				return err
			}
		} else {
			if levels, err = r.store.MoveStocks(ctx, reason, draws, now); err != nil {
				return err
			}
			// The ledger rows of the variants before the first refused.
			var logged []stockMovementRow
			for i := range rows {
				l, ok := levels[rows[i].VariantID]
				if !ok {
					break
				}
				rows[i].OnHandAfter = l.OnHand
				logged = append(logged, rows[i])
				written[rows[i].VariantID] = true
			}
			if err := r.store.InsertStockMovements(ctx, logged); err != nil {
				return err
			}
		}
		for i, d := range draws {
			l, ok := levels[d.variantID]
			if !ok {
				return r.refusal(ctx, reason, d)
			}
			if !written[d.variantID] {
				return alreadyApplied(&rows[i])
			}
			rows[i].OnHandAfter = l.OnHand
			moved.Variants = append(moved.Variants, StockMove{VariantID: d.variantID, OnHandDelta: rows[i].Delta, ReservedDelta: rows[i].ReservedDelta})
		}
		eventID, err := r.emit(ctx, moved)
		if err != nil {
			return err
		}
		// Reserving and releasing change what carts see as available;
		// shipping takes the same quantity off on hand and reserved.
		if reason != ReasonShipped {
			r.cache.changedStock(ctx, levels, eventID)
		}
		return nil
	})
}

// emit adds kassa.inventory.moved to the outbox in ctx's transaction
// and returns its id ("" without an outbox). In a transition.RunBatched
// (order placement) the event joins the batch, inserted with the
// caller's own events in one statement when the batch ends, so no insert
// of its own runs while the stock rows just moved stay locked.
func (r *Reservations) emit(ctx context.Context, moved StockMovedEvent) (string, error) {
	if r.outbox == nil {
		return "", nil
	}
	e, err := events.New(SubjectStockMoved, moved)
	if err != nil {
		return "", fmt.Errorf("catalog: %w", err)
	}
	e.Actor = actor(ctx)
	if err := transition.Emit(ctx, r.outbox, e); err != nil {
		return "", err
	}
	return e.ID, nil
}

// refusal explains why the conditional UPDATE of d matched no row.
func (r *Reservations) refusal(ctx context.Context, reason AdjustmentReason, d variantDraw) error {
	l, err := r.store.LevelByVariantID(ctx, d.variantID)
	if err != nil {
		return withField(err, d.field[:len(d.field)-len(".quantity")]+".variantId")
	}
	switch {
	case reason == ReasonReserved:
		return &InsufficientStockError{VariantID: d.variantID, Requested: d.quantity, Available: l.Available(), Field: d.field}
	case l.Reserved < d.quantity:
		return errs.Conflict(d.field, CodeNotReserved,
			fmt.Sprintf("variant %s has %d reserved, not %d", d.variantID, l.Reserved, d.quantity))
	}
	return &InsufficientStockError{VariantID: d.variantID, Requested: d.quantity, Available: l.OnHand, Field: d.field}
}
