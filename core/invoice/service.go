package invoice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
)

// MaxBatch is the most orders one InvoicesOf call reads.
const MaxBatch = 500

// Rules lists the enabled invoice rules (core/plugin's Service).
type Rules interface {
	Rules(ctx context.Context) ([]Rule, error)
}

// Orders is the order and payment domains as invoicing needs them (ADR
// 0006): what a document shows of an order and a refund, and whose an
// order is. core/app adapts core/order and core/payment to it. It asks
// no permission: the invoice service checked its caller.
type Orders interface {
	// Order returns the order as its documents show it, Paid and Refunded
	// included; errs.ErrNotFound when there is none.
	Order(ctx context.Context, orderID string) (*Order, error)
	// Refund returns a refund of the order; errs.ErrNotFound when the
	// order has no such refund.
	Refund(ctx context.Context, orderID, refundID string) (*Refund, error)
	// Customer returns the order's buyer account, "" for a guest's
	// order; errs.ErrNotFound when there is no such order.
	Customer(ctx context.Context, orderID string) (string, error)
	// OrderIDByAccessToken returns the id of the order a guest's access
	// token opens; errs.ErrNotFound for a token that opens none.
	OrderIDByAccessToken(ctx context.Context, token string) (string, error)
}

// Outbox records events in the caller's transaction.
type Outbox interface {
	Add(ctx context.Context, e events.Event) error
}

// Options are what NewService needs besides the database.
type Options struct {
	// Authz is asked at the top of every read. Required.
	Authz authz.Authorizer
	// Outbox receives kassa.invoice.issued. Required.
	Outbox Outbox
	// Rules are the enabled invoice rule plugins. Required.
	Rules Rules
	// Orders reads orders and refunds. Required.
	Orders Orders
	// Seller is the shop as documents name it (at least its name); a
	// rule's own settings may override it field by field.
	Seller Party
	// Store scopes the sequences; default authz.DefaultStore.
	Store string
	// Clock dates documents and sequence values; nil is the system clock.
	Clock clock.Clock
	// Logger is the parent logger; nil is slog.Default().
	Logger *slog.Logger
}

// Service keeps the invoices and credit notes of orders: it issues them
// through the rules when events call for one (Handle), numbers them from
// gapless sequences, and lets staff and buyers read them.
type Service struct {
	db    *store.DB
	store *invoiceStore
	opt   Options
	log   *slog.Logger
}

// NewService returns the invoice service over db. It fails when a
// required option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("invoice: no database")
	case opts.Authz == nil:
		return nil, errors.New("invoice: Options.Authz is required")
	case opts.Outbox == nil:
		return nil, errors.New("invoice: Options.Outbox is required")
	case opts.Rules == nil:
		return nil, errors.New("invoice: Options.Rules is required")
	case opts.Orders == nil:
		return nil, errors.New("invoice: Options.Orders is required")
	}
	if opts.Store == "" {
		opts.Store = authz.DefaultStore
	}
	if opts.Clock == nil {
		opts.Clock = clock.System
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{db: db, store: &invoiceStore{db: db}, opt: opts, log: opts.Logger.With("component", "invoice")}, nil
}

func (s *Service) now() time.Time { return s.opt.Clock.Now().UTC().Truncate(time.Microsecond) }

// DownloadPath is where a document is downloaded over HTTP, relative to
// the shop's URL (core/app serves it): GET, by staff with invoice read,
// the order's signed-in buyer, or a guest adding ?token= with the order's
// access token.
func DownloadPath(orderID, documentID string) string {
	return "/orders/" + url.PathEscape(orderID) + "/invoices/" + url.PathEscape(documentID) + ".pdf"
}

