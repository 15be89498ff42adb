package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

// ErrClosed is returned by a Bus that has been closed.
var ErrClosed = errors.New("events: bus closed")

// Handler processes one event. Returning nil acknowledges it; returning an
// error asks for redelivery later (unless the error is Permanent). A
// handler must be idempotent: delivery is at least once, deduplicated by
// event id only within the bus's duplicate window.
type Handler func(ctx context.Context, e Event) error

// Publisher sends events. The outbox relay is its main user; domain code
// adds events to the Outbox instead of publishing directly, so an event
// leaves only when its transaction committed.
type Publisher interface {
	// Publish stores e in the event stream and returns once the stream
	// acknowledged it. Publishing an event id that was published within
	// the duplicate window is a no-op that succeeds.
	Publish(ctx context.Context, e Event) error
}

// batchPublisher is a Publisher that can have several events in flight
// at once; the relay uses it when its bus is one (NATSBus).
type batchPublisher interface {
	// PublishBatch publishes evs in order and returns how many leading
	// events the stream acknowledged, with the reason the next one was
	// not (nil when all were). No event is stored ahead of one before it
	// in evs that was not acknowledged. errOutOfTurn means the next one
	// was refused only because its predecessor was a duplicate: publish
	// the rest again.
	PublishBatch(ctx context.Context, evs []Event) (int, error)
}

// errOutOfTurn: see batchPublisher.
var errOutOfTurn = errors.New("refused after a duplicate: publish again")

// Bus is the event bus port: durable, at-least-once consumers backed by a
// stream (JetStream in production, memory in unit tests), and ephemeral
// listeners for broadcasts every instance must see.
type Bus interface {
	Publisher
	// Subscribe starts a durable consumer named durable that receives every
	// event matching filter (see ValidateFilter), or one of the filters
	// WithFilters adds, including events published while it was not
	// running. Restarting a consumer with other filters changes what it
	// receives from where it stands in the stream. Each event goes to one of the
	// subscriptions sharing the durable name (across instances too), one
	// at a time per subscription, in stream order; a failing event is
	// redelivered with backoff up to the maximum number of deliveries.
	// ctx bounds the setup only; its values (such as the system subject
	// background work runs as) reach every handler call, whose context
	// also carries the ack-wait deadline.
	Subscribe(ctx context.Context, durable, filter string, h Handler, opts ...SubscribeOption) (Subscription, error)
	// Listen delivers events matching filter to h on this instance only
	// while the listener runs, at most once, with no redelivery: each
	// instance that listens receives its own copy. Use it for cache
	// invalidation and live updates, never for work that must happen.
	// As with Subscribe, ctx's values reach the handler.
	Listen(ctx context.Context, filter string, h Handler) (Subscription, error)
	// Close stops every subscription, waiting for running handlers, and
	// releases the connection.
	Close() error
}

// Subscription is a running consumer or listener.
type Subscription interface {
	// Stop ends delivery and waits for a running handler to return. Events
	// not yet acknowledged are redelivered to the remaining subscribers of
	// a durable consumer later. Do not call Stop from the subscription's
	// own handler: it would wait for itself.
	Stop() error
}

// Default consumer settings; see the SubscribeOption functions.
const (
	DefaultMaxDeliver = 10
	DefaultAckWait    = 30 * time.Second
)

// DefaultBackoff is the wait before each redelivery of a failed event; the
// last step repeats.
var DefaultBackoff = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}

type subscribeConfig struct {
	more       []string
	maxDeliver int
	backoff    []time.Duration
	ackWait    time.Duration
	deliverNew bool
}

