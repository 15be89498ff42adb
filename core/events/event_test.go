package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/id"
)

func TestNew(t *testing.T) {
	t.Parallel()
	type placed struct {
		OrderID string `json:"orderId"`
		Total   int64  `json:"total"`
	}
	tests := []struct {
		name    string
		subject string
		payload any
		want    string // payload JSON, "" when an error is expected
	}{
		{"struct payload", "kassa.order.placed", placed{"ord_1", 1999}, `{"orderId":"ord_1","total":1999}`},
		{"raw payload", "kassa.payment.failed", json.RawMessage(`{"a":1}`), `{"a":1}`},
		{"nil payload", "kassa.customer.registered", nil, `null`},
		{"longer subject", "kassa.order.fulfillment.shipped", map[string]int{"n": 1}, `{"n":1}`},
		{"underscore and digits", "kassa.refund_v2.succeeded", 1, `1`},
		{"two tokens", "kassa.order", 1, ""},
		{"wrong root", "shop.order.placed", 1, ""},
		{"upper case", "kassa.Order.placed", 1, ""},
		{"empty token", "kassa..placed", 1, ""},
		{"wildcard", "kassa.order.*", 1, ""},
		{"token starting with a digit", "kassa.order.1placed", 1, ""},
		{"hyphen", "kassa.order.was-placed", 1, ""},
		{"unencodable payload", "kassa.order.placed", func() {}, ""},
		{"invalid raw JSON", "kassa.order.placed", json.RawMessage(`{`), ""},
		{"payload too large", "kassa.order.placed", strings.Repeat("x", events.MaxPayloadBytes), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := events.New(tt.subject, tt.payload)
			if tt.want == "" {
				if !errors.Is(err, events.ErrInvalidEvent) {
					t.Fatalf("New(%q) error = %v, want ErrInvalidEvent", tt.subject, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tt.subject, err)
			}
			if !id.Valid(e.ID, "evt") {
				t.Errorf("ID %q is not an evt_ id", e.ID)
			}
			if e.Subject != tt.subject || string(e.Payload) != tt.want {
				t.Errorf("got subject %q payload %s, want %q %s", e.Subject, e.Payload, tt.subject, tt.want)
			}
			if e.OccurredAt.IsZero() || e.OccurredAt.Location().String() != "UTC" {
				t.Errorf("OccurredAt = %v, want a UTC time", e.OccurredAt)
			}
		})
	}
}

func TestEventValidate(t *testing.T) {
	t.Parallel()
	valid := events.MustNew("kassa.order.placed", map[string]string{"orderId": "ord_1"})
	tests := []struct {
		name   string
		change func(e *events.Event)
		ok     bool
	}{
		{"valid", func(*events.Event) {}, true},
		{"actor and headers", func(e *events.Event) {
			e.Actor = "usr_1"
			e.Headers = map[string]string{"Request-Id": "req_1", "trace_id": "abc"}
		}, true},
		{"missing id", func(e *events.Event) { e.ID = "" }, false},
		{"foreign id", func(e *events.Event) { e.ID = "ord_01JD4S3Y8W3M9Q6T0G2V5XK7PZ" }, false},
		{"missing time", func(e *events.Event) { e.OccurredAt = time.Time{} }, false},
		{"reserved nats header", func(e *events.Event) { e.Headers = map[string]string{"Nats-Msg-Id": "x"} }, false},
		{"reserved kassa header", func(e *events.Event) { e.Headers = map[string]string{"kassa-actor": "x"} }, false},
		{"header with space", func(e *events.Event) { e.Headers = map[string]string{"Request Id": "x"} }, false},
		{"header value with newline", func(e *events.Event) { e.Headers = map[string]string{"Request-Id": "a\nb"} }, false},
		{"actor with newline", func(e *events.Event) { e.Actor = "usr\r\n" }, false},
		{"payload not JSON", func(e *events.Event) { e.Payload = []byte("nope") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := valid
			tt.change(&e)
			err := e.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, events.ErrInvalidEvent) {
				t.Fatalf("Validate() = %v, does not wrap ErrInvalidEvent", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	e := events.MustNew("kassa.order.placed", map[string]any{"orderId": "ord_1"})
	var got struct{ OrderID string }
	if err := e.Decode(&got); err != nil || got.OrderID != "ord_1" {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	if err := e.Decode(new(int)); err == nil {
		t.Fatal("Decode into the wrong type succeeded")
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter  string
		valid   bool
		subject string
		match   bool
	}{
		{"kassa.>", true, "kassa.order.placed", true},
		{"kassa.order.>", true, "kassa.order.placed", true},
		{"kassa.order.>", true, "kassa.payment.failed", false},
		{"kassa.order.*", true, "kassa.order.placed", true},
		{"kassa.order.*", true, "kassa.order.fulfillment.shipped", false},
		{"kassa.*.placed", true, "kassa.order.placed", true},
		{"kassa.*.placed", true, "kassa.order.paid", false},
		{"kassa.order.placed", true, "kassa.order.placed", true},
		{"kassa.order.placed", true, "kassa.order.placed_again", false},
		{"kassa.order.placed.>", true, "kassa.order.placed", false},
		{"kassa", false, "", false},
		{">", false, "", false},
		{"kassa.>.placed", false, "", false},
		{"kassa.order.", false, "", false},
		{"other.>", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.filter+"|"+tt.subject, func(t *testing.T) {
			t.Parallel()
			err := events.ValidateFilter(tt.filter)
			if tt.valid != (err == nil) {
				t.Fatalf("ValidateFilter(%q) = %v, want valid=%v", tt.filter, err, tt.valid)
			}
			if tt.subject != "" {
				if got := events.SubjectMatches(tt.filter, tt.subject); got != tt.match {
					t.Fatalf("match(%q, %q) = %v, want %v", tt.filter, tt.subject, got, tt.match)
				}
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	base := errors.New("bad payload")
	err := events.Permanent(base)
	if !events.IsPermanent(err) || !errors.Is(err, base) {
		t.Fatalf("Permanent(%v) = %v: IsPermanent=%v Is=%v", base, err, events.IsPermanent(err), errors.Is(err, base))
	}
	if events.IsPermanent(base) || events.Permanent(nil) != nil {
		t.Fatal("plain errors and nil must not be permanent")
	}
}
