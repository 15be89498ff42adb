package order_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit/invariant"
	"github.com/kassahq/kassa/core/worker"
	"github.com/kassahq/kassa/core/worker/workertest"
)

// The shop's defaults: orders wait 30 minutes for payment, and buyers are
// reminded 10 minutes before.
const (
	deadline = 30 * time.Minute
	remindAt = 20 * time.Minute
)

// scheduler returns a scheduler of svc claiming as holder.
func scheduler(t *testing.T, svc *order.Service, holder string, hook order.ExpiryHook, batch int) *order.Scheduler {
	t.Helper()
	sc, err := order.NewScheduler(svc, order.SchedulerOptions{Holder: holder, Lease: 2 * time.Minute, Batch: batch,
		BeforeExpire: hook, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// entries returns an order's timeline rows of one machine.
func (f *fixture) entries(t *testing.T, orderID, machine string) []*order.TimelineEntry {
	t.Helper()
	var es []*order.TimelineEntry
	if err := f.db.NewSelect().Model(&es).Where("tl.order_id = ? AND tl.machine = ?", orderID, machine).OrderExpr("tl.id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return es
}

// cancellations returns the timeline rows that moved an order to CANCELLED.
func (f *fixture) cancellations(t *testing.T, orderID string) []*order.TimelineEntry {
	t.Helper()
	var out []*order.TimelineEntry
	for _, e := range f.entries(t, orderID, order.MachineStatus) {
		if e.ToState == string(order.Cancelled) {
			out = append(out, e)
		}
	}
	return out
}

// claimedBy returns the holder of an order's scheduler claim, "" if free.
func (f *fixture) claimedBy(t *testing.T, orderID string) string {
	t.Helper()
	var by *string
	if err := f.db.NewSelect().Table("orders").Column("claimed_by").Where("id = ?", orderID).Scan(context.Background(), &by); err != nil {
		t.Fatal(err)
	}
	if by == nil {
		return ""
	}
	return *by
}

// TestDeadlineCloser: an unpaid order past its deadline is cancelled once,
// by the closer as a system subject with its reason, its stock released
// and kassa.order.cancelled emitted; paid, shipped, cancelled and not yet
// due orders are left as they are.
func TestDeadlineCloser(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		due := f.place(t, guest(), f.input("cart_due", "", "due@example.com", line{f.tea, 2, 500}, line{f.cup, 1, 800}))
		paid := f.place(t, guest(), f.input("cart_paid", "", "paid@example.com", line{f.tea, 1, 500}))
		f.pay(t, paid.Order.ID, order.PaymentPaid)
		shipped := f.place(t, guest(), f.input("cart_shipped", "", "shipped@example.com", line{f.tea, 2, 500}))
		f.ship(t, shipped, 1)
		cancelled := f.place(t, guest(), f.input("cart_cancelled", "", "cancelled@example.com", line{f.cup, 1, 800}))
		f.cancel(t, cancelled)
		f.clock.Advance(20 * time.Minute)
		fresh := f.place(t, guest(), f.input("cart_fresh", "", "fresh@example.com", line{f.cup, 1, 800}))
		// The first four are past their deadline; fresh has 20 minutes left.
		f.clock.Set(due.Order.PaymentDeadline.Add(10 * time.Minute))

		untouched := map[string]state{}
		for _, p := range []*order.Placed{paid, shipped, cancelled, fresh} {
			untouched[p.Order.ID] = f.state(t, p.Order.ID)
		}
		before := f.stock(t)
		events := len(f.out.Events())
		sc := scheduler(t, f.svc, "instance-a", nil, 0)

		n, err := sc.CloseOverdue(staff(authz.RoleSupport))
		if err != nil || n != 1 {
			t.Fatalf("first round cancelled %d (%v), want 1", n, err)
		}
		got := f.state(t, due.Order.ID)
		if got.Status != string(order.Cancelled) || !got.Cancelled {
			t.Errorf("due order is %s (cancelled_at set: %v), want CANCELLED", got.Status, got.Cancelled)
		}
		wantStock := map[string][2]int64{"TEA-1": {before["TEA-1"][0], before["TEA-1"][1] - 2}, "CUP-1": {before["CUP-1"][0], before["CUP-1"][1] - 1}}
		if diff := cmp.Diff(wantStock, f.stock(t)); diff != "" {
			t.Errorf("stock after the cancel (-want +got):\n%s", diff)
		}
		rows := f.cancellations(t, due.Order.ID)
		if len(rows) != 1 {
			t.Fatalf("%d cancellation rows, want 1", len(rows))
		}
		if r := rows[0]; r.ActorKind != string(authz.KindSystem) || r.Actor == nil || *r.Actor != "system:"+order.CloserWorker ||
			r.Reason == nil || *r.Reason != order.DeadlineReason {
			t.Errorf("cancellation row by %s %v for %v, want the closer's system subject and %q", r.ActorKind, r.Actor, r.Reason, order.DeadlineReason)
		}
		evs := f.out.Events()[events:]
		if len(evs) != 1 || evs[0].Subject != order.SubjectCancelled {
			t.Fatalf("events %v, want one %s", subjects(evs), order.SubjectCancelled)
		}
		var m order.Moved
		if err := evs[0].Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m.OrderID != due.Order.ID || m.Reason != order.DeadlineReason || m.To != string(order.Cancelled) || evs[0].ID != rows[0].EventID {
			t.Errorf("event %+v (id %s), want the cancellation of %s with its reason, named by the timeline row (%s)", m, evs[0].ID, due.Order.ID, rows[0].EventID)
		}
		if by := f.claimedBy(t, due.Order.ID); by != "" {
			t.Errorf("cancelled order still claimed by %q", by)
		}

		// A second round an hour later leaves the cancelled order alone.
		f.clock.Advance(time.Hour)
		// By then fresh is overdue too: it is the only one cancelled.
		n, err = sc.CloseOverdue(context.Background())
		if err != nil || n != 1 || f.state(t, fresh.Order.ID).Status != string(order.Cancelled) {
			t.Errorf("second round cancelled %d (%v); fresh is %s", n, err, f.state(t, fresh.Order.ID).Status)
		}
		delete(untouched, fresh.Order.ID)
		if n, err := sc.CloseOverdue(context.Background()); err != nil || n != 0 {
			t.Errorf("third round: %d, %v; want nothing", n, err)
		}
		if got := len(f.cancellations(t, due.Order.ID)); got != 1 {
			t.Errorf("%d cancellation rows after three rounds, want 1", got)
		}
		for id, want := range untouched {
			got := f.state(t, id)
			want.Stock, got.Stock = nil, nil
			want.Events, got.Events = 0, 0
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("order %s changed (-before +after):\n%s", id, diff)
			}
		}
		invariant.Require(t, db)
	})
}

// recordingHook answers each order with the verdict (or error) the test
// set and counts the calls.
type recordingHook struct {
	mu      sync.Mutex
	calls   map[string]int
	answers map[string]func(ctx context.Context, o *order.Order) (order.ExpiryVerdict, error)
}

func newRecordingHook() *recordingHook {
	return &recordingHook{calls: map[string]int{}, answers: map[string]func(context.Context, *order.Order) (order.ExpiryVerdict, error){}}
}

func (h *recordingHook) BeforeExpire(ctx context.Context, o *order.Order) (order.ExpiryVerdict, error) {
	h.mu.Lock()
	h.calls[o.ID]++
	answer := h.answers[o.ID]
	h.mu.Unlock()
	if answer == nil {
		return order.ExpireNow, nil
	}
	return answer(ctx, o)
}

func (h *recordingHook) answer(orderID string, fn func(ctx context.Context, o *order.Order) (order.ExpiryVerdict, error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answers[orderID] = fn
}

func (h *recordingHook) count(orderID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[orderID]
}

func verdict(v order.ExpiryVerdict) func(context.Context, *order.Order) (order.ExpiryVerdict, error) {
	return func(context.Context, *order.Order) (order.ExpiryVerdict, error) { return v, nil }
}

// TestCloserHook: the BeforeExpire hook is asked before every cancel and
// can veto it. A paid verdict (after the hook moved the payment, as the
// payment domain will) leaves the order open and no longer due; a pending
// verdict or an error leaves it open and claimed, asked again once the
// claim lapses.
func TestCloserHook(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		hook := newRecordingHook()
		sc := scheduler(t, f.svc, "instance-a", hook, 0)
		placeOne := func(cart string) *order.Placed {
			return f.place(t, guest(), f.input(cart, "", cart+"@example.com", line{f.tea, 1, 500}))
		}
		paidAtGateway := placeOne("paid_at_gateway")
		inProgress := placeOne("in_progress")
		unreachable := placeOne("unreachable")
		hook.answer(paidAtGateway.Order.ID, func(ctx context.Context, o *order.Order) (order.ExpiryVerdict, error) {
			// The payment domain's hook: the gateway says paid, so it
			// moves the order's payment as the platform.
			if _, err := f.svc.MovePayment(ctx, order.PaymentMove{OrderID: o.ID, From: order.PaymentPending, To: order.PaymentPaid}); err != nil {
				return order.KeepPending, err
			}
			return order.KeepPaid, nil
		})
		hook.answer(inProgress.Order.ID, verdict(order.KeepPending))
		gatewayDown := errors.New("gateway unreachable")
		hook.answer(unreachable.Order.ID, func(context.Context, *order.Order) (order.ExpiryVerdict, error) {
			return order.ExpireNow, gatewayDown
		})
		f.clock.Advance(deadline + time.Minute)

		n, err := sc.CloseOverdue(context.Background())
		if n != 0 || !errors.Is(err, gatewayDown) {
			t.Fatalf("first round: cancelled %d, err %v; want none and the hook's error", n, err)
		}
		for _, p := range []*order.Placed{paidAtGateway, inProgress, unreachable} {
			if st := f.state(t, p.Order.ID); st.Status != string(order.Open) {
				t.Errorf("%s is %s after the veto, want OPEN", p.Order.CartID, st.Status)
			}
			if got := len(f.cancellations(t, p.Order.ID)); got != 0 {
				t.Errorf("%s has %d cancellation rows", p.Order.CartID, got)
			}
		}
		if got := f.state(t, paidAtGateway.Order.ID).Payment; got != string(order.PaymentPaid) {
			t.Errorf("paid at the gateway: payment %s, want PAID", got)
		}
		if f.out.Count(order.SubjectCancelled) != 0 {
			t.Errorf("events %v, want no cancellation", f.out.Subjects())
		}
		for _, p := range []*order.Placed{inProgress, unreachable} {
			if by := f.claimedBy(t, p.Order.ID); by != "instance-a" {
				t.Errorf("%s claimed by %q, want instance-a until the lease lapses", p.Order.CartID, by)
			}
		}

		// Within the lease nobody asks again.
		if n, err := sc.CloseOverdue(context.Background()); n != 0 || err != nil {
			t.Fatalf("round within the lease: %d, %v", n, err)
		}
		for _, p := range []*order.Placed{paidAtGateway, inProgress, unreachable} {
			if got := hook.count(p.Order.ID); got != 1 {
				t.Errorf("%s: hook asked %d times within the lease, want 1", p.Order.CartID, got)
			}
		}

		// Once the lease lapsed, the orders still due are asked again;
		// the paid one is no longer due. This time the gateway answers.
		hook.answer(inProgress.Order.ID, verdict(order.ExpireNow))
		hook.answer(unreachable.Order.ID, verdict(order.ExpireNow))
		f.clock.Advance(3 * time.Minute)
		n, err = sc.CloseOverdue(context.Background())
		if n != 2 || err != nil {
			t.Fatalf("round after the lease: cancelled %d, %v; want 2", n, err)
		}
		want := map[string]int{paidAtGateway.Order.ID: 1, inProgress.Order.ID: 2, unreachable.Order.ID: 2}
		for id, calls := range want {
			if got := hook.count(id); got != calls {
				t.Errorf("%s: hook asked %d times, want %d", id, got, calls)
			}
		}
		if got := f.state(t, paidAtGateway.Order.ID).Status; got != string(order.Open) {
			t.Errorf("the paid order is %s, want OPEN", got)
		}
		if f.out.Count(order.SubjectCancelled) != 2 {
			t.Errorf("events %v, want two cancellations", f.out.Subjects())
		}
	})
}

