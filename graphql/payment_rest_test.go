package graphql_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/testkit"
)

// restOp reads what an order owes, as its buyer and staff may.
const restOp = `query($id: ID!) { order(id: $id) { paymentStatus amountPaid { amount } amountOutstanding { amount currencyCode } } }`

// TestPaymentOfTheRest: staff capture part of a buyer's payment, the
// order is PARTIALLY_PAID and owes the rest (amountOutstanding, to its
// buyer and staff, in a page of orders too); the buyer's next
// paymentCreate asks the rest, not the total, and its capture makes the
// order PAID, with one kassa.order.paid and no DUPLICATE_PAYMENT. Another
// buyer neither sees nor pays it; a key used before the balance changed
// is refused; the paid order takes no more. With the real testpay
// plugin, on SQLite and PostgreSQL.
func TestPaymentOfTheRest(t *testing.T) {
	testpay, banktransfer := payBinaries(t)
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newPayShop(t, ta, testpay, banktransfer)
		alice, _ := s.buyer(t, "alice.rest@example.com")
		bob, _ := s.buyer(t, "bob.rest@example.com")
		o := s.buyerOrder(t, alice)
		owes := func(as string, r gqlResult) {
			t.Helper()
			eq(t, as+" amountOutstanding", r.str("order", "amountOutstanding", "amount"), "10.00")
			eq(t, as+" currency", r.str("order", "amountOutstanding", "currencyCode"), "CNY")
		}

		// Nothing paid yet: the buyer owes the total. A declined card
		// asked for it, under a key.
		eq(t, "before any payment", must(t, s.do(t, alice, restOp, vars("id", o.id))).str("order", "amountOutstanding", "amount"), o.total)
		declined := in("orderId", o.id, "gatewayId", testpayID, "paymentMethod", "decline", "returnUrl", "https://shop.example/r",
			"idempotencyKey", "rest-key")
		res := must(t, s.do(t, alice, payCreateOp, declined))
		eq(t, "declined", res.str("paymentCreate", "payment", "state"), "FAILED")
		eq(t, "declined amount", res.str("paymentCreate", "payment", "amount", "amount"), o.total)

		// Staff hold the money and capture all of it but 10.00.
		held := must(t, s.do(t, ordFinance, payCreateOp, in("orderId", o.id, "gatewayId", testpayID, "paymentMethod", "succeed",
			"manualCapture", true))).str("paymentCreate", "payment", "id")
		part := cny(t, o.total, -1000)
		res = must(t, s.do(t, ordFinance, captureOp, in("paymentId", held, "amount", cnyInput(part), "idempotencyKey", "rest-capture")))
		eq(t, "after the capture", res.str("paymentCapture", "payment", "order", "paymentStatus"), "PARTIALLY_PAID")

		// Alice and the staff see what is left; so does a page of orders.
		mine := must(t, s.do(t, alice, restOp, vars("id", o.id)))
		eq(t, "alice's amountPaid", mine.str("order", "amountPaid", "amount"), part)
		owes("alice's", mine)
		owes("finance's", must(t, s.do(t, ordFinance, restOp, vars("id", o.id))))
		page := must(t, s.do(t, ordFinance, `{ orders(first: 100, filter: {paymentStatus: PARTIALLY_PAID}) { nodes { id amountOutstanding { amount } } } }`, nil))
		found := false
		for _, n := range page.get("orders", "nodes").([]any) {
			if m := n.(map[string]any); m["id"] == o.id {
				found = true
				eq(t, "in a page", m["amountOutstanding"].(map[string]any)["amount"], "10.00")
			}
		}
		if !found {
			t.Fatalf("order %s not in the page of partially paid orders", o.id)
		}
		if r := s.do(t, ordClerk, restOp, vars("id", o.id)); !r.has("FORBIDDEN") {
			t.Fatalf("the clerk, without payment read, reads amountOutstanding: %v %v", r.codes(), r.Data)
		}

		// Bob neither sees alice's balance nor pays it, by id or node; nor
		// does a guest with another order's token.
		if r := s.do(t, bob, restOp, vars("id", o.id)); r.get("order") != nil {
			t.Fatalf("bob reads alice's order: %v %v", r.codes(), r.Data)
		}
		const nodeOp = `query($id: ID!) { node(id: $id) { id ... on Order { amountOutstanding { amount } } } }`
		if r := s.do(t, bob, nodeOp, vars("id", o.id)); r.get("node") != nil {
			t.Fatalf("bob's node(alice's order): %v %v", r.codes(), r.Data)
		}
		eq(t, "alice's node", must(t, s.do(t, alice, nodeOp, vars("id", o.id))).str("node", "amountOutstanding", "amount"), "10.00")
		g := s.guestOrder(t, 1)
		for name, c := range map[string]struct {
			sub   authz.Subject
			input map[string]any
		}{
			"bob":                        {bob, in("orderId", o.id, "gatewayId", testpayID, "paymentMethod", "succeed")},
			"a guest with another token": {ordGuest, in("orderId", o.id, "token", g.token, "gatewayId", testpayID, "paymentMethod", "succeed")},
		} {
			if r := s.do(t, c.sub, payCreateOp, c.input); !slices.Equal(r.codes(), []string{payment.CodeOrderNotFound}) {
				t.Fatalf("%s pays alice's rest: %v", name, r.codes())
			}
		}
		if r := s.do(t, bob, methodsOp, vars("id", o.id)); !slices.Equal(r.codes(), []string{payment.CodeOrderNotFound}) {
			t.Fatalf("bob's methods for alice's rest: %v", r.codes())
		}

		// The key of the declined payment asked for the total; the
		// balance changed since: refused, not answered with that payment.
		eq(t, "the key again", s.do(t, alice, payCreateOp, declined).codes(), []string{idempotency.CodeKeyReused})
		if ms := must(t, s.do(t, alice, methodsOp, vars("id", o.id))); len(ms.get("availablePaymentMethods").([]any)) == 0 {
			t.Fatal("no methods for the rest")
		}
		res = must(t, s.do(t, alice, payCreateOp, in("orderId", o.id, "gatewayId", testpayID, "paymentMethod", "succeed",
			"returnUrl", "https://shop.example/r", "idempotencyKey", "rest-pay")))
		rest := res.str("paymentCreate", "payment", "id")
		eq(t, "the rest's amount", res.str("paymentCreate", "payment", "amount", "amount"), "10.00")
		eq(t, "the rest's state", res.str("paymentCreate", "payment", "state"), "CAPTURED")
		eq(t, "paid", res.str("paymentCreate", "payment", "order", "paymentStatus"), "PAID")
		eq(t, "amountPaid", res.str("paymentCreate", "payment", "order", "amountPaid", "amount"), o.total)
		eq(t, "nothing left", must(t, s.do(t, alice, restOp, vars("id", o.id))).str("order", "amountOutstanding", "amount"), "0.00")

		eq(t, "the capture's flags", s.flags(t, held), []string{payment.FlagUnderpaid})
		eq(t, "the rest's flags", s.flags(t, rest), []string(nil))
		eq(t, "ledger", s.ledger(t, o.id), []string{"AUTHORIZATION " + o.total, "CAPTURE " + part, "VOID 10.00", "CAPTURE 10.00"})
		n, err := ta.DB.NewSelect().Table("outbox_events").Where("subject = ? AND payload LIKE ?", "kassa.order.paid", "%"+o.id+"%").
			Count(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("%d kassa.order.paid events (%v), want 1", n, err)
		}

		// Paid: nothing more to take. An unpaid guest order owes its total.
		eq(t, "paid again", s.do(t, alice, payCreateOp, in("orderId", o.id, "gatewayId", testpayID, "paymentMethod", "succeed")).codes(),
			[]string{payment.CodeOrderAlreadyPaid})
		eq(t, "an unpaid guest order", must(t, s.do(t, ordGuest, `query($t: String!) { orderByToken(token: $t) { amountOutstanding { amount } } }`,
			vars("t", g.token))).str("orderByToken", "amountOutstanding", "amount"), g.total)
	})
}

