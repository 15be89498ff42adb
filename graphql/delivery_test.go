package graphql_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/testkit"
)

const (
	deadLettersDoc = `{ eventDeliveries(status: DEAD, first: 10) { nodes { consumer eventId subject status attempts lastError replayedBy } pageInfo { hasNextPage } } }`
	replayDoc      = `mutation($input: EventDeliveryReplayInput!) { eventDeliveryReplay(input: $input) { delivery { status attempts lastError replayedBy } userErrors { code } } }`
)

// TestDeadLettersThroughGraphQL: a consumer that gave up leaves a dead
// letter staff with plugin permissions see and replay; others are
// refused, and a replay that fails again says so and keeps the letter.
func TestDeadLettersThroughGraphQL(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := &cartShop{ta: ta}
		var fail atomic.Bool
		fail.Store(true)
		var calls atomic.Int64
		h := ta.Deliveries.Wrap("test-consumer", func(context.Context, events.Event) error {
			calls.Add(1)
			if fail.Load() {
				return errors.New("channel refused the message")
			}
			return nil
		}, 1)
		ev := events.MustNew("kassa.order.placed", map[string]string{"email": "buyer@example.com"})
		ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		if err := h(ctx, ev); !events.IsPermanent(err) {
			t.Fatalf("a consumer giving up on its only try: %v", err)
		}

		r := must(t, s.do(t, ordOwner, deadLettersDoc, nil))
		nodes, _ := testkit.Dig(r.Data, "eventDeliveries", "nodes").([]any)
		if len(nodes) != 1 || testkit.Dig(nodes[0], "eventId") != ev.ID || testkit.Dig(nodes[0], "consumer") != "test-consumer" ||
			testkit.Dig(nodes[0], "subject") != "kassa.order.placed" || testkit.Dig(nodes[0], "lastError") != "channel refused the message" ||
			testkit.Dig(nodes[0], "attempts") != float64(1) {
			t.Fatalf("dead letters = %v", nodes)
		}

		// Only plugin read sees the journal, only plugin write replays.
		support := authz.Subject{Kind: authz.KindStaff, ID: "stf_support", Roles: []string{authz.RoleSupport}}
		manager := authz.Subject{Kind: authz.KindStaff, ID: "stf_manager", Roles: []string{authz.RoleManager}}
		input := in("consumer", "test-consumer", "eventId", ev.ID)
		for _, c := range []struct {
			name  string
			sub   authz.Subject
			doc   string
			vars  map[string]any
			wantC string
		}{
			{"support lists", support, deadLettersDoc, nil, "FORBIDDEN"},
			{"a buyer lists", ordAlice, deadLettersDoc, nil, "FORBIDDEN"},
			{"a guest lists", authz.AnonymousSubject(), deadLettersDoc, nil, "UNAUTHENTICATED"},
			{"a manager (plugin read) replays", manager, replayDoc, input, "FORBIDDEN"},
			{"a buyer replays", ordAlice, replayDoc, input, "FORBIDDEN"},
			{"unknown event", ordOwner, replayDoc, in("consumer", "test-consumer", "eventId", "evt_nope"), "DELIVERY_NOT_FOUND"},
			{"unknown consumer", ordOwner, replayDoc, in("consumer", "no-such-consumer", "eventId", ev.ID), "CONSUMER_UNKNOWN"},
			{"control characters", ordOwner, replayDoc, in("consumer", "test\u0000consumer", "eventId", ev.ID), "INVALID_CHARACTERS"},
			{"bad status", ordOwner, `{ eventDeliveries(status: LOST) { nodes { eventId } } }`, nil, ""},
			{"huge page", ordOwner, `{ eventDeliveries(first: 100000) { nodes { eventId } } }`, nil, "INVALID_PAGE_SIZE"},
		} {
			got := s.do(t, c.sub, c.doc, c.vars)
			if c.wantC == "" {
				if len(got.Errors) == 0 {
					t.Errorf("%s: no error", c.name)
				}
				continue
			}
			if !slices.Contains(got.codes(), c.wantC) {
				t.Errorf("%s: codes %v, want %s", c.name, got.codes(), c.wantC)
			}
		}
		if calls.Load() != 1 {
			t.Fatalf("refused replays reached the consumer: %d calls", calls.Load())
		}

		// The cause persists: the replay fails, the letter stays.
		r = s.do(t, ordOwner, replayDoc, input)
		if !slices.Contains(r.codes(), "REPLAY_FAILED") || testkit.Dig(r.Data, "eventDeliveryReplay", "delivery", "status") != "DEAD" {
			t.Fatalf("failing replay = %+v", r)
		}
		// Fixed: delivered, once.
		fail.Store(false)
		r = must(t, s.do(t, ordOwner, replayDoc, input))
		if d := testkit.Dig(r.Data, "eventDeliveryReplay", "delivery"); testkit.Dig(d, "status") != "DELIVERED" ||
			testkit.Dig(d, "attempts") != float64(3) || testkit.Dig(d, "replayedBy") != "stf_owner" || testkit.Dig(d, "lastError") != nil {
			t.Fatalf("replay = %v", d)
		}
		r = s.do(t, ordOwner, replayDoc, input)
		if !slices.Contains(r.codes(), "DELIVERY_NOT_DEAD") || calls.Load() != 3 {
			t.Fatalf("second replay: %v, %d calls", r.codes(), calls.Load())
		}
		r = must(t, s.do(t, ordOwner, deadLettersDoc, nil))
		if nodes, _ := testkit.Dig(r.Data, "eventDeliveries", "nodes").([]any); len(nodes) != 0 {
			t.Fatalf("dead letters after the replay: %v", nodes)
		}
	})
}
