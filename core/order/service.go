package order

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
)

// StockReserver moves the stock of an order's lines (ADR 0006):
// catalog.Reservations satisfies it, and only core/app holds one. It asks
// no permission: the order service authorized its own operation first.
// Every method joins the transaction in ctx.
type StockReserver interface {
	// Reserve holds stock for the order named by ref, all or nothing; a
	// variant short of stock fails with *catalog.InsufficientStockError.
	Reserve(ctx context.Context, ref string, lines []catalog.ReservationLine) error
	// Release gives back stock the order named by ref reserved.
	Release(ctx context.Context, ref string, lines []catalog.ReservationLine) error
	// Commit turns reserved stock into shipped stock; ref names the
	// shipment.
	Commit(ctx context.Context, ref string, lines []catalog.ReservationLine) error
}

// Settings reads the shop's settings (the payment deadline, the reminder
// lead, the order number prefix). shop.Service satisfies it.
type Settings interface {
	Settings(ctx context.Context) (*shop.Settings, error)
}

// Customers tells the order who a signed-in buyer is: the email address
// of their account and whether they proved they own it. Guest orders are
// claimed on that proof only (ClaimGuestOrders). core/app adapts the
// account service to it.
type Customers interface {
	VerifiedEmail(ctx context.Context, customerID string) (email string, verified bool, err error)
}

// Options configure NewService. Every field but Clock and Keys is required.
type Options struct {
	// Authz is asked before every operation, with the subject in the
	// context: order read/write for staff, their own variants for buyers.
	Authz authz.Authorizer
	// Outbox records the order's events in the transaction of the change
	// that causes them.
	Outbox Outbox
	// Stock reserves, releases and ships the stock of orders:
	// catalog.Reservations in the app.
	Stock StockReserver
	// Settings are the shop's settings: shop.Service in the app.
	Settings Settings
	// Customers vouches for a buyer's email address when they claim the
	// orders they placed as a guest.
	Customers Customers
	// Clock stamps orders and deadlines; nil is the system clock.
	Clock clock.Clock
	// Keys make staff bulk actions happen once per idempotency key (scope
	// BulkScope); nil builds keys over db with Clock.
	Keys *idempotency.Keys
}

// Service holds orders: it places them at checkout (for the cart), lets
// staff ship, deliver, complete, cancel and annotate them, lets buyers
// read and cancel their own, and moves the three status dimensions through
// their transition tables (Statuses, BuyerStatuses, PaymentStatuses,
// FulfillmentStatuses).
type Service struct {
	db        *store.DB
	store     *orderStore
	authz     authz.Authorizer
	outbox    Outbox
	stock     StockReserver
	settings  Settings
	customers Customers
	clock     clock.Clock
	keys      *idempotency.Keys
	// closer closes an order's payments before it is cancelled
	// (UsePaymentCloser); nil closes nothing.
	closer PaymentCloser

	// countBudget is CountBudget; tests shorten it.
	countBudget time.Duration

	statuses      *transition.Machine[Status]
	buyerStatuses *transition.Machine[Status]
	payments      *transition.Machine[PaymentStatus]
	fulfillments  *transition.Machine[FulfillmentStatus]
}

