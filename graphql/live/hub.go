// Package live fans the order and payment events an instance receives out
// to the GraphQL subscriptions open on it. One bus listener per instance feeds a
// Hub; each subscription watches one order id and is told, without the
// event itself, that the order changed: it reads the order again as its
// caller may see it. Ten thousand open subscriptions thus cost one NATS
// subscription, and every instance of a cluster, listening on its own,
// sees every order event.
//
// An event committed on this instance reaches its hub twice: at once
// from the outbox after the commit (HandleCommitted), and later from the
// bus, after the outbox relay published it. The first tells the
// watches; the hub remembers the event's id, and the bus's copy tells
// no one again. So a buyer's status page on the instance that applied
// the payment shows it without waiting for the relay and the bus, and
// those on other instances as soon as the bus brings it.
//
//	hub := live.NewHub(live.Options{Registerer: reg})
//	for _, subject := range live.Subjects {
//		err := outbox.OnCommit(subject, hub.HandleCommitted)
//		sub, err := bus.Listen(ctx, subject, hub.HandleOrderEvent)
//	}
//	w, err := hub.Watch(orderID) // or hub.Watch(orderID, live.OrderSubjects): the order's own events only
//	defer w.Stop()
//	for range w.Changed() {
//		// read the order again and send it
//	}
//
// A watch holds at most one pending signal: a signal that finds one
// pending is absorbed by it, since the reader reads the latest state
// anyway. So the listener never waits for a subscriber, however slow;
// what is slow is the subscriber's connection, which its transport
// drops (graphql's WebSocket and server-sent events handlers).
//
// Access does the same for who the connections act as: the account events
// that end or change a caller's access (a disabled member, a revoked key,
// a logout) and every load of the permission policy reach the connections
// of that caller on every instance, which then check their credential
// again (ADR 0013).
package live

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/events"
)

// OrderSubjects is the bus filter of the events that change what an
// order shows: its status, payment and fulfillment moves, shipments and
// cancellation (core/order's subjects).
const OrderSubjects = "kassa.order.>"

// PaymentSubjects is the bus filter of the payment events (core/payment's
// subjects): an attempt's or a refund's move, a flagged gateway event.
// Some change the order's payment status too, but not all: a decline
// leaves the order PENDING, and the buyer's status page must still show
// it at once.
const PaymentSubjects = "kassa.payment.>"

// Subjects are the bus filters an instance listens to for its hub; each
// event's payload names its order (orderId).
var Subjects = []string{OrderSubjects, PaymentSubjects}

// ErrClosed is returned by Watch once the hub is closed (the instance is
// shutting down).
var ErrClosed = errors.New("live: hub closed")

// Options configure NewHub.
type Options struct {
	// Registerer receives the hub's gauge of open watches and counter of
	// signals; nil skips them.
	Registerer prometheus.Registerer
}

// recentCommits is how many ids of events committed on this instance a
// hub remembers to recognise their copies from the bus: far more than
// the events a relay has in flight. A copy that comes after its id was
// forgotten only makes its watches read an unchanged order again.
const recentCommits = 4096

// Hub dispatches "this order changed" to the watches of that order on
// this instance. It is safe for concurrent use.
type Hub struct {
	mu      sync.Mutex
	watches map[string]map[*Watch]struct{}
	closed  bool
	// committed holds the ids of events HandleCommitted dispatched whose
	// bus copy has not come yet; recent is the ring that forgets the
	// oldest of them, next its next slot. Guarded by mu.
	committed map[string]struct{}
	recent    [recentCommits]string
	next      int

	open    prometheus.Gauge
	signals prometheus.Counter
	lag     *prometheus.HistogramVec
}

// NewHub returns an empty hub.
func NewHub(opts Options) (*Hub, error) {
	h := &Hub{watches: map[string]map[*Watch]struct{}{}, committed: map[string]struct{}{},
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kassa_live_watches",
			Help: "Orders watched by open GraphQL subscriptions on this instance.",
		}),
		signals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kassa_live_signals_total",
			Help: "Order changes dispatched to open GraphQL subscriptions.",
		}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kassa_live_event_lag_seconds",
			Help: "From an order or payment event's occurrence (in its transaction) to this instance's hub receiving it, " +
				"by way of the commit on this instance (via=commit) or of the outbox relay and the bus (via=bus).",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"via"}),
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{h.open, h.signals, h.lag} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// Watch is one subscription's interest in one order.
type Watch struct {
	hub *Hub
	key string
	c   chan struct{}
	// prefixes are the subjects the watch is told of (the filters
	// given to Hub.Watch, "kassa.order."); nil is every subject.
	prefixes []string
	// stopped is guarded by hub.mu.
	stopped bool
}