// InvoicesOf returns the documents of each order, without their
// content, in the order they were issued: for lists, one query for up to
// MaxBatch orders. Staff with invoice read see any order's; a signed-in
// buyer (invoice read:own) their own orders', the orders being as the
// order service showed them to the caller (their CustomerID says whose
// they are); an order not theirs is INVOICE_NOT_FOUND. Guests, who own
// no order by account, read their order's documents with
// InvoicesByAccessToken.
func (s *Service) InvoicesOf(ctx context.Context, orders []OrderRef) (map[string][]*Invoice, error) {
	if err := authz.MayOwn(ctx, s.opt.Authz, authz.Invoice, authz.Read); err != nil {
		return nil, err
	}
	if len(orders) > MaxBatch {
		return nil, tooManyOrders()
	}
	if s.opt.Authz.Can(ctx, authz.Invoice, authz.Read) != nil {
		for _, o := range orders {
			if err := authz.CanOwn(ctx, s.opt.Authz, authz.Invoice, authz.Own(authz.Read), o.CustomerID); err != nil {
				if authz.SubjectFrom(ctx).Kind == authz.KindCustomer {
					return nil, notFound()
				}
				return nil, err
			}
		}
	}
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	docs, err := s.store.InvoicesOfOrders(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*Invoice, len(orders))
	for _, d := range docs {
		out[d.OrderID] = append(out[d.OrderID], d)
	}
	return out, nil
}

// InvoicesByAccessToken returns the documents of the order a guest's
// access token opens, without their content, and the order's id (invoice
// read:own). A token that opens no order is INVOICE_NOT_FOUND.
func (s *Service) InvoicesByAccessToken(ctx context.Context, token string) (string, []*Invoice, error) {
	if err := authz.MayOwn(ctx, s.opt.Authz, authz.Invoice, authz.Read); err != nil {
		return "", nil, err
	}
	if token == "" {
		return "", nil, notFound()
	}
	orderID, err := s.opt.Orders.OrderIDByAccessToken(ctx, token)
	if errors.Is(err, errs.ErrNotFound) {
		return "", nil, notFound()
	}
	if err != nil {
		return "", nil, err
	}
	docs, err := s.store.InvoicesOfOrders(ctx, []string{orderID})
	if err != nil {
		return "", nil, err
	}
	return orderID, docs, nil
}

// Download returns a document with its content: to staff with invoice
// read, to the order's signed-in buyer, or to a guest whose access token
// opens the order. Everyone else, and a document of another order than
// the one named, gets INVOICE_NOT_FOUND: whether a document exists is
// not revealed. The caller's right to the order is checked before the
// document is read.
func (s *Service) Download(ctx context.Context, in DownloadInput) (*Invoice, error) {
	if err := authz.MayOwn(ctx, s.opt.Authz, authz.Invoice, authz.Read); err != nil {
		return nil, err
	}
	if in.OrderID == "" || in.DocumentID == "" {
		return nil, notFound()
	}
	if s.opt.Authz.Can(ctx, authz.Invoice, authz.Read) != nil {
		ok, err := s.opensOrder(ctx, in.OrderID, in.AccessToken)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notFound()
		}
	}
	d, err := s.store.Invoice(ctx, in.DocumentID)
	if err != nil {
		return nil, err
	}
	if d.OrderID != in.OrderID {
		return nil, notFound()
	}
	return d, nil
}

// opensOrder reports whether a buyer may read the order's documents: a
// guest by the order's access token, a signed-in buyer by owning it.
func (s *Service) opensOrder(ctx context.Context, orderID, token string) (bool, error) {
	if token != "" {
		id, err := s.opt.Orders.OrderIDByAccessToken(ctx, token)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			return false, nil
		case err != nil:
			return false, err
		}
		return id == orderID, nil
	}
	if authz.SubjectFrom(ctx).Kind != authz.KindCustomer {
		return false, nil
	}
	customer, err := s.opt.Orders.Customer(ctx, orderID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return customer != "" && authz.CanOwn(ctx, s.opt.Authz, authz.Invoice, authz.Own(authz.Read), customer) == nil, nil
}

// emit adds an event to the outbox in the transaction carried by ctx.
func (s *Service) emit(ctx context.Context, subject string, payload any) error {
	ev, err := events.New(subject, payload)
	if err != nil {
		return err
	}
	ev.OccurredAt = s.now()
	sub := authz.SubjectFrom(ctx)
	ev.Actor = sub.ID
	if ev.Actor == "" {
		ev.Actor = string(sub.Kind)
	}
	if err := s.opt.Outbox.Add(ctx, ev); err != nil {
		return fmt.Errorf("invoice: add %s: %w", subject, err)
	}
	return nil
}
