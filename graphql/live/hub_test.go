package live_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kassahq/kassa/core/events"
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