func newSubscribeConfig(opts []SubscribeOption) subscribeConfig {
	c := subscribeConfig{maxDeliver: DefaultMaxDeliver, backoff: DefaultBackoff, ackWait: DefaultAckWait}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// delay returns the wait before redelivering an event that failed on its
// n-th delivery (n >= 1).
func (c subscribeConfig) delay(n int) time.Duration {
	if len(c.backoff) == 0 {
		return 0
	}
	if n < 1 {
		n = 1
	}
	if n > len(c.backoff) {
		n = len(c.backoff)
	}
	return c.backoff[n-1]
}

// SubscribeOption tunes a durable consumer.
type SubscribeOption func(*subscribeConfig)

// WithMaxDeliver caps how many times an event is delivered to a consumer
// before it is given up on and logged (default DefaultMaxDeliver).
func WithMaxDeliver(n int) SubscribeOption {
	return func(c *subscribeConfig) {
		if n > 0 {
			c.maxDeliver = n
		}
	}
}

// WithBackoff sets the waits before successive redeliveries of a failed
// event; the last one repeats (default DefaultBackoff).
func WithBackoff(steps ...time.Duration) SubscribeOption {
	return func(c *subscribeConfig) {
		if len(steps) > 0 {
			c.backoff = append([]time.Duration(nil), steps...)
		}
	}
}

// WithAckWait sets how long a handler may run before the event is
// considered lost and delivered again (default DefaultAckWait). The
// handler's context carries this deadline.
func WithAckWait(d time.Duration) SubscribeOption {
	return func(c *subscribeConfig) {
		if d > 0 {
			c.ackWait = d
		}
	}
}

// WithDeliverNew makes a consumer that is created for the first time start
// with events published from now on instead of every event the stream
// still holds. It has no effect on a consumer that already exists.
func WithDeliverNew() SubscribeOption {
	return func(c *subscribeConfig) { c.deliverNew = true }
}

// WithFilters makes the consumer receive the events matching any of
// filters as well as its filter: one consumer (one delivery and one
// acknowledgement per event) for several subjects, rather than one
// consumer each or a wider filter whose extra events the handler drops.
// No two of the filters may overlap (match a common subject), as
// JetStream requires.
func WithFilters(filters ...string) SubscribeOption {
	return func(c *subscribeConfig) { c.more = append(c.more, filters...) }
}

// filters are the consumer's filters: filter and those WithFilters adds,
// each valid and none overlapping another.
func (c subscribeConfig) filters(filter string) ([]string, error) {
	fs := append([]string{filter}, c.more...)
	for i, f := range fs {
		if err := ValidateFilter(f); err != nil {
			return nil, err
		}
		for _, g := range fs[:i] {
			if filtersOverlap(f, g) {
				return nil, fmt.Errorf("%w: filters %q and %q overlap", ErrInvalidEvent, g, f)
			}
		}
	}
	return fs, nil
}

var durableName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func validateDurable(name string) error {
	if !durableName.MatchString(name) {
		return fmt.Errorf("events: durable name %q: use 1-64 letters, digits, '-' or '_'", name)
	}
	return nil
}

// Log attribute keys.
const (
	attrComponent = "component"
	attrEventID   = "event_id"
	attrSubject   = "subject"
	attrDurable   = "durable"
	attrDelivery  = "delivery"
	attrError     = "error"
	attrCount     = "count"
	attrBus       = "bus"
	attrURL       = "url"
	attrStream    = "stream"
	attrStore     = "store"
	attrListen    = "listen"
	attrAttempt   = "attempt"
	attrListener  = "listener"
	attrPart      = "part"
)

func componentLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	return l.With(attrComponent, "events")
}

type deliveryKey struct{}

// withDelivery records in ctx that the handler runs the n-th delivery of
// its event to a durable consumer.
func withDelivery(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, deliveryKey{}, n)
}

// Delivery returns which delivery of its event to a durable consumer the
// handler called with ctx runs: 1 the first time, more when the event is
// delivered again after a failure or a lost acknowledgement. It is 0
// outside a durable consumer's handler (a listener, a replay, a direct
// call).
func Delivery(ctx context.Context) int {
	n, _ := ctx.Value(deliveryKey{}).(int)
	return n
}

// callHandler runs h, turning a panic into an error so one bad event
// cannot take the process down.
func callHandler(ctx context.Context, h Handler, e Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, e)
}