// TestPaymentReminder: an unpaid open order gets kassa.order.payment_reminder
// once, when its reminder time (deadline minus the shop's reminder lead)
// has come, with a staff-only timeline row; paid orders and orders past
// their deadline get none.
func TestPaymentReminder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addCustomer(t, "cus_r", "r@example.com", true)
		sc := scheduler(t, f.svc, "instance-a", nil, 0)
		late := f.place(t, guest(), f.input("cart_late", "", "late@example.com", line{f.tea, 1, 500}))
		f.clock.Advance(deadline + time.Minute) // late's deadline passed unreminded
		remind := f.place(t, buyer("cus_r"), f.input("cart_remind", "cus_r", "r@example.com", line{f.tea, 1, 500}))
		paid := f.place(t, guest(), f.input("cart_paid", "", "paid@example.com", line{f.cup, 1, 800}))
		f.pay(t, paid.Order.ID, order.PaymentPaid)
		if want := remind.Order.PaymentDeadline.Add(-10 * time.Minute); !remind.Order.RemindAt.Equal(want) {
			t.Fatalf("remind at %v, want %v", remind.Order.RemindAt, want)
		}

		f.clock.Set(remind.Order.RemindAt.Add(-time.Second))
		if n, err := sc.SendReminders(context.Background()); n != 0 || err != nil {
			t.Fatalf("a second early: reminded %d, %v", n, err)
		}
		f.clock.Set(remind.Order.RemindAt)
		events := len(f.out.Events())
		n, err := sc.SendReminders(context.Background())
		if n != 1 || err != nil {
			t.Fatalf("at the reminder time: reminded %d, %v; want 1", n, err)
		}
		evs := f.out.Events()[events:]
		if len(evs) != 1 || evs[0].Subject != order.SubjectPaymentReminder {
			t.Fatalf("events %v, want one %s", subjects(evs), order.SubjectPaymentReminder)
		}
		var r order.Reminder
		if err := evs[0].Decode(&r); err != nil {
			t.Fatal(err)
		}
		want := order.Reminder{OrderID: remind.Order.ID, Number: remind.Order.Number, CustomerID: "cus_r", PaymentDeadline: remind.Order.PaymentDeadline}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("reminder payload (-want +got):\n%s", diff)
		}
		rows := f.entries(t, remind.Order.ID, order.MachineReminder)
		if len(rows) != 1 || rows[0].Visibility != order.StaffOnly || rows[0].EventID != evs[0].ID || *rows[0].Actor != "system:"+order.ReminderWorker {
			t.Fatalf("reminder rows %+v, want one staff-only row naming the event, by the reminder", rows)
		}
		d, err := f.svc.Get(staff(authz.RoleSupport), remind.Order.ID)
		if err != nil || d.Order.RemindedAt == nil || !d.Order.RemindedAt.Equal(f.clock.Now()) {
			t.Fatalf("reminded_at %v (%v), want %v", d.Order.RemindedAt, err, f.clock.Now())
		}
		if by := f.claimedBy(t, remind.Order.ID); by != "" {
			t.Errorf("reminded order still claimed by %q", by)
		}
		// The buyer's timeline does not show it.
		mine, err := f.svc.Get(buyer("cus_r"), remind.Order.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range mine.Timeline {
			if e.Machine == order.MachineReminder {
				t.Errorf("the buyer sees the reminder row")
			}
		}

		f.clock.Advance(5 * time.Minute)
		if n, err := sc.SendReminders(context.Background()); n != 0 || err != nil {
			t.Errorf("second round: reminded %d, %v; want none", n, err)
		}
		if got := f.out.Count(order.SubjectPaymentReminder); got != 1 {
			t.Errorf("%d reminders in all, want 1", got)
		}
		for _, p := range []*order.Placed{late, paid} {
			if got := len(f.entries(t, p.Order.ID, order.MachineReminder)); got != 0 {
				t.Errorf("%s was reminded", p.Order.CartID)
			}
		}
	})
}