// NewService returns the order service over db. It fails when a required
// option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("order: no database")
	case opts.Authz == nil:
		return nil, errors.New("order: Options.Authz is required")
	case opts.Outbox == nil:
		return nil, errors.New("order: Options.Outbox is required")
	case opts.Stock == nil:
		return nil, errors.New("order: Options.Stock is required")
	case opts.Settings == nil:
		return nil, errors.New("order: Options.Settings is required")
	case opts.Customers == nil:
		return nil, errors.New("order: Options.Customers is required")
	}
	s := &Service{db: db, store: newOrderStore(db), authz: opts.Authz, outbox: opts.Outbox,
		stock: opts.Stock, settings: opts.Settings, customers: opts.Customers, clock: opts.Clock, countBudget: CountBudget}
	if s.clock == nil {
		s.clock = clock.System
	}
	if s.keys = opts.Keys; s.keys == nil {
		var err error
		if s.keys, err = idempotency.NewKeys(db, idempotency.Options{Clock: s.clock}); err != nil {
			return nil, err
		}
	}
	mopts := transition.Options{DB: db, Outbox: opts.Outbox, Authorizer: opts.Authz, Clock: s.clock}
	var err error
	if s.statuses, err = transition.NewMachine(Statuses, storage("status"), mopts); err != nil {
		return nil, err
	}
	if s.buyerStatuses, err = transition.NewMachine(BuyerStatuses, storage("status"), mopts); err != nil {
		return nil, err
	}
	if s.payments, err = transition.NewMachine(PaymentStatuses, storage("payment_status"), mopts); err != nil {
		return nil, err
	}
	if s.fulfillments, err = transition.NewMachine(FulfillmentStatuses, storage("fulfillment_status"), mopts); err != nil {
		return nil, err
	}
	return s, nil
}

// now is the time of a write, cut to the microsecond PostgreSQL keeps, so
// what a mutation returns equals what a later read returns.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// isStaff reports whether the caller reads every order.
func (s *Service) isStaff(ctx context.Context) bool {
	return s.authz.Can(ctx, authz.Order, authz.Read) == nil
}

// ownedByCaller reports whether o belongs to the signed-in buyer in ctx.
func ownedByCaller(ctx context.Context, o *Order) bool {
	sub := authz.SubjectFrom(ctx)
	return sub.Kind == authz.KindCustomer && sub.ID != "" && o.CustomerID != nil && *o.CustomerID == sub.ID
}

// hashToken is how a guest access token is stored: its SHA-256, in hex.
// The token carries 256 random bits, so a plain hash is enough (no salt
// or stretching protects anything a guess could find).
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newAccessToken returns a fresh guest access token.
func newAccessToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("order: access token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Get returns an order with its lines, shipments and timeline. Staff with
// order read see every order, with notes and the whole timeline; a buyer
// (order read:own) sees their own orders, and to them every other order
// does not exist. Guests read their order with GetByAccessToken.
func (s *Service) Get(ctx context.Context, orderID string) (*Detail, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Order, authz.Read); err != nil {
		return nil, err
	}
	o, err := s.store.OrderByID(ctx, orderID)
	if err != nil {
		return nil, err
	}
	staff := s.isStaff(ctx)
	if !staff && !ownedByCaller(ctx, o) {
		return nil, orderNotFound()
	}
	return s.detail(ctx, o, staff)
}

// GetByAccessToken returns the order a guest's access token opens (the
// token Place returned at checkout), as its buyer sees it. Needs order
// read:own; a wrong token is not found.
func (s *Service) GetByAccessToken(ctx context.Context, token string) (*Detail, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Order, authz.Read); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, orderNotFound()
	}
	o, err := s.store.OrderByTokenHash(ctx, hashToken(token))
	if err != nil {
		return nil, err
	}
	return s.detail(ctx, o, s.isStaff(ctx))
}

// detail loads what Detail shows to staff or to the order's buyer.
func (s *Service) detail(ctx context.Context, o *Order, staff bool) (*Detail, error) {
	ds, err := s.details(ctx, []*Order{o}, staff)
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// Details returns the details of a page of orders the caller listed (List
// or MyOrders), in the same order, reading each kind of record once for
// the whole page. Staff with order read see everything; anyone else only
// their own orders, as Get shows them (an order not theirs is not found).
func (s *Service) Details(ctx context.Context, orders []*Order) ([]*Detail, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Order, authz.Read); err != nil {
		return nil, err
	}
	staff := s.isStaff(ctx)
	if !staff {
		for _, o := range orders {
			if !ownedByCaller(ctx, o) {
				return nil, orderNotFound()
			}
		}
	}
	return s.details(ctx, orders, staff)
}

