package events_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestRedactSelectsExactly: Redact rewrites the events of the subject
// prefix whose payload holds the value in the field, sent or not, and
// nothing else: not the value under another field, not a longer id that
// starts with it, not another domain's event, and not on a LIKE wildcard
// (the "_" of ids).
func TestRedactSelectsExactly(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		outbox := events.NewOutbox(db)
		add := func(subject string, payload map[string]string) string {
			t.Helper()
			e, err := events.New(subject, payload)
			if err != nil {
				t.Fatal(err)
			}
			if err := outbox.Add(ctx, e); err != nil {
				t.Fatal(err)
			}
			return e.ID
		}
		hit := add("kassa.customer.registered", map[string]string{"customerId": "cus_1", "email": "a@example.com"})
		hit2 := add("kassa.customer.updated", map[string]string{"email": "a@example.com", "customerId": "cus_1"})
		otherField := add("kassa.customer.updated", map[string]string{"customerId": "cus_2", "referrerId": "cus_1"})
		longer := add("kassa.customer.updated", map[string]string{"customerId": "cus_10"})
		wildcard := add("kassa.customer.updated", map[string]string{"customerId": "cusX1"})
		otherDomain := add("kassa.order.placed", map[string]string{"customerId": "cus_1"})
		if _, err := db.NewUpdate().Table("outbox_events").Set("sent_at = CURRENT_TIMESTAMP").Where("id = ?", hit).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		n, err := outbox.Redact(ctx, events.Redaction{SubjectPrefix: "kassa.customer.", Field: "customerId", Value: "cus_1",
			Payload: json.RawMessage(`{"customerId":"cus_1","redacted":"erased"}`)})
		if err != nil || n != 2 {
			t.Fatalf("redacted %d, %v; want 2", n, err)
		}
		var rows []struct {
			ID      string `bun:"id"`
			Payload string `bun:"payload"`
		}
		if err := db.NewSelect().Table("outbox_events").Column("id", "payload").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range rows {
			got[r.ID] = r.Payload == `{"customerId":"cus_1","redacted":"erased"}`
		}
		want := map[string]bool{hit: true, hit2: true, otherField: false, longer: false, wildcard: false, otherDomain: false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("redacted rows (-want +got):\n%s", diff)
		}
		if _, err := outbox.Redact(ctx, events.Redaction{Field: "customerId", Value: "", Payload: json.RawMessage(`{}`)}); err == nil {
			t.Fatal("a redaction without a value was accepted")
		}
	})
}