// secondInstance is a second kassa instance on the fixture's database:
// its own handle (connection pool), authorizer, shop settings, stock
// reservations, order service and outbox, on the same clock.
func (f *fixture) secondInstance(t *testing.T) (*order.Service, *eventstest.Outbox) {
	t.Helper()
	ctx := context.Background()
	var url string
	if f.db.Dialect == store.Postgres {
		url = storetest.DSNOf(t, f.db)
	} else if err := f.db.NewRaw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(ctx, &url); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	enf, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	settings, err := shop.NewService(db, shop.Options{Authz: enf, Outbox: &eventstest.Outbox{}, Clock: f.clock, CacheFor: -1, DefaultCurrency: money.CNY})
	if err != nil {
		t.Fatal(err)
	}
	out := &eventstest.Outbox{}
	svc, err := order.NewService(db, order.Options{Authz: enf, Outbox: out, Stock: catalog.NewReservations(db, catalog.ReservationsOptions{Clock: f.clock}),
		Settings: settings, Customers: f.customers, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	return svc, out
}

// TestSchedulersOnTwoInstances: two instances with their own claimers
// (different holders, different connection pools) run reminder and closer
// rounds at the same time on one database. Every order is reminded once
// and cancelled once: one timeline row and one event each, the hook asked
// once per order, the stock released once.
func TestSchedulersOnTwoInstances(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		mug := f.variant(t, "Mug", "MUG", 1000)
		svcB, outB := f.secondInstance(t)
		hook := newRecordingHook()
		// Small batches, so that the instances interleave.
		a := scheduler(t, f.svc, "instance-a", hook, 3)
		b := scheduler(t, svcB, "instance-b", hook, 3)
		const orders = 24
		var placed []*order.Placed
		for i := range orders {
			placed = append(placed, f.place(t, guest(), f.input("cart_two_"+itoa(int64(i)), "", "two@example.com", line{mug, 2, 100})))
		}
		if got := f.level(t, mug); got != [2]int64{1000, 2 * orders} {
			t.Fatalf("mug stock %v after placing", got)
		}

		// runBoth runs a round of each instance at once, twice over, and
		// returns how many orders all of them acted on.
		runBoth := func(round func(*order.Scheduler) func(context.Context) (int, error)) int {
			t.Helper()
			ops := []func() error{}
			counts := make([]int, 4)
			for i, sc := range []*order.Scheduler{a, b, a, b} {
				ops = append(ops, func() error {
					n, err := round(sc)(context.Background())
					counts[i] = n
					return err
				})
			}
			for i, err := range race(ops...) {
				if err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
			}
			return counts[0] + counts[1] + counts[2] + counts[3]
		}
		countEvents := func(subject string) int { return f.out.Count(subject) + outB.Count(subject) }

		f.clock.Advance(remindAt)
		if n := runBoth(func(sc *order.Scheduler) func(context.Context) (int, error) { return sc.SendReminders }); n != orders {
			t.Errorf("reminded %d orders, want %d", n, orders)
		}
		if got := countEvents(order.SubjectPaymentReminder); got != orders {
			t.Errorf("%d reminder events, want %d", got, orders)
		}

		f.clock.Advance(deadline)
		if n := runBoth(func(sc *order.Scheduler) func(context.Context) (int, error) { return sc.CloseOverdue }); n != orders {
			t.Errorf("cancelled %d orders, want %d", n, orders)
		}
		if got := countEvents(order.SubjectCancelled); got != orders {
			t.Errorf("%d cancellation events, want %d", got, orders)
		}
		for _, p := range placed {
			id := p.Order.ID
			if got := len(f.entries(t, id, order.MachineReminder)); got != 1 {
				t.Errorf("%s: %d reminder rows, want 1", p.Order.CartID, got)
			}
			if got := len(f.cancellations(t, id)); got != 1 {
				t.Errorf("%s: %d cancellation rows, want 1", p.Order.CartID, got)
			}
			if got := hook.count(id); got != 1 {
				t.Errorf("%s: hook asked %d times, want 1", p.Order.CartID, got)
			}
			if st := f.state(t, id); st.Status != string(order.Cancelled) {
				t.Errorf("%s is %s", p.Order.CartID, st.Status)
			}
		}
		if got := f.level(t, mug); got != [2]int64{1000, 0} {
			t.Errorf("mug stock %v after the cancellations, want all released", got)
		}
		invariant.Require(t, db)
	})
}

