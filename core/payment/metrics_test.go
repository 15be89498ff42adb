package payment_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// countingObserver records what the payment service reports.
type countingObserver struct {
	mu     sync.Mutex
	counts map[string]int
}

func (o *countingObserver) add(k string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts[k]++
}

func (o *countingObserver) AttemptMoved(gw string, to payment.State) { o.add(gw + " " + string(to)) }
func (o *countingObserver) Webhook(gw string, r payment.WebhookResultLabel) {
	o.add(gw + " webhook " + string(r))
}

func (o *countingObserver) snapshot() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for k, v := range o.counts {
		out[k] = v
	}
	return out
}

// TestObserverCountsCommittedOutcomes: outcomes are reported once
// committed, never for a transaction that rolled back; notifications by
// result, none for an unknown gateway.
func TestObserverCountsCommittedOutcomes(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		// Declares confirm.manual: a bank transfer is confirmed on it below.
		gw := newFake(fakeID, payment.CapActionRedirect, payment.CapActionNone, payment.CapCancel, payment.CapManualConfirmation)
		f := newFixture(t, db, gw)
		obs := &countingObserver{counts: map[string]int{}}
		ctx := context.Background()
		enf, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(enf.Close)
		keys, err := idempotency.NewKeys(db, idempotency.Options{Clock: f.clock})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := payment.NewService(db, payment.Options{Authz: enf, Outbox: events.NewOutbox(db), Orders: app.PaymentOrders{Orders: f.orders},
			Gateways: f.gateways, Settings: f.shop, Keys: keys, Clock: f.clock, Observer: obs, PublicURL: shopURL, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}

		// Declined at once.
		gw.set(func(g *fakeGateway) { g.create = payment.StatusFailed })
		o1 := f.place(t, 1)
		if _, err := svc.Create(guest(), payment.CreateInput{AccessToken: o1.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r"}); err != nil {
			t.Fatal(err)
		}
		// Waiting for the buyer; a bank transfer confirmed inside a
		// transaction that rolls back is not counted, the one after is.
		gw.set(func(g *fakeGateway) { g.create = "" })
		o2 := f.place(t, 1)
		a2, err := svc.Create(guest(), payment.CreateInput{AccessToken: o2.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r"})
		if err != nil {
			t.Fatal(err)
		}
		rollback := errors.New("roll back")
		err = db.RunInTx(ctx, func(ctx context.Context) error {
			ctx = authz.WithSubject(ctx, authz.SubjectFrom(staff("finance")))
			if _, err := svc.ConfirmBankTransfer(ctx, payment.ConfirmInput{OrderID: o2.id, Amount: a2.Amount(), IdempotencyKey: "m-1"}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if got := obs.snapshot(); got[fakeID+" CAPTURED"] != 0 {
			t.Fatalf("a rolled-back capture was counted: %v", got)
		}
		if _, err := svc.ConfirmBankTransfer(staff("finance"), payment.ConfirmInput{OrderID: o2.id, Amount: a2.Amount(), IdempotencyKey: "m-2"}); err != nil {
			t.Fatal(err)
		}

		// Notifications: applied, the same again, forged, unknown gateway.
		o3 := f.place(t, 1)
		a3, err := svc.Create(guest(), payment.CreateInput{AccessToken: o3.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r"})
		if err != nil {
			t.Fatal(err)
		}
		note := body(t, "ok", succeeded(a3, "evt_m3"))
		for range 2 {
			if _, err := svc.ApplyWebhook(ctx, fakeID, payment.WebhookRequest{Method: "POST", Body: note}); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := svc.ApplyWebhook(ctx, fakeID, payment.WebhookRequest{Method: "POST", Body: body(t, "forged")}); err != nil || out.Rejected == "" {
			t.Fatalf("forged: %+v, %v", out, err)
		}
		if _, err := svc.ApplyWebhook(ctx, "payment.nope", payment.WebhookRequest{Method: "POST", Body: note}); err == nil {
			t.Fatal("unknown gateway applied")
		}

		want := map[string]int{
			fakeID + " FAILED": 1, fakeID + " CAPTURED": 2,
			fakeID + " webhook applied": 1, fakeID + " webhook duplicate": 1, fakeID + " webhook rejected": 1,
		}
		if diff := cmp.Diff(want, obs.snapshot()); diff != "" {
			t.Errorf("observed (-want +got):\n%s", diff)
		}
	})
}
