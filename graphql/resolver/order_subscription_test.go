package resolver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
)

// paymentTables are the payment domain's tables, which a subscription
// selecting none of the order's payment fields must leave alone.
var paymentTables = []string{"payment_attempts", "payment_balances", "payment_ledger", "payment_refunds", "payment_gateway_events"}

// readsPayments returns the statements that touch the payment tables.
func readsPayments(sqls []string) []string { return touching(sqls, paymentTables) }

// TestOrderUpdatedReadsWhatItSelects follows a guest's order through its
// payment with Subscription.orderUpdated, counting the statements each
// result costs. The bench's and a status badge's selection (status,
// paymentStatus) reads the order's row alone, once for the order as it
// stands and once for the move to PAID: the payment's own event, which
// moves nothing such a selection shows, reads nothing, and nothing reads
// the order's lines, shipments, timeline, notes or payments. The status
// page's selection with payments reads them too, still no detail; a
// selection with the timeline reads it. The payments and the timeline
// are selected through fragments, which the server flattens. The hub is driven by hand (the
// app is not started): the events are those the outbox would publish.
func TestOrderUpdatedReadsWhatItSelects(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		log := &statementLog{}
		db.AddQueryHook(log)
		a, first, _ := newOrderReadApp(t, db)
		anon := authz.WithSubject(context.Background(), authz.AnonymousSubject())
		system := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		// Each case follows a guest order of its own, like the first.
		d, err := a.Orders.Get(system, first.Order.ID)
		if err != nil {
			t.Fatal(err)
		}
		l, o := d.Lines[0], d.Order
		orders := 0
		place := func(t *testing.T) *order.Placed {
			t.Helper()
			orders++
			placed, err := a.Orders.Place(anon, order.PlaceInput{
				CartID: fmt.Sprintf("cart_live_%d", orders), Email: o.Email, Currency: o.Currency,
				ShippingAddress: o.ShippingAddress, BillingAddress: o.BillingAddress, ShippingMethodID: o.ShippingMethodID, ShippingMethodName: o.ShippingMethodName,
				Lines: []order.PlaceLine{{VariantID: l.VariantID, ProductID: l.ProductID, SKU: l.SKU, ProductTitle: l.ProductTitle, Quantity: 1,
					UnitPrice: money.New(l.UnitPriceAmount, o.Currency), Subtotal: money.New(l.UnitPriceAmount, o.Currency),
					Discount: money.New(0, o.Currency), Tax: money.New(0, o.Currency), Total: money.New(l.UnitPriceAmount, o.Currency)}},
				Totals: pricing.Totals{Subtotal: money.New(l.UnitPriceAmount, o.Currency), DiscountTotal: money.New(0, o.Currency),
					Shipping: money.New(0, o.Currency), Tax: money.New(0, o.Currency), Total: money.New(l.UnitPriceAmount, o.Currency)}})
			if err != nil {
				t.Fatal(err)
			}
			return placed
		}

		// follow subscribes as the guest to a new order and returns it,
		// the next result's data, and the statements since the last
		// call.
		type follower struct {
			placed  *order.Placed
			results <-chan *graphql.Response
			stop    context.CancelFunc
		}
		follow := func(t *testing.T, fields, fragments string) *follower {
			t.Helper()
			placed := place(t)
			ctx, cancel := context.WithCancel(context.WithValue(anon, traceKey{}, true))
			t.Cleanup(cancel)
			log.take()
			results, refused := a.GraphQL.Subscribe(ctx, graphql.Request{
				Query:     `subscription($id: ID!, $token: String) { orderUpdated(id: $id, token: $token) { ` + fields + ` } } ` + fragments,
				Variables: map[string]any{"id": placed.Order.ID, "token": placed.AccessToken}})
			if refused != nil {
				t.Fatalf("refused: %+v", refused.Errors[0])
			}
			return &follower{placed: placed, results: results, stop: cancel}
		}
		// end stops the subscription and returns the statements it ran
		// since the last result: none, once the result was sent.
		end := func(t *testing.T, f *follower) []string {
			t.Helper()
			f.stop()
			for range f.results {
			}
			return log.take()
		}
		next := func(t *testing.T, f *follower) (string, []string) {
			t.Helper()
			select {
			case r, ok := <-f.results:
				if !ok {
					t.Fatal("the subscription ended")
				}
				if len(r.Errors) > 0 {
					t.Fatalf("errors: %+v", r.Errors[0])
				}
				return string(r.Data), log.take()
			case <-time.After(10 * time.Second):
				t.Fatal("no result")
			}
			return "", nil
		}
		signal := func(t *testing.T, subject, orderID string) {
			t.Helper()
			if err := a.Live.HandleOrderEvent(context.Background(), events.MustNew(subject, map[string]string{"orderId": orderID})); err != nil {
				t.Fatal(err)
			}
		}
		pay := func(t *testing.T, f *follower) {
			t.Helper()
			id := f.placed.Order.ID
			// The payment's event first, as the relay may publish it,
			// then the payment moves the order. The move's commit
			// signals this instance's hub itself (Outbox.OnCommit); the
			// bus's copy of that event carries the same id and is
			// dropped by the hub (graphql/live), so it is not sent here.
			signal(t, payment.SubjectSucceeded, id)
			if _, err := a.Orders.MovePayment(system, order.PaymentMove{OrderID: id, From: order.PaymentPending, To: order.PaymentPaid}); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("statuses alone: the order's row, once a result", func(t *testing.T) {
			f := follow(t, "status paymentStatus", "")
			data, sqls := next(t, f)
			if data != `{"orderUpdated":{"status":"OPEN","paymentStatus":"PENDING"}}` {
				t.Fatalf("first result %s", data)
			}
			if len(sqls) != 1 || len(readsOrders(sqls)) != 1 {
				t.Errorf("the first result ran %d statements, want one read of the order's row:\n%s", len(sqls), strings.Join(sqls, "\n"))
			}
			pay(t, f)
			data, sqls = next(t, f)
			if data != `{"orderUpdated":{"status":"OPEN","paymentStatus":"PAID"}}` {
				t.Fatalf("after the payment %s", data)
			}
			// Read after the subscription ended: a read the payment's
			// event caused after the result would be here.
			sqls = append(sqls, end(t, f)...)
			if len(sqls) != 1 || len(readsOrders(sqls)) != 1 {
				t.Errorf("following the payment ran %d statements, want one read of the order's row:\n%s", len(sqls), strings.Join(sqls, "\n"))
			}
		})

		t.Run("the status page's selection: the row and the payments, no detail", func(t *testing.T) {
			f := follow(t, "status paymentStatus total { amount } ...Paid", "fragment Paid on Order { payments { id state } }")
			data, sqls := next(t, f)
			if !strings.Contains(data, `"paymentStatus":"PENDING"`) || !strings.Contains(data, `"payments":[]`) {
				t.Fatalf("first result %s", data)
			}
			if d := readsDetail(sqls); len(d) > 0 {
				t.Errorf("the first result read the order's detail:\n%s", strings.Join(d, "\n"))
			}
			if n := len(readsOrders(sqls)); n != 1 {
				t.Errorf("the first result read the orders table %d times, want once:\n%s", n, strings.Join(sqls, "\n"))
			}
			if len(readsPayments(sqls)) == 0 {
				t.Errorf("a selection with payments read none:\n%s", strings.Join(sqls, "\n"))
			}
			pay(t, f)
			data, sqls = next(t, f)
			if !strings.Contains(data, `"paymentStatus":"PAID"`) {
				t.Fatalf("after the payment %s", data)
			}
			sqls = append(sqls, end(t, f)...)
			if d := readsDetail(sqls); len(d) > 0 {
				t.Errorf("following the payment read the order's detail:\n%s", strings.Join(d, "\n"))
			}
		})

		t.Run("a selection with the timeline reads it", func(t *testing.T) {
			f := follow(t, "paymentStatus ... on Order { timeline { kind } }", "")
			data, sqls := next(t, f)
			if data != `{"orderUpdated":{"paymentStatus":"PENDING","timeline":[{"kind":"PLACED"}]}}` {
				t.Fatalf("first result %s", data)
			}
			if len(readsDetail(sqls)) == 0 {
				t.Errorf("a selection with the timeline read no detail:\n%s", strings.Join(sqls, "\n"))
			}
			pay(t, f)
			// The payment's own event may give a result of its own first:
			// the order's row and its timeline are read one after the
			// other, so it can catch the move half seen. The next result
			// shows it whole.
			for i := 0; ; i++ {
				data, _ = next(t, f)
				if strings.Contains(data, `"paymentStatus":"PAID"`) {
					break
				}
				if i == 2 {
					t.Fatalf("after the payment %s", data)
				}
			}
			if !strings.Contains(data, `{"kind":"PLACED"},{"kind":`) {
				t.Errorf("after the payment %s", data)
			}
			end(t, f)
		})
	})
}
