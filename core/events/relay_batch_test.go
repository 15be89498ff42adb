package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// openNATSKind opens a fresh bus of the NATS kind k and returns it with
// its stream's name.
func openNATSKind(t *testing.T, k eventstest.Kind) (*events.NATSBus, string) {
	t.Helper()
	opt := *k.Options(t)
	stream := opt.Stream
	if stream == "" {
		stream = events.DefaultStream
	}
	return eventstest.OpenNATS(t, opt), stream
}

// limitMessageSize makes the stream refuse messages larger than n bytes,
// a refusal that only the server makes: the client sends such a message
// as any other, and the ones after it are already on their way.
func limitMessageSize(t testing.TB, bus *events.NATSBus, stream string, n int32) {
	t.Helper()
	js, err := jetstream.New(bus.Conn())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventstest.Timeout)
	defer cancel()
	cfg := streamInfo(t, bus, stream).Config
	cfg.MaxMsgSize = n
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

// bigEvent is an event larger than limitMessageSize(…, 1024) lets through,
// carrying marker so that a redaction can find it.
func bigEvent(t testing.TB, subject, marker string) events.Event {
	return mustEvent(t, subject, map[string]string{"marker": marker, "pad": strings.Repeat("x", 4096)})
}

func publishBatch(t testing.TB, bus *events.NATSBus, evs ...events.Event) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventstest.Timeout)
	defer cancel()
	return bus.PublishBatch(ctx, evs)
}

func TestNATSPublishBatchStoresNothingAfterARefusedEvent(t *testing.T) {
	t.Parallel()
	for _, k := range natsKinds() {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			bus, stream := openNATSKind(t, k)
			limitMessageSize(t, bus, stream, 1024)
			a := mustEvent(t, "kassa.order.placed", 1)
			big := bigEvent(t, "kassa.order.placed", "big")
			c, d := mustEvent(t, "kassa.order.placed", 3), mustEvent(t, "kassa.order.placed", 4)
			n, err := publishBatch(t, bus, a, big, c, d)
			if n != 1 || err == nil || errors.Is(err, events.ErrOutOfTurn) {
				t.Fatalf("PublishBatch = %d, %v; want 1 and the refusal of the large event", n, err)
			}
			// The events after the refused one were sent too, but the
			// stream stored none of them: none may overtake it.
			if got := streamInfo(t, bus, stream).State.Msgs; got != 1 {
				t.Fatalf("stream holds %d messages, want 1", got)
			}
			// Published again in order, they are stored once each.
			if n, err := publishBatch(t, bus, a, c, d); n != 3 || err != nil {
				t.Fatalf("PublishBatch again = %d, %v; want 3, nil", n, err)
			}
			if got := streamInfo(t, bus, stream).State.Msgs; got != 3 {
				t.Fatalf("stream holds %d messages, want 3", got)
			}
		})
	}
}

func TestNATSPublishBatchAfterADuplicateIsOutOfTurn(t *testing.T) {
	t.Parallel()
	for _, k := range natsKinds() {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			bus, stream := openNATSKind(t, k)
			a, x, b := mustEvent(t, "kassa.order.placed", 1), mustEvent(t, "kassa.order.paid", 2), mustEvent(t, "kassa.order.placed", 3)
			// a is in the stream, but is not its last message.
			publish(t, bus, a, x)
			n, err := publishBatch(t, bus, a, b)
			if n != 1 || !errors.Is(err, events.ErrOutOfTurn) {
				t.Fatalf("PublishBatch = %d, %v; want 1 and ErrOutOfTurn", n, err)
			}
			if n, err := publishBatch(t, bus, b); n != 1 || err != nil {
				t.Fatalf("PublishBatch of the rest = %d, %v; want 1, nil", n, err)
			}
			if got := streamInfo(t, bus, stream).State.Msgs; got != 3 {
				t.Fatalf("stream holds %d messages, want 3", got)
			}
		})
	}
}

// forEachStoreAndNATS runs fn on every database and, inside, every NATS
// bus kind.
func forEachStoreAndNATS(t *testing.T, fn func(t *testing.T, db *store.DB, bus *events.NATSBus, stream string)) {
	t.Helper()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		for _, k := range natsKinds() {
			t.Run(k.Name, func(t *testing.T) {
				bus, stream := openNATSKind(t, k)
				fn(t, db, bus, stream)
			})
		}
	})
}