// Watch starts watching the order with id key, told of the events
// matching one of subjects (of Subjects: OrderSubjects, PaymentSubjects),
// of every event when none is given. A subscriber that shows nothing of
// the order's payments watches OrderSubjects alone: a payment that moves
// the order moves it with an order event in the same transaction, so
// the payment events would only make it read an unchanged order again.
// Stop it when done.
func (h *Hub) Watch(key string, subjects ...string) (*Watch, error) {
	var prefixes []string
	for _, s := range subjects {
		prefixes = append(prefixes, strings.TrimSuffix(s, ">"))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	w := &Watch{hub: h, key: key, c: make(chan struct{}, 1), prefixes: prefixes}
	set := h.watches[key]
	if set == nil {
		set = map[*Watch]struct{}{}
		h.watches[key] = set
	}
	set[w] = struct{}{}
	h.open.Inc()
	return w, nil
}

// Changed receives a value after the order changed, at most one pending
// at a time; it is closed when the hub closes.
func (w *Watch) Changed() <-chan struct{} { return w.c }

// Stop ends the watch. It may be called more than once.
func (w *Watch) Stop() {
	h := w.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if w.stopped {
		return
	}
	w.stopped = true
	h.open.Dec()
	set := h.watches[w.key]
	delete(set, w)
	if len(set) == 0 {
		delete(h.watches, w.key)
	}
}

// Notify tells every watch of key that it changed, without waiting for
// any of them.
func (h *Hub) Notify(key string) { h.notify(key, "") }

// notify tells the watches of key that want subject (every watch when
// subject is "") that it changed.
func (h *Hub) notify(key, subject string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notifyLocked(key, subject)
}

// notifyLocked is notify for a caller holding h.mu.
func (h *Hub) notifyLocked(key, subject string) {
	for w := range h.watches[key] {
		if subject != "" && !w.wants(subject) {
			continue
		}
		select {
		case w.c <- struct{}{}:
			h.signals.Inc()
		default: // a signal is pending already
		}
	}
}

// wants reports whether w is told of events of subject.
func (w *Watch) wants(subject string) bool {
	if w.prefixes == nil {
		return true
	}
	for _, p := range w.prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}

// Watching reports how many watches are open on key.
func (h *Hub) Watching(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.watches[key])
}

// orderRef is the part every order event's payload shares.
type orderRef struct {
	OrderID string `json:"orderId"`
}

// HandleOrderEvent is the bus handler of Subjects: it notifies the
// watches of the order the event names (orderId) that want its subject,
// unless HandleCommitted already did for this event. Events naming no
// order are ignored.
func (h *Hub) HandleOrderEvent(_ context.Context, e events.Event) error {
	var ref orderRef
	if err := e.Decode(&ref); err != nil {
		return err
	}
	h.observe("bus", e)
	if ref.OrderID == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, told := h.committed[e.ID]; told {
		delete(h.committed, e.ID)
		return nil
	}
	h.notifyLocked(ref.OrderID, e.Subject)
	return nil
}

// HandleCommitted is the events.Outbox.OnCommit handler of Subjects: it
// notifies the watches of the order an event committed on this instance
// names, at once, and remembers the event so that its copy from the bus
// notifies no one again. A payload naming no order is ignored.
func (h *Hub) HandleCommitted(e events.Event) {
	var ref orderRef
	if e.Decode(&ref) != nil || ref.OrderID == "" {
		return
	}
	h.observe("commit", e)
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.recent[h.next]; old != "" {
		delete(h.committed, old)
	}
	h.recent[h.next] = e.ID
	h.next = (h.next + 1) % recentCommits
	h.committed[e.ID] = struct{}{}
	h.notifyLocked(ref.OrderID, e.Subject)
}

// observe records how late e reached the hub, by way of via.
func (h *Hub) observe(via string, e events.Event) {
	if !e.OccurredAt.IsZero() {
		h.lag.WithLabelValues(via).Observe(max(0, time.Since(e.OccurredAt).Seconds()))
	}
}

// Close ends every watch (their Changed channels close) and refuses new
// ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for key, set := range h.watches {
		for w := range set {
			w.stopped = true
			close(w.c)
			h.open.Dec()
		}
		delete(h.watches, key)
	}
}
