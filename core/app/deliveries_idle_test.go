package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/testkit"
)

// TestDeliveriesIdleConsumersJournalNothing: a consumer with nothing to do
// for an event writes no journal row. The shop has an email channel and
// an invoice rule but no merchant webhook channel: once a paid order's
// events went through every consumer, the journal holds the email and
// invoice consumers' work, and nothing of the merchant consumer nor of the
// events no consumer acts on (the stock move, the payment that
// succeeded).
func TestDeliveriesIdleConsumersJournalNothing(t *testing.T) {
	ia := newInvApp(t, testkit.SQLite)
	bg := context.Background()
	o := ia.place(t, "", "guest@example.com")
	ia.pay(t, authz.WithSubject(bg, authz.AnonymousSubject()), o, invSucceedCard)
	ia.documents(t, o.id, 1)
	paid := ia.outboxEvent(t, "kassa.order.paid", o.id)

	// Every durable consumer has acknowledged everything.
	js, err := jetstream.New(ia.Bus.Conn())
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(bg, events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	invWait(t, "the consumers to catch up", func() bool {
		flushCtx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		if err := ia.Relay.Flush(flushCtx); err != nil {
			t.Fatal(err)
		}
		names := stream.ConsumerNames(bg)
		n := 0
		for name := range names.Name() {
			c, err := stream.Consumer(bg, name)
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.Info(bg)
			if err != nil {
				t.Fatal(err)
			}
			if info.NumPending > 0 || info.NumAckPending > 0 {
				return false
			}
			n++
		}
		return n > 0
	})

	var rows []struct {
		Consumer string `bun:"consumer"`
		EventID  string `bun:"event_id"`
		Subject  string `bun:"subject"`
	}
	if err := ia.DB.NewRaw("SELECT consumer, event_id, subject FROM event_deliveries ORDER BY consumer, subject").Scan(bg, &rows); err != nil {
		t.Fatal(err)
	}
	invoiced := false
	for _, r := range rows {
		switch {
		case r.Consumer == "notify-merchant":
			t.Errorf("the merchant consumer journaled %s %s with no webhook channel enabled", r.Subject, r.EventID)
		case r.Subject == "kassa.payment.succeeded" || r.Subject == "kassa.inventory.moved":
			t.Errorf("%s journaled %s, which it does nothing for", r.Consumer, r.Subject)
		case r.Consumer == "invoices-0" && r.EventID == paid.ID:
			invoiced = true
		}
	}
	if !invoiced {
		t.Errorf("no journal row of the invoice issued for %s; rows: %+v", paid.ID, rows)
	}
}
