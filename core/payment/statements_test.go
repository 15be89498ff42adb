package payment_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// traced marks the context whose statements a statementLog records.
type traced struct{}

// statementLog records the statements run under a traced context, each
// cut to its verb and table ("INSERT payment_ledger").
type statementLog struct {
	mu   sync.Mutex
	list []string
	// texts are the statements' texts as sent, in the same order.
	texts []string
}

var statementHead = regexp.MustCompile(`^\s*(?:WITH .*?\)\s*)?(SELECT|INSERT INTO|UPDATE|DELETE FROM|BEGIN|COMMIT|ROLLBACK)\b\s*"?([a-z_]*)`)

// statementWrite finds the writes of a statement, its CTEs' too.
var statementWrite = regexp.MustCompile(`(INSERT INTO|UPDATE|DELETE FROM)\s+"?([a-z_]+)`)

func (l *statementLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (l *statementLog) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if ctx.Value(traced{}) == nil {
		return
	}
	q := e.Query
	if m := statementHead.FindStringSubmatch(q); m != nil {
		q = strings.TrimSpace(strings.TrimSuffix(m[1], " INTO") + " " + m[2])
		q = strings.TrimSuffix(strings.TrimSuffix(q, " FROM"), " ")
	}
	if strings.HasPrefix(strings.TrimSpace(e.Query), "WITH ") {
		// A statement of data-modifying CTEs: its writes, in order
		// ("UPDATE orders + INSERT order_timeline").
		var w []string
		for _, m := range statementWrite.FindAllStringSubmatch(e.Query, -1) {
			w = append(w, strings.TrimSuffix(strings.TrimSuffix(m[1], " INTO"), " FROM")+" "+m[2])
		}
		if len(w) > 0 {
			q = strings.Join(w, " + ")
		}
	} else if strings.HasPrefix(q, "SELECT") {
		// SELECT "pa"."id", ... FROM "payment_attempts": name the table.
		if i := strings.Index(e.Query, " FROM "); i >= 0 {
			rest := strings.Trim(strings.Fields(e.Query[i+6:])[0], `"`)
			q = "SELECT " + rest
		}
	}
	l.mu.Lock()
	l.list = append(l.list, q)
	l.texts = append(l.texts, e.Query)
	l.mu.Unlock()
}

func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.list
	l.list, l.texts = nil, nil
	return out
}

// takeTexts returns the texts of the statements recorded, and forgets
// them.
func (l *statementLog) takeTexts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.texts
	l.list, l.texts = nil, nil
	return out
}

// Applying a gateway's capture notification is one transaction of
// twelve statements on SQLite, eight on PostgreSQL: the attempt and the
// order read once each, the event row inserted with its outcome (no
// second write), the balance as one upsert returning it, the attempt's
// captured amount with its state and the order's payment status with its
// updated_at each in one conditional UPDATE, and the two moves' events in
// one outbox insert; on PostgreSQL the attempt's read rides with the
// event row's insert, the ledger row with the balance's upsert and each
// move's timeline row with its UPDATE. A replay reads the attempt and
// stops at the event row. Creating the payment reads the order once, in
// the one transaction before the gateway's call, and takes the order's
// start (payment_starts, one start at a time per order) with the
// attempt's insert: one statement on PostgreSQL, a second one on SQLite,
// which has no writing CTE. After the call, on PostgreSQL, the answer's
// event row and the attempt's action are one statement committing on its
// own (no transaction), the attempt not read again.
// Every statement has a fixed text (prepared once), which
// TestStatementTextsOfPayingAnOrder checks.
func TestStatementsOfPayingAnOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		log := &statementLog{}
		db.AddQueryHook(log)
		f := newFixture(t, db, newFake(fakeID))
		o := f.place(t, 1)
		a, err := f.svc.Create(context.WithValue(guest(), traced{}, true),
			payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r", IdempotencyKey: "k-1"})
		if err != nil {
			t.Fatal(err)
		}
		// One transaction before the gateway call, the order read in it,
		// the key's answer (the attempt id) stored with the claim and the
		// order's start taken with the attempt's insert (on SQLite a
		// statement of its own), and the order's payment method (the
		// gateway chosen; written only when it changes). After the call, the answer's event row
		// and the attempt's action: on PostgreSQL one statement committing
		// on its own, the attempt not read again.
		// The shop's settings (the capture mode, the storefront origins)
		// come first: from memory in a running shop (shop.Service caches
		// them), from the row here (the fixture caches nothing).
		want := []string{"SELECT shop_settings",
			"BEGIN", "SELECT orders", "INSERT idempotency_keys", "INSERT payment_starts", "INSERT payment_attempts", "UPDATE orders", "COMMIT",
			"BEGIN", "SELECT payment_attempts", "INSERT payment_gateway_events", "UPDATE payment_attempts", "COMMIT",
		}
		if db.Dialect == store.Postgres {
			want = []string{"SELECT shop_settings",
				"BEGIN", "SELECT orders", "INSERT idempotency_keys", "INSERT payment_starts + INSERT payment_attempts", "UPDATE orders", "COMMIT",
				"INSERT payment_gateway_events + UPDATE payment_attempts",
			}
		}
		check(t, "create", log.take(), want)

		webhook := func(id string) *payment.WebhookOutcome {
			out, err := f.svc.ApplyWebhook(context.WithValue(context.Background(), traced{}, true), fakeID,
				payment.WebhookRequest{Method: "POST", Body: body(t, "ok", succeeded(a, id))})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if out := webhook("evt_paid"); out.Applied != 1 {
			t.Fatalf("outcome %+v", out)
		}
		want = []string{
			"BEGIN", "SELECT payment_attempts", "INSERT payment_gateway_events", "SELECT orders",
			"INSERT payment_ledger", "INSERT payment_balances",
			"UPDATE payment_attempts", "INSERT payment_attempt_timeline",
			"UPDATE orders", "INSERT order_timeline",
			"INSERT outbox_events", "COMMIT",
		}
		if db.Dialect == store.Postgres {
			// The attempt's read rides in the event's insert (the log
			// names a CTE statement by its writes).
			want = []string{
				"BEGIN", "INSERT payment_gateway_events", "SELECT orders",
				"INSERT payment_ledger + INSERT payment_balances",
				"UPDATE payment_attempts + INSERT payment_attempt_timeline",
				"UPDATE orders + INSERT order_timeline",
				"INSERT outbox_events", "COMMIT",
			}
		}
		check(t, "capture", log.take(), want)
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status %s", ps)
		}
		if out := webhook("evt_paid"); out.Duplicates != 1 {
			t.Fatalf("replay outcome %+v", out)
		}
		want = []string{"BEGIN", "SELECT payment_attempts", "INSERT payment_gateway_events", "COMMIT"}
		if db.Dialect == store.Postgres {
			want = []string{"BEGIN", "INSERT payment_gateway_events", "COMMIT"}
		}
		check(t, "replay", log.take(), want)
		// The event row holds the outcome without a second write.
		if n := f.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE gateway_event_id = 'evt_paid' AND outcome = 'APPLIED'"); n != 1 {
			t.Fatalf("%d applied event rows", n)
		}
	})
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: %d statements\n  %s\nwant %d\n  %s", what, len(got), strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