// details loads the lines, shipments, timeline and (for staff) notes of
// orders with one query per kind.
func (s *Service) details(ctx context.Context, orders []*Order, staff bool) ([]*Detail, error) {
	out := make([]*Detail, len(orders))
	if len(orders) == 0 {
		return out, nil
	}
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	lines, err := s.store.LinesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	shipments, err := s.store.ShipmentsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	timeline, err := s.store.TimelineOf(ctx, ids, !staff)
	if err != nil {
		return nil, err
	}
	var notes map[string][]*Note
	if staff {
		if notes, err = s.store.NotesOf(ctx, ids); err != nil {
			return nil, err
		}
	}
	// Buyers learn that staff acted, not which staff member.
	me := authz.SubjectFrom(ctx).ID
	for i, o := range orders {
		d := &Detail{Order: o, Lines: lines[o.ID], Shipments: shipments[o.ID], Timeline: timeline[o.ID]}
		if staff {
			d.Notes = notes[o.ID]
		} else {
			for _, e := range d.Timeline {
				if e.Actor != nil && (me == "" || *e.Actor != me) {
					e.Actor = nil
				}
			}
		}
		out[i] = d
	}
	return out, nil
}

// MyOrders returns a page of the signed-in buyer's orders, newest first.
// Needs order read:own and a signed-in buyer.
func (s *Service) MyOrders(ctx context.Context, req page.Request) (page.Page[*Order], error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Own(authz.Read)); err != nil {
		return page.Page[*Order]{}, err
	}
	sub := authz.SubjectFrom(ctx)
	if sub.Kind != authz.KindCustomer || sub.ID == "" {
		return page.Page[*Order]{}, errs.Unauthenticated("sign in to see your orders")
	}
	return s.list(ctx, listQuery{customerID: sub.ID, sortKey: SortCreatedAt}, req)
}

// List returns a page of orders for staff (order read), matching f in f's
// order. Pages are keyset-paginated: a cursor stays valid, and pages stay
// free of gaps and repeats, while orders are placed.
func (s *Service) List(ctx context.Context, f Filter, req page.Request) (page.Page[*Order], error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Read); err != nil {
		return page.Page[*Order]{}, err
	}
	q, err := s.listQueryOf(ctx, f)
	if err != nil {
		return page.Page[*Order]{}, err
	}
	return s.list(ctx, q, req)
}

// The bounds of Count.
const (
	// DefaultCountLimit is how far Count counts when not told: the staff
	// list says "of more than 1,000" beyond it.
	DefaultCountLimit = 1000
	// MaxCountLimit is the most a caller may ask Count to count.
	MaxCountLimit = 10000
	// CountBudget is the longest Count counts. Counting reads up to the
	// limit's index entries, which is quick along one filter's index; a
	// rare combination of filters on a big shop (two statuses that seldom
	// meet) may read much further, and is given up rather than slowing
	// the database for a figure.
	CountBudget = 100 * time.Millisecond
)

// OrderCount is how many orders a filter matches, as far as Count counted.
type OrderCount struct {
	// N is the number of matching orders, or the limit when More.
	N int
	// More is true when more orders than the limit match.
	More bool
	// Known is false when counting took longer than CountBudget: N and
	// More say nothing then.
	Known bool
}

// Count says how many orders match f for staff (order read), counting
// at most limit (DefaultCountLimit when 0, at most MaxCountLimit): the
// whole list's total costs a scan of every order, which a shop of
// millions cannot afford on each page, while "more than 1,000" tells
// staff as much. f's sort is ignored.
//
// Codes: those of List's filter, INVALID_LIMIT.
func (s *Service) Count(ctx context.Context, f Filter, limit int) (OrderCount, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Read); err != nil {
		return OrderCount{}, err
	}
	if limit == 0 {
		limit = DefaultCountLimit
	}
	if limit < 1 || limit > MaxCountLimit {
		return OrderCount{}, errs.Invalid("limit", CodeInvalidLimit, fmt.Sprintf("count between 1 and %d orders", MaxCountLimit))
	}
	q, err := s.listQueryOf(ctx, f)
	if err != nil {
		return OrderCount{}, err
	}
	budget, cancel := context.WithTimeout(ctx, s.countBudget)
	defer cancel()
	n, err := s.store.Count(budget, q, limit+1)
	switch {
	case err != nil && budget.Err() != nil && ctx.Err() == nil:
		return OrderCount{}, nil
	case err != nil:
		return OrderCount{}, err
	case n > limit:
		return OrderCount{N: limit, More: true, Known: true}, nil
	}
	return OrderCount{N: n, Known: true}, nil
}