// TestSchedulerWorkers: the schedulers run as periodic workers named
// order.payment_reminder and order.deadline_closer; a round that comes due
// on the worker clock reminds and cancels.
func TestSchedulerWorkers(t *testing.T) {
	db := storetest.NewSQLite(t)
	f := newFixture(t, db)
	wc := workertest.NewClock(start)
	sc, err := order.NewScheduler(f.svc, order.SchedulerOptions{Holder: "instance-a", Clock: wc, Jitter: -1,
		ReminderInterval: time.Minute, CloserInterval: time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := sc.Workers()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.Name())
	}
	if diff := cmp.Diff([]string{order.ReminderWorker, order.CloserWorker}, names); diff != "" {
		t.Fatalf("workers (-want +got):\n%s", diff)
	}
	g, err := worker.NewGroup(worker.GroupOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Add(ws...); err != nil {
		t.Fatal(err)
	}
	p := f.place(t, guest(), f.input("cart_worker", "", "w@example.com", line{f.tea, 1, 500}))
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop(context.Background()) })

	// step moves the service's time to at and the workers' by one
	// interval, then waits until both rounds ran (each worker waits on
	// its next timer again).
	step := func(at time.Time) {
		wc.WaitTimers(2)
		f.clock.Set(at)
		wc.Advance(time.Minute)
		wc.WaitTimers(2)
	}
	step(p.Order.RemindAt)
	if got := f.out.Count(order.SubjectPaymentReminder); got != 1 {
		t.Errorf("%d reminders after the reminder round, want 1", got)
	}
	step(p.Order.PaymentDeadline)
	if got := f.state(t, p.Order.ID).Status; got != string(order.Cancelled) {
		t.Errorf("order is %s after the closer's round, want CANCELLED", got)
	}
}

