package events

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// MemoryBus is an in-process Bus for unit tests of other packages. It
// keeps every event it was given, so a durable consumer that subscribes
// late still receives earlier events; it drops an event whose id it has
// already seen (like JetStream's duplicate window, but forever); durable
// handlers receive each event once and failing ones again after their
// backoff, up to the maximum number of deliveries. Nothing survives the
// process.
type MemoryBus struct {
	log *slog.Logger

	mu        sync.Mutex
	closed    bool
	events    []Event
	seen      map[string]bool
	durables  map[string]*memDurable
	subs      map[Subscription]struct{}
	listeners map[*memListener]struct{}
}

var _ Bus = (*MemoryBus)(nil)

// NewMemoryBus returns an empty in-memory bus. A nil logger means
// slog.Default().
func NewMemoryBus(logger *slog.Logger) *MemoryBus {
	return &MemoryBus{
		log:       componentLogger(logger).With(attrBus, "memory"),
		seen:      map[string]bool{},
		durables:  map[string]*memDurable{},
		subs:      map[Subscription]struct{}{},
		listeners: map[*memListener]struct{}{},
	}
}

// Publish implements Publisher.
func (b *MemoryBus) Publish(ctx context.Context, e Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.seen[e.ID] {
		return nil
	}
	b.seen[e.ID] = true
	b.events = append(b.events, e)
	for _, d := range b.durables {
		d.signal()
	}
	for l := range b.listeners {
		if !subjectMatches(l.filter, e.Subject) {
			continue
		}
		select {
		case l.ch <- e:
		default:
			b.log.Warn("listener is not keeping up; event dropped", attrEventID, e.ID, attrSubject, e.Subject)
		}
	}
	return nil
}

// Ready reports whether the bus is open, like NATSBus.Ready.
func (b *MemoryBus) Ready(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	return nil
}

// Published returns every event the bus stored, in publish order.
func (b *MemoryBus) Published() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}

// Subscribe implements Bus.
func (b *MemoryBus) Subscribe(ctx context.Context, durable, filter string, h Handler, opts ...SubscribeOption) (Subscription, error) {
	if err := validateDurable(durable); err != nil {
		return nil, err
	}
	cfg := newSubscribeConfig(opts)
	filters, err := cfg.filters(filter)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	d := b.durables[durable]
	if d == nil {
		d = &memDurable{name: durable, wake: make(chan struct{}, 1)}
		if cfg.deliverNew {
			d.next = len(b.events)
		}
		b.durables[durable] = d
	}
	d.filters = filters
	s := &memSub{bus: b, d: d, h: h, cfg: cfg, ctx: context.WithoutCancel(ctx), done: make(chan struct{}), exited: make(chan struct{})}
	b.subs[s] = struct{}{}
	d.signal()
	go s.run()
	return s, nil
}

// Listen implements Bus.
func (b *MemoryBus) Listen(ctx context.Context, filter string, h Handler) (Subscription, error) {
	if err := ValidateFilter(filter); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	l := &memListener{bus: b, filter: filter, ch: make(chan Event, 1024), done: make(chan struct{}), exited: make(chan struct{})}
	b.listeners[l] = struct{}{}
	b.subs[l] = struct{}{}
	go l.run(context.WithoutCancel(ctx), h)
	return l, nil
}

// Close implements Bus.
func (b *MemoryBus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := make([]Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		_ = s.Stop()
	}
	return nil
}

// memDurable is the shared state of a durable consumer: a cursor into the
// bus's event log and the failed deliveries waiting for their retry.
// Guarded by the bus mutex.
type memDurable struct {
	name    string
	filters []string
	next    int
	retry   []memRetry
	wake    chan struct{}
}

type memRetry struct {
	idx      int
	attempts int // deliveries so far
	due      time.Time
}

func (d *memDurable) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// take returns the next delivery due, or how long to wait for one (0
// meaning until signalled). Caller holds the bus mutex.
func (d *memDurable) take(events []Event, now time.Time) (idx, attempts int, wait time.Duration, ok bool) {
	var earliest time.Time
	for i, r := range d.retry {
		if !r.due.After(now) {
			d.retry = append(d.retry[:i], d.retry[i+1:]...)
			return r.idx, r.attempts, 0, true
		}
		if earliest.IsZero() || r.due.Before(earliest) {
			earliest = r.due
		}
	}
	for d.next < len(events) {
		i := d.next
		d.next++
		if matchesAny(d.filters, events[i].Subject) {
			return i, 0, 0, true
		}
	}
	if !earliest.IsZero() {
		return 0, 0, earliest.Sub(now), false
	}
	return 0, 0, 0, false
}

type memSub struct {
	bus    *MemoryBus
	d      *memDurable
	h      Handler
	cfg    subscribeConfig
	ctx    context.Context
	once   sync.Once
	done   chan struct{}
	exited chan struct{}
}

func (s *memSub) run() {
	defer close(s.exited)
	log := s.bus.log.With(attrDurable, s.d.name)
	for {
		select {
		case <-s.done:
			return
		default:
		}
		s.bus.mu.Lock()
		idx, attempts, wait, ok := s.d.take(s.bus.events, time.Now())
		var e Event
		if ok {
			e = s.bus.events[idx]
			// More may be waiting: let a sibling subscription pick it up.
			s.d.signal()
		}
		s.bus.mu.Unlock()
		if !ok {
			var (
				timer *time.Timer
				due   <-chan time.Time
			)
			if wait > 0 {
				timer = time.NewTimer(wait)
				due = timer.C
			}
			select {
			case <-s.done:
			case <-s.d.wake:
			case <-due:
			}
			if timer != nil {
				timer.Stop()
			}
			continue
		}
		attempts++
		ctx, cancel := context.WithTimeout(withDelivery(s.ctx, attempts), s.cfg.ackWait)
		err := callHandler(ctx, s.h, e)
		cancel()
		if err == nil {
			continue
		}
		l := log.With(attrEventID, e.ID, attrSubject, e.Subject, attrDelivery, attempts, attrError, err.Error())
		switch {
		case IsPermanent(err):
			l.Error("event handler failed permanently; event dropped")
		case attempts >= s.cfg.maxDeliver:
			l.Error("event handler failed on the last delivery; event dropped")
		default:
			l.Warn("event handler failed; will redeliver")
			s.bus.mu.Lock()
			s.d.retry = append(s.d.retry, memRetry{idx: idx, attempts: attempts, due: time.Now().Add(s.cfg.delay(attempts))})
			s.d.signal()
			s.bus.mu.Unlock()
		}
	}
}

// Stop implements Subscription.
func (s *memSub) Stop() error {
	s.once.Do(func() {
		close(s.done)
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		s.bus.mu.Unlock()
	})
	<-s.exited
	return nil
}

type memListener struct {
	bus    *MemoryBus
	filter string
	ch     chan Event
	once   sync.Once
	done   chan struct{}
	exited chan struct{}
}

func (l *memListener) run(ctx context.Context, h Handler) {
	defer close(l.exited)
	for {
		select {
		case <-l.done:
			return
		case e := <-l.ch:
			if err := callHandler(ctx, h, e); err != nil {
				l.bus.log.Warn("event listener failed", attrEventID, e.ID, attrSubject, e.Subject, attrError, err.Error())
			}
		}
	}
}

// Stop implements Subscription.
func (l *memListener) Stop() error {
	l.once.Do(func() {
		l.bus.mu.Lock()
		delete(l.bus.listeners, l)
		delete(l.bus.subs, l)
		l.bus.mu.Unlock()
		close(l.done)
	})
	<-l.exited
	return nil
}
