package payment_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestResolveFlag: staff resolve a flagged event once; it leaves the list
// waiting for them and keeps who, when and why. Other roles, events
// without a flag, a second resolution (also two at once) and an
// overlong note are refused and change nothing.
func TestResolveFlag(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		gw.create = payment.StatusAuthorized
		f := newFixture(t, db, gw)
		// Capturing a third of an authorization flags UNDERPAID.
		underpaid := func() *payment.EventRecord {
			t.Helper()
			o := f.place(t, 2) // 30.00
			a, err := f.svc.Create(staff("finance"), payment.CreateInput{OrderID: o.id, GatewayID: fakeID, ManualCapture: true})
			if err != nil {
				t.Fatal(err)
			}
			part := cny(1000)
			if _, err := f.svc.Capture(staff("finance"), payment.CaptureInput{AttemptID: a.ID, Amount: &part, IdempotencyKey: "c-" + a.ID}); err != nil {
				t.Fatal(err)
			}
			for _, e := range f.flagged(t, true) {
				if e.AttemptID != nil && *e.AttemptID == a.ID {
					return e
				}
			}
			t.Fatal("no flag for the partial capture")
			return nil
		}
		first, second := underpaid(), underpaid()
		if open := f.flagged(t, false); len(open) != 2 || open[0].ID != second.ID || open[1].ID != first.ID {
			t.Fatalf("open flags, newest first: %+v", open)
		}

		for _, c := range []struct {
			name, role, id, note, code string
		}{
			{"a role that only reads payments", "support", first.ID, "", "FORBIDDEN"},
			{"an unknown event", "finance", "gev_nope", "", payment.CodeEventNotFound},
			{"a note too long", "finance", first.ID, strings.Repeat("很", payment.MaxResolutionNote+1), payment.CodeTooLong},
		} {
			if _, err := f.svc.ResolveFlag(staff(c.role), payment.ResolveFlagInput{EventID: c.id, Note: c.note}); codeOf(err) != c.code {
				t.Fatalf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if open := f.flagged(t, false); len(open) != 2 {
			t.Fatalf("refused resolutions changed the open flags: %d", len(open))
		}

		e, err := f.svc.ResolveFlag(staff("finance"), payment.ResolveFlagInput{EventID: first.ID, Note: "  The buyer pays the rest by transfer.\n"})
		if err != nil {
			t.Fatal(err)
		}
		if e.ResolvedAt == nil || e.ResolvedBy != "stf_finance" || e.ResolutionNote != "The buyer pays the rest by transfer." || e.FlagReason != payment.FlagUnderpaid {
			t.Fatalf("resolved event %+v", e)
		}
		if open := f.flagged(t, false); len(open) != 1 || open[0].ID != second.ID {
			t.Fatalf("open flags after resolving one: %+v", open)
		}
		if all := f.flagged(t, true); len(all) != 2 || all[1].ResolvedAt == nil {
			t.Fatalf("every flag: %+v", all)
		}
		if _, err := f.svc.ResolveFlag(staff("finance"), payment.ResolveFlagInput{EventID: first.ID, Note: "again"}); codeOf(err) != payment.CodeFlagAlreadyResolved {
			t.Fatalf("resolving twice: %v", err)
		}

		// Two staff at once: one resolution is recorded, the other refused.
		var wg sync.WaitGroup
		codes := make([]string, 2)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.ResolveFlag(staff("finance"), payment.ResolveFlagInput{EventID: second.ID, Note: []string{"one", "two"}[i]})
				codes[i] = codeOf(err)
			}()
		}
		wg.Wait()
		if !(codes[0] == "" && codes[1] == payment.CodeFlagAlreadyResolved) && !(codes[1] == "" && codes[0] == payment.CodeFlagAlreadyResolved) {
			t.Fatalf("two resolutions at once: %q", codes)
		}
		if open := f.flagged(t, false); len(open) != 0 {
			t.Fatalf("open flags after resolving both: %+v", open)
		}

		// An event with no flag: the capture's own.
		var plain string
		if err := db.NewRaw("SELECT id FROM payment_gateway_events WHERE flag_reason = '' LIMIT 1").Scan(system(), &plain); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResolveFlag(staff("finance"), payment.ResolveFlagInput{EventID: plain}); codeOf(err) != payment.CodeEventNotFlagged {
			t.Fatalf("resolving an event without a flag: %v", err)
		}
	})
}

// flagged lists the flagged events as staff read them: open ones, or
// with the resolved.
func (f *fixture) flagged(t *testing.T, resolved bool) []*payment.EventRecord {
	t.Helper()
	evs, err := f.svc.Flagged(staff("finance"), 100, resolved)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
