package payment_test

import (
	"context"
	"regexp"
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
}

var statementHead = regexp.MustCompile(`^\s*(?:WITH .*?\)\s*)?(SELECT|INSERT INTO|UPDATE|DELETE FROM|BEGIN|COMMIT|ROLLBACK)\b\s*"?([a-z_]*)`)

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
	if strings.HasPrefix(q, "SELECT") {
		// SELECT "pa"."id", ... FROM "payment_attempts": name the table.
		if i := strings.Index(e.Query, " FROM "); i >= 0 {
			rest := strings.Trim(strings.Fields(e.Query[i+6:])[0], `"`)
			q = "SELECT " + rest
		}
	}
	l.mu.Lock()
	l.list = append(l.list, q)
	l.mu.Unlock()
}

func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.list
	l.list = nil
	return out
}

// Applying a gateway's capture notification is one transaction of
// twelve statements: the attempt and the order read once each, the event
// row inserted with its outcome (no second write), the balance as one
// upsert returning it, the attempt's captured amount with its state and
// the order's payment status with its updated_at each in one conditional
// UPDATE, and the two moves' events in one outbox insert. A replay reads
// the attempt and stops at the event row. Creating the payment reads the
// order once and the attempt once.
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
		// One transaction before the gateway call, the order read in it and
		// the key's answer (the attempt id) stored with the claim.
		check(t, "create", log.take(), []string{
			"BEGIN", "SELECT orders", "INSERT idempotency_keys", "INSERT payment_attempts", "COMMIT",
			"BEGIN", "SELECT payment_attempts", "INSERT payment_gateway_events", "UPDATE payment_attempts", "COMMIT",
		})

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
		check(t, "capture", log.take(), []string{
			"BEGIN", "SELECT payment_attempts", "INSERT payment_gateway_events", "SELECT orders",
			"INSERT payment_ledger", "INSERT payment_balances",
			"UPDATE payment_attempts", "INSERT payment_attempt_timeline",
			"UPDATE orders", "INSERT order_timeline",
			"INSERT outbox_events", "COMMIT",
		})
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status %s", ps)
		}
		if out := webhook("evt_paid"); out.Duplicates != 1 {
			t.Fatalf("replay outcome %+v", out)
		}
		check(t, "replay", log.take(), []string{"BEGIN", "SELECT payment_attempts", "INSERT payment_gateway_events", "COMMIT"})
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
