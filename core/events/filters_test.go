package events_test

import (
	"testing"

	"github.com/kassahq/kassa/core/events"
)

// TestCoveringFilter: the single filter an old NATS server gets for
// several matches everything each of them matches, as narrowly as one
// filter can.
func TestCoveringFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filters []string
		want    string
	}{
		{[]string{"kassa.order.paid"}, "kassa.order.paid"},
		{[]string{"kassa.payment.failed", "kassa.payment.pending"}, "kassa.payment.>"},
		{[]string{"kassa.payment.failed", "kassa.payment.pending", "kassa.order.paid"}, "kassa.>"},
		{[]string{"kassa.customer.registered", "kassa.product.>"}, "kassa.>"},
		{[]string{"kassa.a.b", "kassa.a.b.c"}, "kassa.a.>"},
		{[]string{"kassa.a.b.c", "kassa.a.b"}, "kassa.a.>"},
		{[]string{"kassa.a.>", "kassa.b.>"}, "kassa.>"},
		{[]string{"kassa.*.x", "kassa.*.y"}, "kassa.*.>"},
	}
	for _, tt := range tests {
		if got := events.CoveringFilter(tt.filters); got != tt.want {
			t.Errorf("CoveringFilter(%v) = %q, want %q", tt.filters, got, tt.want)
		}
	}
}
