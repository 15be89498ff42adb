package graphql_test

import (
	"encoding/json"
	"testing"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/testkit"
)

const (
	bulkResultFields    = `result { action succeeded failed replayed outcomes { orderId number ok code } } userErrors { field code }`
	ordersBulkShipDoc   = `mutation($input: OrdersBulkShipInput!) { ordersBulkShip(input: $input) { ` + bulkResultFields + ` } }`
	ordersBulkCancelDoc = `mutation($input: OrdersBulkCancelInput!) { ordersBulkCancel(input: $input) { ` + bulkResultFields + ` } }`
	ordersBulkNoteDoc   = `mutation($input: OrdersBulkNoteAddInput!) { ordersBulkNoteAdd(input: $input) { ` + bulkResultFields + ` } }`
)

// mustMarshal is v as JSON.
func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOrdersBulkThroughGraphQL runs the staff's bulk actions end to end:
// by ids and by filter, per-order outcomes (one failing order does not
// stop the others), the retry with the same idempotency key answered
// with the first result and no events, and whole-call refusals answered
// with userErrors under the input's fields and nothing done.
func TestOrdersBulkThroughGraphQL(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	w := newOrderWorld(t, ta)
	id := w.ids
	outcome := func(number, code string) map[string]any {
		o := map[string]any{"orderId": id[number], "number": number, "ok": code == "", "code": nil}
		if code != "" {
			o["code"] = code
		}
		return o
	}
	result := func(field, action string, succeeded, failed int, replayed bool, outcomes ...map[string]any) string {
		return mustMarshal(t, map[string]any{field: map[string]any{"userErrors": []any{},
			"result": map[string]any{"action": action, "succeeded": succeeded, "failed": failed, "replayed": replayed, "outcomes": outcomes}}})
	}
	refused := func(field string, errors ...map[string]any) string {
		return mustMarshal(t, map[string]any{field: map[string]any{"result": nil, "userErrors": errors}})
	}
	userError := func(code string, path ...string) map[string]any {
		return map[string]any{"code": code, "field": append([]string{"input"}, path...)}
	}
	cancelByID := vars("input", vars("ids", []any{id["#1002"], id["#1005"], "ord_missing", id["#1002"]},
		"reason", "duplicate orders", "idempotencyKey", "bulk-cancel-1"))
	missing := map[string]any{"orderId": "ord_missing", "number": nil, "ok": false, "code": order.CodeOrderNotFound}
	cancelled := result("ordersBulkCancel", "CANCEL", 1, 2, false,
		outcome("#1002", ""), outcome("#1005", order.CodePaymentNotPending), missing)
	replayed := result("ordersBulkCancel", "CANCEL", 1, 2, true,
		outcome("#1002", ""), outcome("#1005", order.CodePaymentNotPending), missing)

	testkit.Run(t, ta, []testkit.Scenario{
		{Name: "finance reads orders but acts on none", As: ordFinance, Query: ordersBulkCancelDoc, Variables: cancelByID,
			WantErrorCode: "FORBIDDEN", WantEvents: []string{}},
		{Name: "a buyer", As: ordAlice, Query: ordersBulkNoteDoc,
			Variables:     vars("input", vars("ids", []any{id["#1001"]}, "body", "mine", "idempotencyKey", "k")),
			WantErrorCode: "FORBIDDEN", WantEvents: []string{}},
		{Name: "no idempotency key", As: ordOwner, Query: ordersBulkCancelDoc,
			Variables:      vars("input", vars("ids", []any{id["#1002"]}, "reason", "x", "idempotencyKey", "")),
			WantUserErrors: []string{idempotency.CodeInvalidKey}, WantEvents: []string{},
			WantData: refused("ordersBulkCancel", userError(idempotency.CodeInvalidKey, "idempotencyKey"))},
		{Name: "ids and a filter", As: ordOwner, Query: ordersBulkCancelDoc,
			Variables:      vars("input", vars("ids", []any{id["#1002"]}, "filter", vars("status", "OPEN"), "reason", "x", "idempotencyKey", "k")),
			WantUserErrors: []string{order.CodeAmbiguousSelection}, WantEvents: []string{},
			WantData: refused("ordersBulkCancel", userError(order.CodeAmbiguousSelection))},
		{Name: "neither", As: ordOwner, Query: ordersBulkShipDoc, Variables: vars("input", vars("idempotencyKey", "k")),
			WantUserErrors: []string{order.CodeRequired}, WantEvents: []string{},
			WantData: refused("ordersBulkShip", userError(order.CodeRequired))},
		{Name: "a filter with its range backwards", As: ordOwner, Query: ordersBulkNoteDoc,
			Variables: vars("input", vars("filter", vars("createdFrom", "2030-01-01T00:00:00Z", "createdTo", "2020-01-01T00:00:00Z"),
				"body", "x", "idempotencyKey", "k")),
			WantUserErrors: []string{order.CodeInvalidDateRange}, WantEvents: []string{},
			WantData: refused("ordersBulkNoteAdd", userError(order.CodeInvalidDateRange, "filter", "createdTo"))},
		{Name: "an empty id", As: ordOwner, Query: ordersBulkCancelDoc,
			Variables:      vars("input", vars("ids", []any{id["#1002"], ""}, "reason", "x", "idempotencyKey", "k")),
			WantUserErrors: []string{order.CodeRequired}, WantEvents: []string{},
			WantData: refused("ordersBulkCancel", userError(order.CodeRequired, "ids", "1"))},

		{Name: "cancel by id: one cancelled, one paid, one missing", As: ordOwner, Query: ordersBulkCancelDoc, Variables: cancelByID,
			WantData: cancelled, WantEvents: []string{order.SubjectCancelled, catalog.SubjectStockMoved}},
		{Name: "the retry gets the first result and does nothing", As: ordOwner, Query: ordersBulkCancelDoc, Variables: cancelByID,
			WantData: replayed, WantEvents: []string{}},
		{Name: "the key with another reason", As: ordOwner, Query: ordersBulkCancelDoc,
			Variables:      vars("input", vars("ids", []any{id["#1002"], id["#1005"], "ord_missing"}, "reason", "another reason", "idempotencyKey", "bulk-cancel-1")),
			WantUserErrors: []string{idempotency.CodeKeyReused}, WantEvents: []string{}},
		{Name: "ship the paid orders", As: ordClerk, Query: ordersBulkShipDoc,
			Variables: vars("input", vars("filter", vars("paymentStatus", "PAID"), "carrier", "UPS", "idempotencyKey", "bulk-ship-1")),
			WantData:  result("ordersBulkShip", "SHIP", 1, 0, false, outcome("#1005", "")), WantEvents: []string{catalog.SubjectStockMoved, order.SubjectShipped}},
		{Name: "note alice's orders, oldest first", As: ordClerk, Query: ordersBulkNoteDoc,
			Variables: vars("input", vars("filter", vars("query", "alice@example.com"), "sort", vars("key", "NUMBER", "reverse", true),
				"body", "VIP", "idempotencyKey", "bulk-note-1")),
			WantData: result("ordersBulkNoteAdd", "NOTE", 2, 0, false, outcome("#1001", ""), outcome("#1004", "")), WantEvents: []string{}},
		{Name: "the note is on the order", As: ordOwner, Query: orderTimelineDoc, Variables: vars("id", id["#1004"]),
			Check: func(t *testing.T, data json.RawMessage) {
				if notes := testkit.Dig(testkit.DecodeJSON(t, data), "order", "notes"); mustMarshal(t, notes) != `[{"body":"VIP"}]` {
					t.Errorf("notes %v", notes)
				}
			}},
		{Name: "the shipment left with UPS", As: ordOwner, Query: orderDoc, Variables: vars("id", id["#1005"]),
			Check: func(t *testing.T, data json.RawMessage) {
				if got := mustMarshal(t, testkit.Dig(testkit.DecodeJSON(t, data), "order", "shipments")); got != `[{"carrier":"UPS","lines":[{"quantity":1}],"trackingNumber":""}]` {
					t.Errorf("shipments %s", got)
				}
			}},
	})
}