func TestRelayFailureMidBatchLeavesTheRestForLaterInOrder(t *testing.T) {
	t.Parallel()
	forEachStoreAndNATS(t, func(t *testing.T, db *store.DB, bus *events.NATSBus, stream string) {
		ctx := context.Background()
		outbox := events.NewOutbox(db)
		// Publish what earlier subtests left on this database first.
		relay := newRelay(t, outbox, bus, events.RelayOptions{})
		flush(t, relay)
		rec := eventstest.Subscribe(t, bus, "kassa.>", events.WithDeliverNew())
		limitMessageSize(t, bus, stream, 1024)
		before := streamInfo(t, bus, stream).State.Msgs

		marker := "big_" + strings.ReplaceAll(t.Name(), "/", "_")
		a, b := mustEvent(t, "kassa.order.placed", 1), mustEvent(t, "kassa.order.paid", 2)
		big := bigEvent(t, "kassa.order.placed", marker)
		d, e := mustEvent(t, "kassa.order.paid", 4), mustEvent(t, "kassa.order.placed", 5)
		addInTx(t, db, outbox, a, b, big, d, e)

		if n, err := relay.Round(ctx); n != 2 || err == nil {
			t.Fatalf("Round = %d, %v; want 2 and the refusal", n, err)
		}
		want := map[string]outboxState{
			a.ID: {Sent: true}, b.ID: {Sent: true}, d.ID: {}, e.ID: {},
		}
		for id, w := range want {
			if s, _ := rowState(t, db, id); s != w {
				t.Errorf("row %s = %+v, want %+v", id, s, w)
			}
		}
		if s, _ := rowState(t, db, big.ID); s.Sent || s.Attempts != 1 || s.LastError == "" {
			t.Errorf("refused row = %+v, want unsent after 1 failed attempt", s)
		}
		if got := streamInfo(t, bus, stream).State.Msgs; got != before+2 {
			t.Fatalf("stream holds %d messages after the failed round", got)
		}

		// Made small enough (as a redaction would), the refused event goes
		// out, and the ones after it follow in order.
		small, _ := json.Marshal(map[string]string{"marker": marker})
		if _, err := outbox.Redact(ctx, events.Redaction{SubjectPrefix: "kassa.order.", Field: "marker", Value: marker, Payload: small}); err != nil {
			t.Fatal(err)
		}
		flush(t, relay)
		got := rec.WaitForIDs(t, a.ID, b.ID, big.ID, d.ID, e.ID)
		if diff := cmp.Diff([]string{a.ID, b.ID, big.ID, d.ID, e.ID}, eventstest.IDs(got)); diff != "" {
			t.Fatalf("delivered (-want +got):\n%s", diff)
		}
		for _, id := range []string{big.ID, d.ID, e.ID} {
			if s, _ := rowState(t, db, id); !s.Sent {
				t.Errorf("row %s not marked sent", id)
			}
		}
	})
}

func TestRelayPublishesOnAfterADuplicateWithoutFailing(t *testing.T) {
	t.Parallel()
	forEachStoreAndNATS(t, func(t *testing.T, db *store.DB, bus *events.NATSBus, stream string) {
		outbox := events.NewOutbox(db)
		relay := newRelay(t, outbox, bus, events.RelayOptions{})
		flush(t, relay)
		rec := eventstest.Subscribe(t, bus, "kassa.>", events.WithDeliverNew())

		a, b := mustEvent(t, "kassa.order.placed", 1), mustEvent(t, "kassa.order.paid", 2)
		addInTx(t, db, outbox, a, b)
		// A relay published a and lost its mark, then another event
		// reached the stream: a is a duplicate that is not the last.
		x := mustEvent(t, "kassa.order.cancelled", 3)
		publish(t, bus, a, x)

		flush(t, relay)
		got := rec.WaitForIDs(t, a.ID, x.ID, b.ID)
		if diff := cmp.Diff([]string{a.ID, x.ID, b.ID}, eventstest.IDs(got)); diff != "" {
			t.Fatalf("delivered (-want +got):\n%s", diff)
		}
		for _, id := range []string{a.ID, b.ID} {
			if s, _ := rowState(t, db, id); s != (outboxState{Sent: true}) {
				t.Errorf("row %s = %+v, want sent at the first attempt", id, s)
			}
		}
	})
}

func TestOutboxOnCommitTellsCommittedEventsOnly(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		outbox := events.NewOutbox(db)
		var told []string
		if err := outbox.OnCommit("kassa.order.>", func(e events.Event) { told = append(told, e.ID) }); err != nil {
			t.Fatal(err)
		}
		if err := outbox.OnCommit("order.>", func(events.Event) {}); err == nil {
			t.Fatal("OnCommit accepted a filter outside kassa.")
		}

		placed, stock := mustEvent(t, "kassa.order.placed", 1), mustEvent(t, "kassa.stock.adjusted", 2)
		paid := mustEvent(t, "kassa.order.paid", 3)
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			if err := outbox.AddAll(ctx, placed, stock, paid); err != nil {
				return err
			}
			if len(told) != 0 {
				t.Errorf("told %v before the commit", told)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{placed.ID, paid.ID}, told); diff != "" {
			t.Fatalf("told after the commit (-want +got):\n%s", diff)
		}

		told = nil
		boom := errors.New("declined")
		err = db.RunInTx(ctx, func(ctx context.Context) error {
			if err := outbox.Add(ctx, mustEvent(t, "kassa.order.cancelled", 4)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || len(told) != 0 {
			t.Fatalf("rolled back: RunInTx = %v, told %v; want the error and nothing told", err, told)
		}
	})
}
