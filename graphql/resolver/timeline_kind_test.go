package resolver

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/graphql/schema"
)

// enumValues are the values of the schema's enum name.
func enumValues(t *testing.T, name string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)\nenum ` + name + ` \{(.*?)\}`).FindStringSubmatch(schema.String())
	if m == nil {
		t.Fatalf("no enum %s in the schema", name)
	}
	var out []string
	for _, l := range strings.Split(m[1], "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, `"`) {
			out = append(out, l)
		}
	}
	return out
}

// TestTimelineKinds holds the TimelineKind enum to what the resolver
// answers for every timeline row core/order writes: a kind added to the
// code and not to the schema fails here (and would fail every timeline
// holding such a row).
func TestTimelineKinds(t *testing.T) {
	t.Parallel()
	kinds := enumValues(t, "TimelineKind")
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
		if !slices.Contains(kinds, got) {
			t.Errorf("TimelineEntry.kind can be %s (%s rows), but TimelineKind is %v", got, tc.machine, kinds)
		}
	}
}

// Timeline actors and viewers are named alike, from the ViewerKind enum
// (an API key's timeline entries said APIKEY, the viewer API_KEY).
func TestViewerKinds(t *testing.T) {
	t.Parallel()
	kinds := enumValues(t, "ViewerKind")
	for _, k := range []authz.SubjectKind{authz.KindAnonymous, authz.KindCustomer, authz.KindStaff, authz.KindAPIKey, authz.KindSystem} {
		v := (&timelineResolver{e: &order.TimelineEntry{ActorKind: string(k)}}).ActorKind()
		if !slices.Contains(kinds, v) {
			t.Errorf("a timeline entry of %s: actorKind %q, not one of %v", k, v, kinds)
		}
		if w := (&viewerResolver{s: authz.Subject{Kind: k}}).Kind(); w != v {
			t.Errorf("%s: viewer kind %q, actorKind %q", k, w, v)
		}
	}
}
