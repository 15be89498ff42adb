package live_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/graphql/live"
)

// TestHub: an order event signals the watches of its order only; signals
// that find one pending are absorbed, never waited for; a stopped watch
// is forgotten; Close ends every watch and refuses new ones.
func TestHub(t *testing.T) {
	h, err := live.NewHub(live.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := h.Watch("ord_a")
	a2, _ := h.Watch("ord_a")
	b, _ := h.Watch("ord_b")
	paid := events.MustNew("kassa.order.paid", map[string]string{"orderId": "ord_a"})
	for range 3 { // nobody reads: the hub must not block
		if err := h.HandleOrderEvent(context.Background(), paid); err != nil {
			t.Fatal(err)
		}
	}
	for name, w := range map[string]*live.Watch{"a1": a1, "a2": a2} {
		select {
		case <-w.Changed():
		default:
			t.Errorf("%s was not signalled", name)
		}
		select {
		case <-w.Changed():
			t.Errorf("%s holds more than one pending signal", name)
		default:
		}
	}
	select {
	case <-b.Changed():
		t.Error("another order's watch was signalled")
	default:
	}
	if err := h.HandleOrderEvent(context.Background(), events.MustNew("kassa.order.paid", "not an object")); err == nil {
		t.Error("a malformed payload was accepted")
	}
	a1.Stop()
	a1.Stop()
	if n := h.Watching("ord_a"); n != 1 {
		t.Errorf("watching ord_a: %d, want 1", n)
	}
	h.Close()
	if _, ok := <-a2.Changed(); ok {
		t.Error("a watch stayed open after Close")
	}
	a2.Stop() // after Close: no effect, no panic
	if _, err := h.Watch("ord_c"); !errors.Is(err, live.ErrClosed) {
		t.Errorf("watch after close: %v", err)
	}
}

// TestPaymentEvents: every subject the payment domain emits is one the
// hub listens to, and each payload signals the watches of its order, so
// a payment that changes without moving its order (a decline) reaches
// the buyer's status page.
func TestPaymentEvents(t *testing.T) {
	for _, subject := range payment.Subjects() {
		heard := false
		for _, filter := range live.Subjects {
			heard = heard || strings.HasPrefix(subject, strings.TrimSuffix(filter, ">"))
		}
		if !heard {
			t.Errorf("%s is not in live.Subjects %v", subject, live.Subjects)
		}
	}
	h, err := live.NewHub(live.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w, _ := h.Watch("ord_a")
	for _, e := range []events.Event{
		events.MustNew(payment.SubjectFailed, payment.AttemptEvent{AttemptID: "pay_1", OrderID: "ord_a", Amount: money.New(1000, money.CNY), From: "PENDING", To: "FAILED"}),
		events.MustNew(payment.SubjectRefundSucceeded, payment.RefundEvent{RefundID: "ref_1", AttemptID: "pay_1", OrderID: "ord_a", Amount: money.New(500, money.CNY)}),
		events.MustNew(payment.SubjectFlagged, payment.FlaggedEvent{EventID: "gev_1", OrderID: "ord_a", Reason: payment.FlagOverpaid}),
	} {
		if err := h.HandleOrderEvent(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.Changed():
		default:
			t.Errorf("%s did not signal its order", e.Subject)
		}
	}
	// A flagged event about no known payment names no order: nothing.
	if err := h.HandleOrderEvent(context.Background(), events.MustNew(payment.SubjectFlagged, payment.FlaggedEvent{EventID: "gev_2", Reason: payment.FlagUnknownAttempt})); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Changed():
		t.Error("an event without an order signalled a watch")
	default:
	}
}

// TestWatchSubjects: a watch given subjects is told of those events only
// (a subscription showing nothing of the payments skips the payment
// events, whose order moves come with an order event), one given none of
// every event, and Notify tells every watch.
func TestWatchSubjects(t *testing.T) {
	h, err := live.NewHub(live.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	rows, _ := h.Watch("ord_a", live.OrderSubjects)
	all, _ := h.Watch("ord_a")
	signalled := func(w *live.Watch) bool {
		select {
		case <-w.Changed():
			return true
		default:
			return false
		}
	}
	for _, c := range []struct {
		subject   string
		rows, all bool
	}{
		{payment.SubjectSucceeded, false, true},
		{"kassa.order.paid", true, true},
		{"kassa.orders.other", false, true}, // a prefix of the filter's words is not the filter
	} {
		if err := h.HandleOrderEvent(context.Background(), events.MustNew(c.subject, map[string]string{"orderId": "ord_a"})); err != nil {
			t.Fatal(err)
		}
		if got := signalled(rows); got != c.rows {
			t.Errorf("%s: the order-events watch signalled %v, want %v", c.subject, got, c.rows)
		}
		if got := signalled(all); got != c.all {
			t.Errorf("%s: the every-event watch signalled %v, want %v", c.subject, got, c.all)
		}
	}
	h.Notify("ord_a")
	if !signalled(rows) || !signalled(all) {
		t.Error("Notify skipped a watch")
	}
}

// TestEventLag: the hub records how late each event reaches it, from
// the moment it occurred, so an operator sees the delay the outbox relay
// and the bus add before a status page hears of a change.
func TestEventLag(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := live.NewHub(live.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	e := events.MustNew("kassa.order.paid", map[string]string{"orderId": "ord_a"})
	e.OccurredAt = time.Now().Add(-300 * time.Millisecond)
	if err := h.HandleOrderEvent(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "kassa_live_event_lag_seconds"); n != 1 {
		t.Fatalf("lag series: %d, want 1", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kassa_live_event_lag_seconds" {
			continue
		}
		hist := mf.GetMetric()[0].GetHistogram()
		if hist.GetSampleCount() != 1 || hist.GetSampleSum() < 0.3 || hist.GetSampleSum() > 5 {
			t.Errorf("lag: %d samples, sum %.3f s; want 1 sample of about 0.3 s", hist.GetSampleCount(), hist.GetSampleSum())
		}
	}
}

// TestHubCommittedEvents: an event committed on this instance signals its
// order's watches at once, and its copy from the bus signals no one
// again; an event committed elsewhere, which comes by the bus alone,
// signals as before.
func TestHubCommittedEvents(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	h, err := live.NewHub(live.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := h.Watch("ord_a")
	pending := func() bool {
		select {
		case <-w.Changed():
			return true
		default:
			return false
		}
	}
	paid := events.MustNew("kassa.order.paid", map[string]string{"orderId": "ord_a"})
	h.HandleCommitted(paid)
	if !pending() {
		t.Fatal("a committed event did not signal its order's watch")
	}
	if err := h.HandleOrderEvent(context.Background(), paid); err != nil {
		t.Fatal(err)
	}
	if pending() {
		t.Fatal("the bus's copy of a committed event signalled again")
	}
	elsewhere := events.MustNew("kassa.order.fulfilled", map[string]string{"orderId": "ord_a"})
	if err := h.HandleOrderEvent(context.Background(), elsewhere); err != nil {
		t.Fatal(err)
	}
	if !pending() {
		t.Fatal("an event from another instance did not signal")
	}
	h.HandleCommitted(events.MustNew("kassa.order.paid", "not an object")) // ignored, no panic
	if n := testutil.CollectAndCount(reg, "kassa_live_event_lag_seconds"); n != 2 {
		t.Errorf("lag series: %d, want 2 (via commit and via bus)", n)
	}
}

// TestHubForgetsOldCommits: the ids the hub keeps to recognise the bus's
// copies are bounded; a copy that comes after its id was forgotten
// signals again, which is harmless.
func TestHubForgetsOldCommits(t *testing.T) {
	h, err := live.NewHub(live.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := h.Watch("ord_a")
	first := events.MustNew("kassa.order.paid", map[string]string{"orderId": "ord_a"})
	h.HandleCommitted(first)
	for range 5000 {
		h.HandleCommitted(events.MustNew("kassa.order.placed", map[string]string{"orderId": "ord_b"}))
	}
	<-w.Changed()
	if err := h.HandleOrderEvent(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Changed():
	default:
		t.Fatal("the copy of a forgotten commit did not signal")
	}
}
