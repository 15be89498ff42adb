package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/notify"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
)

// The testpay cards of the invoice flow.
const (
	invSucceedCard = "4242424242424242"
	invDeclineCard = "4000000000000002"
)

// invoicePlugins builds the plugins of the invoice flow once per test
// binary: testpay, invoice-standard and notify-email.
var invoicePlugins = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "kassa-app-invoice-")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range []string{"testpay", "invoice-standard", "notify-email"} {
		bin := filepath.Join(dir, p)
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../../plugins/"+p)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", p, err, b)
		}
		out[p] = bin
	}
	return out, nil
})

// mailSink is a minimal SMTP server on loopback keeping every message.
type mailSink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []sentMail
}

func newMailSink(t *testing.T) *mailSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &mailSink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *mailSink) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 sink ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-sink")
			_ = tp.PrintfLine("250 8BITMIME")
		case "MAIL", "RCPT", "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			body, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			if m, err := readMail(body); err == nil {
				s.mu.Lock()
				s.msgs = append(s.msgs, m)
				s.mu.Unlock()
			}
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unsupported")
		}
	}
}

// sentMail is a received email: its recipient, subject and text.
type sentMail struct{ to, subject, body string }

func (s *mailSink) sent() []sentMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentMail(nil), s.msgs...)
}

// readMail takes a received email apart.
func readMail(raw []byte) (sentMail, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return sentMail{}, err
	}
	var dec mime.WordDecoder
	subj, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	b, _ := io.ReadAll(m.Body)
	// Quoted-printable soft breaks and the equals sign, enough to read
	// links and amounts.
	body := strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(string(b))
	out := sentMail{subject: strings.Join(strings.Fields(subj), " "), body: body}
	if to, err := mail.ParseAddress(m.Header.Get("To")); err == nil {
		out.to = to.Address
	}
	return out, nil
}

// with returns the emails whose subject starts with prefix.
func (s *mailSink) with(prefix string) []sentMail {
	var out []sentMail
	for _, m := range s.sent() {
		if strings.HasPrefix(m.subject, prefix) {
			out = append(out, m)
		}
	}
	return out
}

// invApp is a whole started Kassa instance, served on a loopback port
// that is its public URL, with the real testpay, invoice.standard and
// notify.email plugins enabled (email to mailSink), an owner who hears of
// paid orders, and a product.
type invApp struct {
	*app.App
	URL     string
	sink    *mailSink
	product string
	variant string
	carts   int
}