func TestNewSchedulerRefusesBadOptions(t *testing.T) {
	db := storetest.NewSQLite(t)
	f := newFixture(t, db)
	for name, opt := range map[string]order.SchedulerOptions{
		"negative lease":    {Lease: -time.Second},
		"negative batch":    {Batch: -1},
		"negative interval": {CloserInterval: -time.Second},
	} {
		if _, err := order.NewScheduler(f.svc, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := order.NewScheduler(nil, order.SchedulerOptions{}); err == nil {
		t.Error("no service: accepted")
	}
}

// subjects lists the subjects of events.
func subjects(evs []events.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Subject
	}
	return out
}

// TestCloserSlowInstance: an instance whose hook call outlasts its claim
// loses the order to another instance, which cancels it; when the slow
// one finally answers, it cancels nothing twice and reports no failure.
func TestCloserSlowInstance(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		svcB, outB := f.secondInstance(t)
		p := f.place(t, guest(), f.input("cart_slow", "", "slow@example.com", line{f.tea, 1, 500}))
		f.clock.Advance(deadline + time.Minute)

		asked, resume := make(chan struct{}), make(chan struct{})
		slow := order.ExpiryHookFunc(func(context.Context, *order.Order) (order.ExpiryVerdict, error) {
			close(asked)
			<-resume
			return order.ExpireNow, nil
		})
		a := scheduler(t, f.svc, "instance-a", slow, 0)
		b := scheduler(t, svcB, "instance-b", nil, 0)
		type result struct {
			n   int
			err error
		}
		done := make(chan result, 1)
		go func() {
			n, err := a.CloseOverdue(context.Background())
			done <- result{n, err}
		}()
		<-asked
		if n, err := b.CloseOverdue(context.Background()); n != 0 || err != nil {
			t.Fatalf("b within a's lease: %d, %v", n, err)
		}
		f.clock.Advance(3 * time.Minute) // a's claim lapsed
		if n, err := b.CloseOverdue(context.Background()); n != 1 || err != nil {
			t.Fatalf("b after a's lease: %d, %v; want 1", n, err)
		}
		close(resume)
		if r := <-done; r.n != 0 || r.err != nil {
			t.Fatalf("a, late: %d, %v; want nothing done and no failure", r.n, r.err)
		}
		if got := len(f.cancellations(t, p.Order.ID)); got != 1 {
			t.Errorf("%d cancellation rows, want 1", got)
		}
		if got := f.out.Count(order.SubjectCancelled) + outB.Count(order.SubjectCancelled); got != 1 {
			t.Errorf("%d cancellation events, want 1", got)
		}
		if got := f.level(t, f.tea); got != [2]int64{10, 0} {
			t.Errorf("tea stock %v, want the reservation released once", got)
		}
		if by := f.claimedBy(t, p.Order.ID); by != "" {
			t.Errorf("order still claimed by %q", by)
		}
		invariant.Require(t, db)
	})
}
