package resolver

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/graphql/schema"
)

// TestTimelineKindsDocumented holds the description of TimelineEntry.kind
// to what the resolver answers for every timeline row core/order writes:
// a kind added to the code and not to the schema fails here (issue 9:
// REMINDER was missing).
func TestTimelineKindsDocumented(t *testing.T) {
	t.Parallel()
	m := regexp.MustCompile(`(?s)type TimelineEntry \{.*?"""(.*?)"""\s*kind: String!`).FindStringSubmatch(schema.String())
	if m == nil {
		t.Fatal("no description of TimelineEntry.kind in the schema")
	}
	words := map[string]bool{}
	for _, w := range regexp.MustCompile(`[A-Z][A-Z_]+`).FindAllString(m[1], -1) {
		words[w] = true
	}
	for _, tc := range []struct {
		machine, from, want string
	}{
		{order.MachineStatus, "", "PLACED"},
		{order.MachineStatus, string(order.Open), "STATUS"},
		{order.MachinePayment, string(order.PaymentPending), "PAYMENT_STATUS"},
		{order.MachineFulfillment, string(order.Unfulfilled), "FULFILLMENT_STATUS"},
		{order.MachineShipment, "", "SHIPMENT"},
		{order.MachineNote, "", "NOTE"},
		{order.MachineReminder, "", "REMINDER"},
		{order.MachineClaim, "", "CLAIM"},
	} {
		got := (&timelineResolver{e: &order.TimelineEntry{Machine: tc.machine, FromState: tc.from}}).Kind()
		if got != tc.want {
			t.Errorf("kind of a %s row from %q = %s, want %s", tc.machine, tc.from, got, tc.want)
		}
		if !words[got] {
			t.Errorf("TimelineEntry.kind can be %s (%s rows), but its description does not say so: %s", got, tc.machine, strings.Join(strings.Fields(m[1]), " "))
		}
	}
}