func newInvApp(t *testing.T, engine testkit.Engine) *invApp {
	t.Helper()
	bins, err := invoicePlugins()
	if err != nil {
		t.Fatal(err)
	}
	var db *store.DB
	if engine == testkit.Postgres {
		db = storetest.NewPostgres(t)
	} else {
		db = storetest.NewSQLite(t)
	}
	sink := newMailSink(t)
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	base := "http://" + srv.Listener.Addr().String()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": t.TempDir(), "public-url": base,
		"store-name": "Tea House", "plugin-allow-private-networks": "true"})
	if err != nil {
		t.Fatal(err)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("KASSA_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	a, err := app.New(context.Background(), cfg, app.Options{DB: db, SkipMigrate: true, LogOutput: logOut})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(context.Background()); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler()
	srv.Start()

	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	_, port, _ := net.SplitHostPort(sink.ln.Addr().String())
	for _, p := range []struct{ bin, id, settings string }{
		{bins["testpay"], "payment.testpay", `{"webhook_secret":"whsec_invoice_flow_0123456789","async_delay_ms":10}`},
		{bins["invoice-standard"], "invoice.standard", `{"issue_on":"on_paid"}`},
		{bins["notify-email"], "notify.email", `{"host":"127.0.0.1","port":` + port + `,"tls":"none","from_address":"shop@example.com","from_name":"Tea House"}`},
	} {
		if _, err := a.Plugins.Install(sys, p.bin, plugin.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Plugins.UpdateSettings(sys, p.id, []byte(p.settings)); err != nil {
			t.Fatalf("%s settings: %v", p.id, err)
		}
		if _, err := a.Plugins.Enable(sys, p.id); err != nil {
			t.Fatalf("enable %s: %v", p.id, err)
		}
	}
	if _, err := a.Accounts.Service.CreateOwner(sys, account.NewStaff{Email: "owner@tea.example", Name: "Olga Owner", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	p, err := a.Catalog.CreateProduct(sys, catalog.CreateProductInput{Title: "Darjeeling", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "DJ-100", Title: "100 g", InventoryQuantity: 1000,
			Prices: []catalog.PriceInput{{Currency: a.Catalog.DefaultCurrency().Code(), Amount: "35.00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := a.Catalog.VariantsByProductIDs(sys, []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	return &invApp{App: a, URL: base, sink: sink, product: p.ID, variant: vs[p.ID][0].ID}
}

// invOrder is a placed order with its guest access token (none for a
// signed-in buyer's).
type invOrder struct{ id, number, token string }

// place places an order of two units (70.00 plus 5.00 shipping) for the
// buyer customerID, or for a guest when it is empty.
func (ia *invApp) place(t *testing.T, customerID, email string) invOrder {
	t.Helper()
	ia.carts++
	cur := ia.Catalog.DefaultCurrency()
	m := func(n int64) money.Money { return money.New(n, cur) }
	addr := order.Address{FirstName: "Ada", LastName: "Lovelace", Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", CountryCode: "GB"}
	p, err := ia.Orders.Place(authz.WithSubject(context.Background(), authz.AnonymousSubject()), order.PlaceInput{
		CartID: fmt.Sprintf("cart_invoice_%d", ia.carts), CustomerID: customerID, Email: email, Currency: cur,
		ShippingAddress: addr, BillingAddress: addr,
		Lines: []order.PlaceLine{{VariantID: ia.variant, ProductID: ia.product, SKU: "DJ-100", ProductTitle: "Darjeeling", VariantTitle: "100 g",
			Quantity: 2, UnitPrice: m(3500), Subtotal: m(7000), Discount: m(0), Tax: m(0), Total: m(7000)}},
		Totals: pricing.Totals{Subtotal: m(7000), DiscountTotal: m(0), Shipping: m(500), Tax: m(0), TaxIncluded: true, Total: m(7500)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return invOrder{id: p.Order.ID, number: p.Order.Number, token: p.AccessToken}
}

// pay starts a payment of o with a testpay card, as its buyer (ctx).
func (ia *invApp) pay(t *testing.T, ctx context.Context, o invOrder, card string) *payment.Attempt {
	t.Helper()
	in := payment.CreateInput{GatewayID: "payment.testpay", ReturnURL: ia.URL + "/orders/" + o.id + "/status", PaymentMethod: card}
	if o.token != "" {
		in.AccessToken = o.token
	} else {
		in.OrderID = o.id
	}
	a, err := ia.Payments.Create(ctx, in)
	if err != nil {
		t.Fatalf("pay with %s: %v", card, err)
	}
	return a
}

// documents waits until the order has n documents and returns them.
func (ia *invApp) documents(t *testing.T, orderID string, n int) []*invoice.Invoice {
	t.Helper()
	staff := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	var docs []*invoice.Invoice
	invWait(t, fmt.Sprintf("%d documents of %s", n, orderID), func() bool {
		m, err := ia.Invoices.InvoicesOf(staff, []invoice.OrderRef{{ID: orderID}})
		if err != nil {
			t.Fatal(err)
		}
		docs = m[orderID]
		return len(docs) >= n
	})
	return docs
}

// invWait polls cond for up to 30 seconds.
func invWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// outboxEvent reads the event of subject about an order from the outbox.
func (ia *invApp) outboxEvent(t *testing.T, subject, orderID string) events.Event {
	t.Helper()
	var rows []struct {
		ID         string    `bun:"id"`
		Payload    string    `bun:"payload"`
		OccurredAt time.Time `bun:"occurred_at"`
	}
	if err := ia.DB.NewRaw("SELECT id, payload, occurred_at FROM outbox_events WHERE subject = ? ORDER BY id", subject).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if strings.Contains(r.Payload, `"orderId":"`+orderID+`"`) {
			return events.Event{ID: r.ID, Subject: subject, OccurredAt: r.OccurredAt.UTC(), Payload: json.RawMessage(r.Payload)}
		}
	}
	t.Fatalf("no %s event of order %s in the outbox", subject, orderID)
	return events.Event{}
}

// get requests path with an optional bearer token.
func (ia *invApp) get(t *testing.T, method, path, bearer string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ia.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestInvoicesAndPaymentEmails: a buyer whose first payment is declined
// is told they may try again; paying then issues exactly one invoice
// (also when the event is delivered again) and tells the buyer and the
// owner; a refund issues a credit note of it and tells the buyer how much
// comes back. The buyer downloads the PDF, as staff do and a guest with
// their order's token; everyone else gets 404. Each email leaves once,
// also when its event is handled again.
func TestInvoicesAndPaymentEmails(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testInvoiceFlow(t, testkit.SQLite) })
	t.Run("postgres", func(t *testing.T) { testInvoiceFlow(t, testkit.Postgres) })
}

func testInvoiceFlow(t *testing.T, engine testkit.Engine) {
	ia := newInvApp(t, engine)
	bg := context.Background()
	anon := authz.WithSubject(bg, authz.AnonymousSubject())
	register := func(email string) (string, string) {
		t.Helper()
		if err := ia.Accounts.Service.Register(anon, account.Registration{Email: email, Password: "a long enough passphrase", FirstName: "Ada"}); err != nil {
			t.Fatal(err)
		}
		c, sess, err := ia.Accounts.Service.Login(anon, email, "a long enough passphrase")
		if err != nil {
			t.Fatal(err)
		}
		return c.ID, sess.Token
	}
	adaID, adaToken := register("ada@example.com")
	_, bobToken := register("bob@example.com")
	_, staffSession, err := ia.Accounts.Service.StaffLogin(anon, "owner@tea.example", "a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	ada := authz.WithSubject(bg, authz.Subject{Kind: authz.KindCustomer, ID: adaID, Roles: []string{authz.RoleCustomer}, Store: authz.DefaultStore})

	// Declined first: the buyer may try again, from the page they paid on.
	o := ia.place(t, adaID, "ada@example.com")
	if a := ia.pay(t, ada, o, invDeclineCard); a.State != payment.StateFailed {
		t.Fatalf("the decline card: %s", a.State)
	}
	failedSubject := "Your payment for order " + o.number + " did not go through"
	invWait(t, "the decline email", func() bool { return len(ia.sink.with(failedSubject)) == 1 })
	if m := ia.sink.with(failedSubject)[0]; m.to != "ada@example.com" || !strings.Contains(m.body, "Try again: "+ia.URL+"/orders/"+o.id+"/status") {
		t.Errorf("decline email to %s:\n%s", m.to, m.body)
	}

	// Paid: one invoice, the buyer and the owner told.
	if a := ia.pay(t, ada, o, invSucceedCard); a.State != payment.StateCaptured {
		t.Fatalf("the success card: %s", a.State)
	}
	docs := ia.documents(t, o.id, 1)
	inv := docs[0]
	if inv.Kind != invoice.KindInvoice || inv.RuleID != "invoice.standard" || inv.Number != "INV-000001" || inv.TotalAmount != 7500 {
		t.Fatalf("invoice %+v", inv)
	}
	paidEvent := ia.outboxEvent(t, "kassa.order.paid", o.id)
	if inv.CauseEventID != paidEvent.ID {
		t.Errorf("the invoice names event %s, not %s", inv.CauseEventID, paidEvent.ID)
	}
	staffCtx := authz.WithSubject(bg, authz.Subject{Kind: authz.KindStaff, ID: "stf_test", Roles: []string{authz.RoleOwner}, Store: authz.DefaultStore})
	invWait(t, "the journal's record", func() bool {
		d, err := ia.Deliveries.Get(staffCtx, "invoices-0", paidEvent.ID)
		return err == nil && d.Status == "DELIVERED"
	})
	// The event delivered again, twice: nothing more.
	sys := authz.WithSubject(bg, authz.SystemSubject("invoices"))
	for range 2 {
		if err := ia.Invoices.Handle(sys, paidEvent); err != nil {
			t.Fatal(err)
		}
	}
	if docs := ia.documents(t, o.id, 1); len(docs) != 1 {
		t.Fatalf("after a redelivery: %d documents", len(docs))
	}
	paidSubject, staffSubject := "Payment received for order "+o.number, "Order "+o.number+" was paid: "
	invWait(t, "the paid emails", func() bool { return len(ia.sink.with(paidSubject)) == 1 && len(ia.sink.with(staffSubject)) == 1 })
	if m := ia.sink.with(staffSubject)[0]; m.to != "owner@tea.example" || !strings.Contains(m.body, "ada@example.com") {
		t.Errorf("staff email to %s:\n%s", m.to, m.body)
	}

	// A refund: a credit note of the invoice, and the buyer told.
	amt := money.New(2500, ia.Catalog.DefaultCurrency())
	refs, err := ia.Payments.Refund(staffCtx, payment.RefundInput{OrderID: o.id, Amount: &amt, Reason: "one bag arrived torn", IdempotencyKey: "refund-" + o.id})
	if err != nil || len(refs) != 1 || refs[0].State != payment.RefundStateSucceeded {
		t.Fatalf("refund: %+v %v", refs, err)
	}
	docs = ia.documents(t, o.id, 2)
	cn := docs[1]
	if cn.Kind != invoice.KindCreditNote || cn.Number != "CN-000001" || cn.OriginalNumber != inv.Number || cn.TotalAmount != 2500 {
		t.Fatalf("credit note %+v", cn)
	}
	refundSubject := "Refund of 25.00 " + amt.Currency().Code() + " for order " + o.number
	invWait(t, "the refund email", func() bool { return len(ia.sink.with(refundSubject)) == 1 })

	// Every payment event handled again: the channel sends nothing twice.
	d := notify.NewDispatcher(ia.Plugins, notify.Store{Name: "Tea House", URL: ia.URL}, slog.New(slog.DiscardHandler), notify.WithOrders(app.OrderEmails(ia.Orders)),
		notify.WithPayments(app.PaymentEmails(ia.Orders, ia.Payments, ia.Accounts.Service, ia.Authz, ia.URL)))
	notifySys := authz.WithSubject(bg, authz.SystemSubject("notify"))
	for _, subject := range []string{"kassa.payment.failed", "kassa.order.paid", "kassa.payment.refund_succeeded"} {
		if err := d.HandlePayment(notifySys, ia.outboxEvent(t, subject, o.id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{failedSubject, paidSubject, staffSubject, refundSubject} {
		if n := len(ia.sink.with(s)); n != 1 {
			t.Errorf("%d emails %q, want 1", n, s)
		}
	}

	// The buyer downloads their invoice; staff do too.
	path := invoice.DownloadPath(o.id, inv.ID)
	for _, who := range []struct{ name, bearer string }{{"the buyer", adaToken}, {"staff", staffSession.Token}} {
		res, body := ia.get(t, http.MethodGet, path, who.bearer)
		if res.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte("%PDF")) {
			t.Fatalf("%s downloads: %d %.40q", who.name, res.StatusCode, body)
		}
		h := res.Header
		if h.Get("Content-Type") != "application/pdf" || h.Get("Content-Disposition") != `attachment; filename="INV-000001.pdf"` ||
			h.Get("Cache-Control") != "private, no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", who.name, h)
		}
	}
	if res, body := ia.get(t, http.MethodHead, path, adaToken); res.StatusCode != http.StatusOK || len(body) != 0 || res.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("HEAD: %d, %d bytes", res.StatusCode, len(body))
	}

	// A guest's order: downloaded with its token only.
	g := ia.place(t, "", "guest@example.com")
	ia.pay(t, anon, g, invSucceedCard)
	gdoc := ia.documents(t, g.id, 1)[0]
	if res, body := ia.get(t, http.MethodGet, invoice.DownloadPath(g.id, gdoc.ID)+"?token="+g.token, ""); res.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte("%PDF")) {
		t.Fatalf("the guest downloads: %d", res.StatusCode)
	}

	// Attacks: all 404, never 401 or 403, and no PDF.
	for _, tc := range []struct {
		name, method, path, bearer string
		status                     int
	}{
		{"no one", http.MethodGet, path, "", http.StatusNotFound},
		{"another buyer", http.MethodGet, path, bobToken, http.StatusNotFound},
		{"another buyer, HEAD", http.MethodHead, path, bobToken, http.StatusNotFound},
		{"another buyer with the guest's token", http.MethodGet, path + "?token=" + g.token, bobToken, http.StatusNotFound},
		{"the guest's token for another order's document", http.MethodGet, invoice.DownloadPath(g.id, inv.ID) + "?token=" + g.token, "", http.StatusNotFound},
		{"the guest without a token", http.MethodGet, invoice.DownloadPath(g.id, gdoc.ID), "", http.StatusNotFound},
		{"a wrong token", http.MethodGet, invoice.DownloadPath(g.id, gdoc.ID) + "?token=not-the-token", "", http.StatusNotFound},
		{"the token twice", http.MethodGet, invoice.DownloadPath(g.id, gdoc.ID) + "?token=" + g.token + "&token=" + g.token, "", http.StatusNotFound},
		{"a huge token", http.MethodGet, invoice.DownloadPath(g.id, gdoc.ID) + "?token=" + strings.Repeat("a", 5000), "", http.StatusNotFound},
		{"the buyer's document under another order", http.MethodGet, invoice.DownloadPath(g.id, inv.ID), adaToken, http.StatusNotFound},
		{"not a pdf", http.MethodGet, strings.TrimSuffix(path, ".pdf"), adaToken, http.StatusNotFound},
		{"an encoded traversal", http.MethodGet, "/orders/" + o.id + "/invoices/..%2f..%2f..%2fetc%2fpasswd.pdf", adaToken, http.StatusNotFound},
		{"an encoded dot id", http.MethodGet, "/orders/%2e%2e/invoices/" + inv.ID + ".pdf", adaToken, http.StatusNotFound},
		{"a missing document", http.MethodGet, invoice.DownloadPath(o.id, "inv_01JAAAAAAAAAAAAAAAAAAAAAAA"), staffSession.Token, http.StatusNotFound},
		{"POST", http.MethodPost, path, adaToken, http.StatusMethodNotAllowed},
		{"DELETE", http.MethodDelete, path, staffSession.Token, http.StatusMethodNotAllowed},
	} {
		res, body := ia.get(t, tc.method, tc.path, tc.bearer)
		if res.StatusCode != tc.status || bytes.Contains(body, []byte("%PDF")) {
			t.Errorf("%s: %d (want %d), %.40q", tc.name, res.StatusCode, tc.status, body)
		}
	}
	// A path that is not clean is redirected by the router, never served.
	for _, p := range []string{"/orders/" + o.id + "/invoices/../invoices/" + inv.ID + ".pdf", "/orders/x/../" + o.id + "/invoices/" + inv.ID + ".pdf"} {
		req, _ := http.NewRequest(http.MethodGet, ia.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+bobToken)
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK || bytes.Contains(body, []byte("%PDF")) {
			t.Errorf("%s served a document: %d", p, res.StatusCode)
		}
	}

	// GraphQL: the buyer lists theirs with the download URL; a guest with
	// the token; staff in a list of orders; another buyer sees no order.
	q := `query($id: ID!) { order(id: $id) { invoices { id kind number correctsNumber ruleId total { amount currencyCode } downloadUrl } } }`
	res := ia.GraphQL.Exec(ada, graphql.Request{Query: q, Variables: map[string]any{"id": o.id}})
	if len(res.Errors) > 0 {
		t.Fatalf("buyer's invoices: %+v", res.Errors)
	}
	var got struct {
		Order struct {
			Invoices []struct {
				ID, Kind, Number, RuleID, DownloadURL string
				CorrectsNumber                        *string
				Total                                 struct{ Amount, CurrencyCode string }
			}
		}
	}
	if err := json.Unmarshal(res.Data, &got); err != nil {
		t.Fatal(err)
	}
	if l := got.Order.Invoices; len(l) != 2 || l[0].Number != "INV-000001" || l[0].Kind != "INVOICE" || l[0].CorrectsNumber != nil ||
		l[0].Total.Amount != "75.00" || l[0].DownloadURL != path || l[1].Kind != "CREDIT_NOTE" || l[1].CorrectsNumber == nil ||
		*l[1].CorrectsNumber != "INV-000001" || l[1].Total.Amount != "25.00" || l[0].RuleID != "invoice.standard" {
		t.Errorf("buyer's invoices: %s", res.Data)
	}
	bob := authz.WithSubject(bg, authz.Subject{Kind: authz.KindCustomer, ID: "cus_bob", Roles: []string{authz.RoleCustomer}, Store: authz.DefaultStore})
	if res := ia.GraphQL.Exec(bob, graphql.Request{Query: q, Variables: map[string]any{"id": o.id}}); string(res.Data) != `{"order":null}` {
		t.Errorf("another buyer: %s %+v", res.Data, res.Errors)
	}
	gq := `query($t: String!) { orderByToken(token: $t) { invoices(token: $t) { number downloadUrl } } }`
	if res := ia.GraphQL.Exec(anon, graphql.Request{Query: gq, Variables: map[string]any{"t": g.token}}); len(res.Errors) > 0 ||
		!strings.Contains(string(res.Data), `"number":"INV-000002"`) {
		t.Errorf("the guest's invoices: %s %+v", res.Data, res.Errors)
	}
	wrong := map[string]any{"t": g.token, "other": "not-the-token"}
	if res := ia.GraphQL.Exec(anon, graphql.Request{Query: `query($t: String!, $other: String!) { orderByToken(token: $t) { invoices(token: $other) { number } } }`,
		Variables: wrong}); len(res.Errors) > 0 || string(res.Data) != `{"orderByToken":{"invoices":[]}}` {
		t.Errorf("a wrong token lists: %s %+v", res.Data, res.Errors)
	}
	if res := ia.GraphQL.Exec(anon, graphql.Request{Query: `query($t: String!) { orderByToken(token: $t) { invoices { number } } }`,
		Variables: map[string]any{"t": g.token}}); testkit.ErrorCodes(res)[0] != "UNAUTHENTICATED" {
		t.Errorf("a guest without the token: %s %+v", res.Data, res.Errors)
	}
	res = ia.GraphQL.Exec(staffCtx, graphql.Request{Query: `{ orders(first: 10) { nodes { id invoices { number kind } } } }`})
	if len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"invoices":[{"number":"INV-000001","kind":"INVOICE"},{"number":"CN-000001","kind":"CREDIT_NOTE"}]`) ||
		!strings.Contains(string(res.Data), `"invoices":[{"number":"INV-000002","kind":"INVOICE"}]`) {
		t.Errorf("staff's list: %s %+v", res.Data, res.Errors)
	}
}