// Paying a second order sends the texts that paying the first sent, the
// values bound: PostgreSQL plans each once.
func TestStatementTextsOfPayingAnOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		log := &statementLog{}
		db.AddQueryHook(log)
		f := newFixture(t, db, newFake(fakeID))
		pay := func(key string) []string {
			o := f.place(t, 1)
			log.take()
			a, err := f.svc.Create(context.WithValue(guest(), traced{}, true),
				payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r", IdempotencyKey: key})
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.svc.ApplyWebhook(context.WithValue(context.Background(), traced{}, true), fakeID,
				payment.WebhookRequest{Method: "POST", Body: body(t, "ok", succeeded(a, "evt_"+key))})
			if err != nil || out.Applied != 1 {
				t.Fatalf("webhook: %+v, %v", out, err)
			}
			return log.takeTexts()
		}
		seen := map[string]bool{}
		for _, q := range pay("k-1") {
			seen[q] = true
		}
		second := pay("k-2")
		if len(second) == 0 {
			t.Fatal("no statement recorded")
		}
		for _, q := range second {
			if !seen[q] {
				t.Errorf("a statement with a text of its own (its values written into it):\n  %s", q)
			}
		}
	})
}

// planScan finds each scan of a table in a plan: the index it uses ("" for
// a sequential scan) and the table.
var planScan = regexp.MustCompile(`(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:Backward )?(?:using )?(\S+)(?: on (\S+))?|Seq Scan on (\S+)`)

// Paying an order finds its attempt and order rows by their keys in the
// plans PostgreSQL keeps for the statements (generic plans), made as on a
// new shop, whose tables have no statistics yet: a plan made then that
// walked the (gateway_id, gateway_ref) index read every attempt of the
// gateway for each notification, one on (payment_status, created_at, id)
// every order in that status for each move.
func TestStatementPlansOfPayingAnOrder(t *testing.T) {
	db := storetest.NewPostgres(t)
	log := &statementLog{}
	db.AddQueryHook(log)
	f := newFixture(t, db, newFake(fakeID))
	o := f.place(t, 1)
	log.take()
	a, err := f.svc.Create(context.WithValue(guest(), traced{}, true),
		payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r", IdempotencyKey: "k-1"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.svc.ApplyWebhook(context.WithValue(context.Background(), traced{}, true), fakeID,
		payment.WebhookRequest{Method: "POST", Body: body(t, "ok", succeeded(a, "evt_1"))})
	if err != nil || out.Applied != 1 {
		t.Fatalf("webhook: %+v, %v", out, err)
	}
	// The indexes that find one row of each table.
	keys := map[string][]string{
		"payment_attempts": {"payment_attempts_pkey", "payment_attempts_order"},
		"orders":           {"orders_pkey", "orders_access_token"},
	}
	checked := 0
	for _, q := range log.takeTexts() {
		if q == "BEGIN" || q == "COMMIT" {
			continue
		}
		plan := storetest.GenericPlan(t, db, q)
		for _, m := range planScan.FindAllStringSubmatch(plan, -1) {
			index, table := m[1], m[2]
			if m[3] != "" {
				index, table = "", m[3]
			}
			if table == "" {
				// A bitmap index scan names no table: its index does.
				for tb := range keys {
					if strings.HasPrefix(index, tb+"_") {
						table = tb
					}
				}
			}
			want, ok := keys[table]
			if !ok {
				continue
			}
			checked++
			if !slices.Contains(want, index) {
				t.Errorf("%s is scanned by %q, not by its key:\n%s\n%s", table, index, q, plan)
			}
		}
	}
	if checked < 4 {
		t.Fatalf("%d scans of attempts and orders checked", checked)
	}
}
