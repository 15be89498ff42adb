package resolver

import (
	"context"
	"errors"
	"fmt"
	"sync"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/core/kit/errs"
)

// invoiceReads reads the invoices of the orders of one request (or one
// subscription), for Order.invoices. The orders' parents do not announce
// them, so it batches the siblings that ask while a read is under way:
// the first order's field reads at once, the fields that ask meanwhile
// wait and are read together in the next one, and so on (no timer, ADR
// 0003). A page of orders costs a few statements, not one per order.
type invoiceReads struct {
	svc *invoice.Service

	// mu guards the rest; cond (on mu) and got are made by the first
	// get, so that the requests that read no invoices, nearly all of
	// them, pay for neither.
	mu   sync.Mutex
	cond sync.Cond
	busy bool
	// queue holds the orders waiting for the next read; got what the
	// reads found, until the order's field takes it. Keys are the
	// resolvers, not the order ids: a subscription resolves its order
	// again after every change, and must read its invoices again too.
	queue []invoiceWanted
	got   map[*orderResolver]invoiceResult
}

type invoiceWanted struct {
	key *orderResolver
	ref invoice.OrderRef
}

type invoiceResult struct {
	docs []*invoice.Invoice
	err  error
}

type invoiceReadsKey struct{}

// AttachInvoices returns ctx carrying a reader of invoices over svc for
// one request: Order.invoices reads through it. Attach it per request
// (graphql.Options.PerRequest), next to the loaders; a nil svc attaches
// nothing.
func AttachInvoices(ctx context.Context, svc *invoice.Service) context.Context {
	if svc == nil {
		return ctx
	}
	return context.WithValue(ctx, invoiceReadsKey{}, &invoiceReads{svc: svc})
}

func invoiceReadsFrom(ctx context.Context) *invoiceReads {
	l, _ := ctx.Value(invoiceReadsKey{}).(*invoiceReads)
	return l
}

// get returns the invoices of o's order, reading them with whatever other
// orders wait.
func (l *invoiceReads) get(ctx context.Context, o *orderResolver) ([]*invoice.Invoice, error) {
	ref := invoice.OrderRef{ID: o.o.ID}
	if o.o.CustomerID != nil {
		ref.CustomerID = *o.o.CustomerID
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.got == nil {
		l.got = map[*orderResolver]invoiceResult{}
		l.cond.L = &l.mu
	}
	l.queue = append(l.queue, invoiceWanted{key: o, ref: ref})
	for {
		if r, ok := l.got[o]; ok {
			delete(l.got, o)
			return r.docs, r.err
		}
		if l.busy {
			l.cond.Wait()
			continue
		}
		l.busy = true
		batch := l.queue
		if len(batch) > invoice.MaxBatch {
			batch = batch[:invoice.MaxBatch]
		}
		l.queue = l.queue[len(batch):]
		l.mu.Unlock()
		m, err := l.read(ctx, batch)
		l.mu.Lock()
		for _, w := range batch {
			l.got[w.key] = invoiceResult{docs: m[w.ref.ID], err: err}
		}
		l.busy = false
		l.cond.Broadcast()
	}
}

// read reads one batch; a panic becomes its error, so no waiter hangs.
func (l *invoiceReads) read(ctx context.Context, batch []invoiceWanted) (m map[string][]*invoice.Invoice, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("resolver: reading invoices panicked: %v", p)
		}
	}()
	refs := make([]invoice.OrderRef, len(batch))
	for i, w := range batch {
		refs[i] = w.ref
	}
	return l.svc.InvoicesOf(ctx, refs)
}

// Invoices resolves Order.invoices: staff and the order's signed-in
// buyer through the request's batched reads; a guest by the order's
// access token, which must open this order (another order's token, or
// one that opens none, lists nothing).
func (r *orderResolver) Invoices(ctx context.Context, args struct{ Token *string }) ([]*invoiceResolver, error) {
	l := invoiceReadsFrom(ctx)
	if l == nil {
		return nil, errors.New("resolver: invoices are not served here (no invoice reader attached to the request)")
	}
	var (
		docs []*invoice.Invoice
		err  error
	)
	if args.Token != nil && *args.Token != "" {
		var orderID string
		orderID, docs, err = l.svc.InvoicesByAccessToken(ctx, *args.Token)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			return []*invoiceResolver{}, nil
		case err != nil:
			return nil, err
		case orderID != r.o.ID:
			return []*invoiceResolver{}, nil
		}
	} else if docs, err = l.get(ctx, r); err != nil {
		return nil, err
	}
	out := make([]*invoiceResolver, len(docs))
	for i, d := range docs {
		out[i] = &invoiceResolver{d: d}
	}
	return out, nil
}

// invoiceResolver resolves Invoice; every field is a plain getter.
type invoiceResolver struct{ d *invoice.Invoice }

func (r *invoiceResolver) ID() gql.ID              { return gql.ID(r.d.ID) }
func (r *invoiceResolver) Kind() string            { return string(r.d.Kind) }
func (r *invoiceResolver) Number() string          { return r.d.Number }
func (r *invoiceResolver) CorrectsNumber() *string { return nonEmpty(r.d.OriginalNumber) }
func (r *invoiceResolver) RuleID() string          { return r.d.RuleID }
func (r *invoiceResolver) IssuedAt() catalogTime   { return catalogTime{r.d.IssuedAt} }
func (r *invoiceResolver) Total() *moneyResolver   { return newMoney(r.d.Total()) }
func (r *invoiceResolver) DownloadURL() string {
	return invoice.DownloadPath(r.d.OrderID, r.d.ID)
}