// listQueryOf checks a staff filter and turns it into the store's query.
func (s *Service) listQueryOf(ctx context.Context, f Filter) (listQuery, error) {
	q := listQuery{status: f.Status, payment: f.PaymentStatus, fulfillment: f.FulfillmentStatus,
		from: f.CreatedFrom.UTC(), to: f.CreatedTo.UTC(), customerID: f.CustomerID, method: f.PaymentMethod,
		sortKey: f.SortKey, ascending: f.Ascending}
	var v errs.Validator
	v.Check(f.Status == "" || validStatus(f.Status), "status", CodeInvalidStatus, "unknown order status "+strconv.Quote(string(f.Status)))
	v.Check(f.PaymentStatus == "" || validPaymentStatus(f.PaymentStatus), "paymentStatus", CodeInvalidStatus,
		"unknown payment status "+strconv.Quote(string(f.PaymentStatus)))
	v.Check(f.FulfillmentStatus == "" || validFulfillmentStatus(f.FulfillmentStatus), "fulfillmentStatus", CodeInvalidStatus,
		"unknown fulfillment status "+strconv.Quote(string(f.FulfillmentStatus)))
	v.Check(q.from.IsZero() || q.to.IsZero() || q.from.Before(q.to), "createdTo", CodeInvalidDateRange,
		"the end of the range comes after its start")
	switch f.SortKey {
	case "":
		q.sortKey = SortCreatedAt
	case SortCreatedAt, SortNumber, SortTotal:
	default:
		v.Add(errs.Invalid("sortKey", CodeInvalidSortKey, "unknown sort key "+strconv.Quote(string(f.SortKey))))
	}
	if err := v.Err(); err != nil {
		return listQuery{}, err
	}
	if text := strings.ToLower(strings.TrimSpace(f.Query)); text != "" {
		set, err := s.settings.Settings(ctx)
		if err != nil {
			return listQuery{}, err
		}
		switch seq, ok := parseNumber(text, strings.ToLower(set.OrderNumberPrefix)); {
		case ok:
			q.seq = seq
		case strings.Contains(text, "@"):
			q.emailExact = text
		default:
			q.emailLocal = text
		}
	}
	return q, nil
}

func (s *Service) list(ctx context.Context, q listQuery, req page.Request) (page.Page[*Order], error) {
	p := page.Page[*Order]{HasPrevious: req.After != nil}
	if req.First <= 0 {
		return p, nil
	}
	q.after, q.limit = req.After, req.First+1
	items, cursors, err := s.store.List(ctx, q)
	if err != nil {
		return page.Page[*Order]{}, err
	}
	if len(items) > req.First {
		items, cursors, p.HasNext = items[:req.First], cursors[:req.First], true
	}
	p.Items, p.Cursors = items, cursors
	return p, nil
}

// parseNumber reads an order number as staff type it: with the shop's
// prefix, with "#", or bare digits.
func parseNumber(text, prefix string) (int64, bool) {
	if prefix != "" {
		text = strings.TrimPrefix(text, prefix)
	}
	text = strings.TrimPrefix(text, "#")
	if text == "" || len(text) > 18 || strings.TrimLeft(text, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return n, err == nil && n > 0
}

func validStatus(s Status) bool { return s == Open || s == Completed || s == Cancelled }

func validPaymentStatus(s PaymentStatus) bool {
	switch s {
	case PaymentPending, PaymentAuthorized, PaymentPaid, PaymentPartiallyPaid, PaymentPartiallyRefunded, PaymentRefunded, PaymentVoided, PaymentFailed:
		return true
	}
	return false
}

func validFulfillmentStatus(s FulfillmentStatus) bool {
	switch s {
	case Unfulfilled, PartiallyFulfilled, Fulfilled, Delivered, Returned:
		return true
	}
	return false
}
