package invoice_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

var occurred = time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)

// fixture is an invoice service over a real database, outbox and
// Casbin policy, with rules and orders the test controls.
type fixture struct {
	db     *store.DB
	svc    *invoice.Service
	rules  *ruleSet
	orders *orderBook
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	f := &fixture{db: db, rules: &ruleSet{}, orders: &orderBook{orders: map[string]*invoice.Order{}, tokens: map[string]string{}, refunds: map[string]*invoice.Refund{}}}
	f.svc, err = invoice.NewService(db, invoice.Options{Authz: enf, Outbox: events.NewOutbox(db), Rules: f.rules, Orders: f.orders,
		Seller: invoice.Party{Name: "Tea House"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// order inserts an order row (the documents reference it) and makes it
// known to the orders port.
func (f *fixture) order(t *testing.T, id, customer, token string) *invoice.Order {
	t.Helper()
	ctx := context.Background()
	if customer != "" {
		if _, err := f.db.NewRaw(`INSERT INTO customers (id, email, created_at, updated_at) VALUES (?, ?, ?, ?)`,
			customer, customer+"@example.com", occurred, occurred).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var cust any
	if customer != "" {
		cust = customer
	}
	seq := len(f.orders.orders) + 1001
	if _, err := f.db.NewRaw(`INSERT INTO orders (id, seq, number, customer_id, email, currency, status, payment_status, fulfillment_status,
			shipping_address, billing_address, subtotal_amount, total_amount, payment_deadline, remind_at, cart_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'buyer@example.com', 'EUR', 'OPEN', 'PAID', 'UNFULFILLED', '{}', '{}', 3000, 3500, ?, ?, ?, ?, ?)`,
		id, seq, fmt.Sprintf("#%d", seq), cust, occurred, occurred, "crt_"+id, occurred, occurred).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	eur := func(n int64) money.Money { return money.New(n, money.EUR) }
	o := &invoice.Order{ID: id, Number: fmt.Sprintf("#%d", seq), Currency: money.EUR, PlacedAt: occurred, CustomerID: customer,
		Buyer: invoice.Party{Name: "Ada Lovelace", Email: "buyer@example.com"},
		Lines: []invoice.Line{{ID: "ol_" + id, SKU: "TEA-1", Name: "Oolong", Quantity: 3, UnitPrice: eur(1000), Discount: eur(0),
			Tax: eur(479), Total: eur(3000), PricesIncludeTax: true}},
		Totals: invoice.Totals{Subtotal: eur(3000), Discount: eur(0), Shipping: eur(500), Tax: eur(559), Total: eur(3500), Paid: eur(3500), Refunded: eur(0)}}
	f.orders.mu.Lock()
	f.orders.orders[id] = o
	if token != "" {
		f.orders.tokens[token] = id
	}
	f.orders.mu.Unlock()
	return o
}

// outbox counts the events of a subject.
func (f *fixture) outbox(t *testing.T, subject string) int {
	t.Helper()
	var n int
	if err := f.db.NewRaw("SELECT COUNT(*) FROM outbox_events WHERE subject = ?", subject).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// orderBook is the Orders port over a map.
type orderBook struct {
	mu      sync.Mutex
	orders  map[string]*invoice.Order
	tokens  map[string]string
	refunds map[string]*invoice.Refund
}

func (b *orderBook) Order(_ context.Context, id string) (*invoice.Order, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.orders[id]
	if !ok {
		return nil, errs.NotFound("ORDER_NOT_FOUND", "no order")
	}
	c := *o
	return &c, nil
}

func (b *orderBook) Refund(_ context.Context, orderID, refundID string) (*invoice.Refund, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.refunds[refundID]
	if !ok {
		return nil, errs.NotFound("REFUND_NOT_FOUND", "no refund")
	}
	return r, nil
}

func (b *orderBook) Customer(_ context.Context, id string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.orders[id]
	if !ok {
		return "", errs.NotFound("ORDER_NOT_FOUND", "no order")
	}
	return o.CustomerID, nil
}

func (b *orderBook) OrderIDByAccessToken(_ context.Context, token string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.tokens[token]
	if !ok {
		return "", errs.NotFound("ORDER_NOT_FOUND", "no order")
	}
	return id, nil
}

// ruleSet is the Rules port over a list.
type ruleSet struct {
	mu    sync.Mutex
	rules []invoice.Rule
}

func (r *ruleSet) Rules(context.Context) ([]invoice.Rule, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rules), nil
}

// fakeRule issues an invoice on order.paid and a credit note on
// refund.succeeded when the order has an invoice, numbering from the
// host's sequence as invoice.standard does ("INV-1", "CN-1").
type fakeRule struct {
	id string

	mu sync.Mutex
	// fail makes IssueInvoice fail once with the error (then it is
	// cleared); problems make it refuse.
	fail     error
	problems []invoice.Problem
	// content, when set, replaces the rendered document.
	content []byte
	calls   int
	reqs    []invoice.IssueRequest
}

func (r *fakeRule) ID() string { return r.id }

func (r *fakeRule) Evaluate(_ context.Context, ev invoice.OrderEvent) (invoice.Decision, error) {
	hasInvoice := slices.ContainsFunc(ev.InvoiceNumbers, func(n string) bool { return n[:4] == "INV-" })
	switch {
	case ev.Type == "order.paid" && !hasInvoice:
		return invoice.Decision{Issue: true, Kind: invoice.KindInvoice, Reason: "paid"}, nil
	case ev.Type == "refund.succeeded" && hasInvoice && ev.Refund.IsPositive():
		return invoice.Decision{Issue: true, Kind: invoice.KindCreditNote, Reason: "refund"}, nil
	}
	return invoice.Decision{Reason: "nothing to issue"}, nil
}

func (r *fakeRule) IssueInvoice(ctx context.Context, req invoice.IssueRequest, seq invoice.Sequence) (invoice.Document, error) {
	r.mu.Lock()
	r.calls++
	r.reqs = append(r.reqs, req)
	fail, problems, content := r.fail, r.problems, r.content
	r.fail = nil
	r.mu.Unlock()
	if len(problems) > 0 {
		return invoice.Document{Problems: problems}, nil
	}
	name, prefix := "invoice", "INV-"
	if req.Kind == invoice.KindCreditNote {
		name, prefix = "credit_note", "CN-"
	}
	n, err := seq.Next(ctx, name, req.IdempotencyKey)
	if err != nil {
		return invoice.Document{}, err
	}
	if fail != nil {
		// The number is taken; the answer is lost.
		return invoice.Document{}, fail
	}
	number := fmt.Sprintf("%s%d", prefix, n)
	if content == nil {
		content = []byte("%PDF-1.4 " + number)
	}
	return invoice.Document{Number: number, Content: content, MimeType: "application/pdf", FileName: number + ".pdf", IssuedAt: req.IssuedAt}, nil
}

func (r *fakeRule) VoidInvoice(context.Context, invoice.VoidRequest) (invoice.VoidResult, error) {
	return invoice.VoidResult{}, invoice.ErrNotSupported
}

func system() context.Context {
	return authz.WithSubject(context.Background(), authz.SystemSubject("invoices"))
}

func as(kind authz.SubjectKind, id string, roles ...string) context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: kind, ID: id, Roles: roles, Store: authz.DefaultStore})
}

func paid(orderID string) events.Event {
	e := events.MustNew(invoice.SubjectOrderPaid, map[string]string{"orderId": orderID, "machine": "order.payment", "from": "PENDING", "to": "PAID"})
	e.OccurredAt = occurred
	return e
}

func refunded(orderID, refundID string, amount money.Money) events.Event {
	e := events.MustNew(invoice.SubjectRefundSucceeded, map[string]any{"refundId": refundID, "orderId": orderID, "amount": amount})
	e.OccurredAt = occurred.Add(time.Hour)
	return e
}

func codeOf(err error) string {
	if all := errs.All(err); len(all) == 1 {
		return all[0].Code
	}
	return fmt.Sprint(err)
}

// TestSequence: values start at 1 per store, rule and name; a key gets
// its value again; many callers at once get every value once, with no
// gap, also when they repeat each other's keys.
func TestSequence(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		a, b := f.svc.Sequence("invoice.a"), f.svc.Sequence("invoice.b")
		next := func(seq invoice.Sequence, name, key string) int64 {
			t.Helper()
			v, err := seq.Next(ctx, name, key)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if got := []int64{next(a, "invoice", "k1"), next(a, "invoice", "k2"), next(a, "invoice", "k1"), next(a, "credit_note", "k1"), next(b, "invoice", "k1")}; !slices.Equal(got, []int64{1, 2, 1, 1, 1}) {
			t.Fatalf("values %v, want [1 2 1 1 1]", got)
		}
		for _, tc := range []struct{ name, key string }{{"", "k"}, {"invoice", ""}, {string(make([]byte, 101)), "k"}, {"invoice", "\xff"}} {
			if _, err := a.Next(ctx, tc.name, tc.key); codeOf(err) != invoice.CodeInvalidSequence {
				t.Errorf("Next(%q, %q): %v", tc.name, tc.key, err)
			}
		}

		// 40 callers, each key asked twice at once: 20 values, 1..20.
		const keys = 20
		var wg sync.WaitGroup
		got := make([]int64, 2*keys)
		errc := make(chan error, 2*keys)
		for i := range 2 * keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := a.Next(ctx, "race", fmt.Sprintf("key-%d", i%keys))
				if err != nil {
					errc <- err
					return
				}
				got[i] = v
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for i := range keys {
			if got[i] != got[i+keys] {
				t.Errorf("key-%d got %d and %d", i, got[i], got[i+keys])
			}
			seen[got[i]] = true
		}
		for v := int64(1); v <= keys; v++ {
			if !seen[v] {
				t.Errorf("value %d missing: %v", v, got)
			}
		}
		if next(a, "race", "key-new") != keys+1 {
			t.Error("the sequence did not continue after the race")
		}
	})
}

// TestHandle: an order paid gets one invoice per rule, however often the
// event comes; a refund gets a credit note naming the invoice, with the
// refunded lines; a rule that fails after numbering is asked again and
// the retry takes no second number; a refusal is permanent and issues
// nothing; a rule that answers no content is refused.
func TestHandle(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := system()
		std := &fakeRule{id: "invoice.std"}
		f.rules.rules = []invoice.Rule{std}
		o := f.order(t, "ord_1", "", "")

		ev := paid(o.ID)
		for range 3 {
			if err := f.svc.Handle(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		docs, err := f.svc.InvoicesOf(ctx, []invoice.OrderRef{{ID: o.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(docs[o.ID]) != 1 || std.calls != 1 || f.outbox(t, invoice.SubjectIssued) != 1 {
			t.Fatalf("after three deliveries: %d documents, %d calls, %d events", len(docs[o.ID]), std.calls, f.outbox(t, invoice.SubjectIssued))
		}
		inv := docs[o.ID][0]
		if inv.Kind != invoice.KindInvoice || inv.Number != "INV-1" || inv.Total() != money.New(3500, money.EUR) || inv.Content != nil ||
			inv.CauseEventID != ev.ID || inv.CauseSubject != invoice.SubjectOrderPaid || !inv.IssuedAt.Equal(occurred) || inv.ContentSize == 0 {
			t.Errorf("invoice %+v", inv)
		}
		if req := std.reqs[0]; req.Seller.Name != "Tea House" || req.Order.Seller.Name != "Tea House" || req.IdempotencyKey != ev.ID || !req.IssuedAt.Equal(occurred) {
			t.Errorf("request %+v", req)
		}

		// A refund of one unit and the shipping: a credit note of it.
		f.orders.refunds["ref_1"] = &invoice.Refund{ID: "ref_1", Amount: money.New(1500, money.EUR), Shipping: money.New(500, money.EUR),
			Lines: []invoice.RefundLine{{LineID: "ol_ord_1", Quantity: 1, Amount: money.New(1000, money.EUR)}}}
		rev := refunded(o.ID, "ref_1", money.New(1500, money.EUR))
		for range 2 {
			if err := f.svc.Handle(ctx, rev); err != nil {
				t.Fatal(err)
			}
		}
		req := std.reqs[len(std.reqs)-1]
		if req.Kind != invoice.KindCreditNote || req.OriginalInvoiceNumber != "INV-1" || len(req.Order.Lines) != 1 ||
			req.Order.Lines[0].Quantity != 1 || req.Order.Lines[0].Total != money.New(1000, money.EUR) || req.Order.Lines[0].Tax != money.New(159, money.EUR) ||
			req.Order.Totals.Total != money.New(1500, money.EUR) || req.Order.Totals.Shipping != money.New(500, money.EUR) {
			t.Errorf("credit note request %+v", req)
		}
		docs, _ = f.svc.InvoicesOf(ctx, []invoice.OrderRef{{ID: o.ID}})
		if len(docs[o.ID]) != 2 || docs[o.ID][1].Kind != invoice.KindCreditNote || docs[o.ID][1].Number != "CN-1" ||
			docs[o.ID][1].OriginalNumber != "INV-1" || docs[o.ID][1].Total() != money.New(1500, money.EUR) {
			t.Fatalf("documents after the refund: %+v", docs[o.ID])
		}

		// Lost after numbering: the retry is the same number.
		o2 := f.order(t, "ord_2", "", "")
		std.fail = invoice.ErrOutcomeUnknown
		ev2 := paid(o2.ID)
		if err := f.svc.Handle(ctx, ev2); err == nil || events.IsPermanent(err) || !errors.Is(err, invoice.ErrOutcomeUnknown) {
			t.Fatalf("a lost answer: %v", err)
		}
		if err := f.svc.Handle(ctx, ev2); err != nil {
			t.Fatal(err)
		}
		docs, _ = f.svc.InvoicesOf(ctx, []invoice.OrderRef{{ID: o2.ID}})
		if len(docs[o2.ID]) != 1 || docs[o2.ID][0].Number != "INV-2" {
			t.Fatalf("after the retry: %+v", docs[o2.ID])
		}

		// A refusal: permanent, nothing stored, no number taken.
		o3 := f.order(t, "ord_3", "", "")
		std.problems = []invoice.Problem{{Field: "seller.name", Code: "seller_incomplete", Message: "the seller has no name"}}
		ev3 := paid(o3.ID)
		err = f.svc.Handle(ctx, ev3)
		if !events.IsPermanent(err) || codeOf(errors.Unwrap(err)) != invoice.CodeRefused {
			t.Fatalf("a refusal: %v", err)
		}
		std.problems = nil
		// An empty document is refused, a rule that answers too much too.
		std.content = []byte{}
		if err := f.svc.Handle(ctx, ev3); !events.IsPermanent(err) || codeOf(errors.Unwrap(err)) != invoice.CodeBadDocument {
			t.Fatalf("an empty document: %v", err)
		}
		std.content = make([]byte, invoice.MaxContent+1)
		if err := f.svc.Handle(ctx, ev3); !events.IsPermanent(err) || codeOf(errors.Unwrap(err)) != invoice.CodeBadDocument {
			t.Fatalf("a huge document: %v", err)
		}
		docs, _ = f.svc.InvoicesOf(ctx, []invoice.OrderRef{{ID: o3.ID}})
		if len(docs[o3.ID]) != 0 {
			t.Fatalf("refused documents were kept: %+v", docs[o3.ID])
		}
		// Once the cause is fixed, the event replayed: the number its key
		// took, no gap.
		std.content = nil
		if err := f.svc.Handle(ctx, ev3); err != nil {
			t.Fatal(err)
		}
		docs, _ = f.svc.InvoicesOf(ctx, []invoice.OrderRef{{ID: o3.ID}})
		if len(docs[o3.ID]) != 1 || docs[o3.ID][0].Number != "INV-3" {
			t.Fatalf("after the replay: %+v", docs[o3.ID])
		}

		// Two rules: each issues its own, numbered from its own sequence.
		other := &fakeRule{id: "invoice.other"}
		f.rules.rules = []invoice.Rule{std, other}
		o4 := f.order(t, "ord_4", "", "")
		if err := f.svc.Handle(ctx, paid(o4.ID)); err != nil {
			t.Fatal(err)
		}
		docs, _ = f.svc.InvoicesOf(ctx, []invoice.OrderRef{{ID: o4.ID}})
		var numbers []string
		for _, d := range docs[o4.ID] {
			numbers = append(numbers, d.RuleID+":"+d.Number)
		}
		slices.Sort(numbers)
		if !slices.Equal(numbers, []string{"invoice.other:INV-1", "invoice.std:INV-4"}) {
			t.Errorf("two rules: %v", numbers)
		}

		// Events that are not for invoices, or malformed.
		if err := f.svc.Handle(ctx, events.MustNew("kassa.order.shipped", map[string]string{"orderId": o4.ID})); err != nil {
			t.Errorf("another event: %v", err)
		}
		if err := f.svc.Handle(ctx, events.MustNew(invoice.SubjectOrderPaid, map[string]string{})); !events.IsPermanent(err) {
			t.Errorf("no order: %v", err)
		}
		if err := f.svc.Handle(ctx, paid("ord_missing")); err != nil {
			t.Errorf("a missing order: %v", err)
		}
	})
}

// TestReads: who reads which documents, and who downloads them: staff
// with invoice read any; a signed-in buyer their own orders'; a guest by
// the order's access token; everyone else, and a document named under
// another order, INVOICE_NOT_FOUND.
func TestReads(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.rules.rules = []invoice.Rule{&fakeRule{id: "invoice.std"}}
		mine := f.order(t, "ord_mine", "cus_ada", "")
		guest := f.order(t, "ord_guest", "", "tok_guest")
		other := f.order(t, "ord_other", "cus_bob", "")
		for _, o := range []*invoice.Order{mine, guest, other} {
			if err := f.svc.Handle(system(), paid(o.ID)); err != nil {
				t.Fatal(err)
			}
		}
		all, err := f.svc.InvoicesOf(as(authz.KindStaff, "stf_1", authz.RoleSupport),
			[]invoice.OrderRef{{ID: mine.ID, CustomerID: "cus_ada"}, {ID: guest.ID}, {ID: other.ID, CustomerID: "cus_bob"}})
		if err != nil || len(all) != 3 {
			t.Fatalf("staff: %v %v", all, err)
		}
		docOf := func(o *invoice.Order) string { return all[o.ID][0].ID }

		ada := as(authz.KindCustomer, "cus_ada", authz.RoleCustomer)
		if got, err := f.svc.InvoicesOf(ada, []invoice.OrderRef{{ID: mine.ID, CustomerID: "cus_ada"}}); err != nil || len(got[mine.ID]) != 1 {
			t.Errorf("the buyer's own: %v %v", got, err)
		}
		if _, err := f.svc.InvoicesOf(ada, []invoice.OrderRef{{ID: other.ID, CustomerID: "cus_bob"}}); codeOf(err) != invoice.CodeNotFound {
			t.Errorf("another buyer's: %v", err)
		}
		anon := authz.WithSubject(context.Background(), authz.AnonymousSubject())
		if _, err := f.svc.InvoicesOf(anon, []invoice.OrderRef{{ID: guest.ID}}); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("a guest by id: %v", err)
		}
		if id, got, err := f.svc.InvoicesByAccessToken(anon, "tok_guest"); err != nil || id != guest.ID || len(got) != 1 {
			t.Errorf("a guest by token: %s %v %v", id, got, err)
		}
		if _, _, err := f.svc.InvoicesByAccessToken(anon, "tok_wrong"); codeOf(err) != invoice.CodeNotFound {
			t.Errorf("a wrong token: %v", err)
		}
		if _, err := f.svc.InvoicesOf(as(authz.KindStaff, "stf_1", authz.RoleSupport), make([]invoice.OrderRef, invoice.MaxBatch+1)); codeOf(err) != invoice.CodeTooManyOrders {
			t.Errorf("too many orders: %v", err)
		}

		for _, tc := range []struct {
			name string
			ctx  context.Context
			in   invoice.DownloadInput
			ok   bool
		}{
			{"staff", as(authz.KindStaff, "stf_1", authz.RoleFinance), invoice.DownloadInput{OrderID: other.ID, DocumentID: docOf(other)}, true},
			{"the owner", ada, invoice.DownloadInput{OrderID: mine.ID, DocumentID: docOf(mine)}, true},
			{"a guest with the token", anon, invoice.DownloadInput{OrderID: guest.ID, DocumentID: docOf(guest), AccessToken: "tok_guest"}, true},
			{"another buyer", ada, invoice.DownloadInput{OrderID: other.ID, DocumentID: docOf(other)}, false},
			{"another buyer naming their own order", ada, invoice.DownloadInput{OrderID: mine.ID, DocumentID: docOf(other)}, false},
			{"a guest without a token", anon, invoice.DownloadInput{OrderID: guest.ID, DocumentID: docOf(guest)}, false},
			{"a guest with a wrong token", anon, invoice.DownloadInput{OrderID: guest.ID, DocumentID: docOf(guest), AccessToken: "tok_wrong"}, false},
			{"a guest's token for another order", anon, invoice.DownloadInput{OrderID: other.ID, DocumentID: docOf(other), AccessToken: "tok_guest"}, false},
			{"a buyer with the guest's token naming another order", ada, invoice.DownloadInput{OrderID: other.ID, DocumentID: docOf(other), AccessToken: "tok_guest"}, false},
			{"a missing document", as(authz.KindStaff, "stf_1", authz.RoleFinance), invoice.DownloadInput{OrderID: other.ID, DocumentID: "inv_missing"}, false},
			{"staff naming the wrong order", as(authz.KindStaff, "stf_1", authz.RoleFinance), invoice.DownloadInput{OrderID: mine.ID, DocumentID: docOf(other)}, false},
		} {
			d, err := f.svc.Download(tc.ctx, tc.in)
			switch {
			case tc.ok && (err != nil || len(d.Content) == 0 || d.ContentSize != int64(len(d.Content))):
				t.Errorf("%s: %v", tc.name, err)
			case !tc.ok && codeOf(err) != invoice.CodeNotFound:
				t.Errorf("%s: %v, want %s", tc.name, err, invoice.CodeNotFound)
			}
		}
	})
}
