package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/casbin/casbin/v2/persist"

	"github.com/kassahq/kassa/core/kit/id"
)

// PolicyChangedSubject is the bus subject of policy change notices.
const PolicyChangedSubject = "kassa.authz.policy_changed"

// Broadcaster delivers short notices to every running instance: core/events'
// bus with a non-durable subscription (each instance gets every notice), or
// an in-memory fan-out in tests.
type Broadcaster interface {
	// Broadcast sends data on subject to every listener.
	Broadcast(ctx context.Context, subject string, data []byte) error
	// Listen calls fn for each notice on subject until stop is called.
	Listen(subject string, fn func(data []byte)) (stop func(), err error)
}

// Watcher is the Casbin watcher of a Kassa cluster: when one instance
// changes the policy it broadcasts a notice, and every other instance
// reloads the policy from the database.
type Watcher struct {
	b        Broadcaster
	instance string
	log      *slog.Logger

	mu       sync.Mutex
	callback func(string)
	stop     func()
}

var _ persist.Watcher = (*Watcher)(nil)

type policyNotice struct {
	Instance string    `json:"instance"`
	At       time.Time `json:"at"`
}

// NewWatcher starts listening for policy change notices on b.
func NewWatcher(b Broadcaster, log *slog.Logger) (*Watcher, error) {
	if log == nil {
		log = slog.Default()
	}
	w := &Watcher{b: b, instance: id.New("inst"), log: log.With("component", "authz")}
	stop, err := b.Listen(PolicyChangedSubject, w.receive)
	if err != nil {
		return nil, fmt.Errorf("listen for policy changes: %w", err)
	}
	w.stop = stop
	return w, nil
}

func (w *Watcher) receive(data []byte) {
	var n policyNotice
	if err := json.Unmarshal(data, &n); err != nil {
		w.log.Warn("ignoring malformed policy notice", "err", err)
		return
	}
	if n.Instance == w.instance {
		return // our own change, already loaded
	}
	w.mu.Lock()
	cb := w.callback
	w.mu.Unlock()
	if cb != nil {
		cb(n.Instance)
	}
}

// SetUpdateCallback sets what runs when another instance changed the
// policy (the enforcer reloads).
func (w *Watcher) SetUpdateCallback(fn func(string)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.callback = fn
	return nil
}

// Update tells the other instances that the policy changed.
func (w *Watcher) Update() error {
	data, err := json.Marshal(policyNotice{Instance: w.instance, At: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("encode policy notice: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.b.Broadcast(ctx, PolicyChangedSubject, data); err != nil {
		return fmt.Errorf("broadcast policy change: %w", err)
	}
	return nil
}

// Close stops listening.
func (w *Watcher) Close() {
	w.mu.Lock()
	stop := w.stop
	w.stop = nil
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// LocalBroadcaster is an in-process Broadcaster: every listener of a
// subject receives every notice, synchronously. Tests use it to run
// several enforcers as if they were several instances.
type LocalBroadcaster struct {
	mu        sync.Mutex
	next      int
	listeners map[string]map[int]func([]byte)
}

// NewLocalBroadcaster returns an empty LocalBroadcaster.
func NewLocalBroadcaster() *LocalBroadcaster {
	return &LocalBroadcaster{listeners: map[string]map[int]func([]byte){}}
}

// Broadcast calls every listener of subject.
func (l *LocalBroadcaster) Broadcast(_ context.Context, subject string, data []byte) error {
	l.mu.Lock()
	fns := make([]func([]byte), 0, len(l.listeners[subject]))
	for _, fn := range l.listeners[subject] {
		fns = append(fns, fn)
	}
	l.mu.Unlock()
	for _, fn := range fns {
		fn(data)
	}
	return nil
}

// Listen registers fn for subject.
func (l *LocalBroadcaster) Listen(subject string, fn func([]byte)) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.listeners[subject] == nil {
		l.listeners[subject] = map[int]func([]byte){}
	}
	l.next++
	n := l.next
	l.listeners[subject][n] = fn
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.listeners[subject], n)
	}, nil
}