// refundsOp refunds through orderRefund and reads every part.
const refundsOp = `mutation($input: OrderRefundInput!) { orderRefund(input: $input) {
	refund { id } refunds { id state amount { amount } paymentId } userErrors { field code } } }`

// TestRefundOfTwoPayments: an order paid by two payments (staff captured
// all but 10.00, the buyer paid the rest) is refunded in full by one
// orderRefund, split into one refund per payment, the rest's first;
// refund is the first part. A retry with the key returns the same parts;
// support, without refund write, is refused and reads no part. With the
// real testpay plugin, on SQLite and PostgreSQL.
func TestRefundOfTwoPayments(t *testing.T) {
	testpay, banktransfer := payBinaries(t)
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newPayShop(t, ta, testpay, banktransfer)
		o := s.guestOrder(t, 2)
		held := must(t, s.do(t, ordFinance, payCreateOp, in("orderId", o.id, "gatewayId", testpayID, "paymentMethod", "succeed",
			"manualCapture", true))).str("paymentCreate", "payment", "id")
		part := cny(t, o.total, -1000)
		must(t, s.do(t, ordFinance, captureOp, in("paymentId", held, "amount", cnyInput(part), "idempotencyKey", "two-capture")))
		rest := s.pay(t, o, testpayID, "succeed")
		eq(t, "the rest", rest.str("paymentCreate", "payment", "order", "paymentStatus"), "PAID")
		restID := rest.str("paymentCreate", "payment", "id")

		all := in("orderId", o.id, "amount", cnyInput(o.total), "reason", "the parcel never arrived", "idempotencyKey", "two-refund")
		denied := s.do(t, paySupport, refundsOp, all)
		if !denied.has("FORBIDDEN") || denied.get("orderRefund") != nil {
			t.Fatalf("support refunds: %v %v", denied.codes(), denied.Data)
		}
		res := must(t, s.do(t, ordFinance, refundsOp, all))
		type refundPart struct{ State, Amount, PaymentID string }
		var got []refundPart
		for _, r := range res.get("orderRefund", "refunds").([]any) {
			m := r.(map[string]any)
			got = append(got, refundPart{m["state"].(string), m["amount"].(map[string]any)["amount"].(string), m["paymentId"].(string)})
		}
		eq(t, "parts", got, []refundPart{{"SUCCEEDED", "10.00", restID}, {"SUCCEEDED", part, held}})
		first := res.str("orderRefund", "refunds", "0", "id")
		eq(t, "refund is the first part", res.str("orderRefund", "refund", "id"), first)
		st := must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
		eq(t, "paymentStatus", st.str("order", "paymentStatus"), "REFUNDED")
		eq(t, "amountRefunded", st.str("order", "amountRefunded", "amount"), o.total)

		again := must(t, s.do(t, ordFinance, refundsOp, all))
		eq(t, "the retry", testkit.EncodeJSON(t, again.get("orderRefund", "refunds")), testkit.EncodeJSON(t, res.get("orderRefund", "refunds")))
		eq(t, "refunds in the ledger", len(st.get("order", "refunds").([]any)), 2)
	})
}
