// Package payment is the payments domain: it pays orders through gateway
// plugins and keeps the money's record (DESIGN.md, "Checkout and
// payment", points 4 to 8; ADR 0009). It owns
//
//   - payment attempts (payment_attempts), one try to pay an order through
//     one gateway, with an explicit state: PENDING, AUTHORIZED, CAPTURED,
//     FAILED, CANCELLED or UNKNOWN (the request may have reached the
//     gateway: only a verified notification or an active query moves it on);
//   - gateway events (payment_gateway_events): every fact learnt from a
//     gateway, unique per (gateway, gateway event id) and inserted in the
//     transaction of the change it causes, so a fact applies once; facts
//     that cannot be applied (amount mismatch, unknown attempt) and money
//     for a cancelled order are flagged for staff;
//   - payment starts (payment_starts), one row per order naming the
//     attempt being started, so that one start at a time reaches the
//     gateway (PAYMENT_IN_PROGRESS);
//   - refunds (payment_refunds), reserved against what was captured before
//     the gateway is asked, so two staff members refunding at once never
//     exceed it nor give back a line's unit or the shipping twice;
//   - the ledger (payment_ledger), one row per authorization, capture,
//     refund and void, and a balance row per order (payment_balances)
//     written with it.
//
// [Gateway] is the port the gateway plugins fill (core/plugin adapts
// plugin processes to it); [Orders] is the port to the order domain,
// wired in core/app. Gateway notifications, the answers of active queries
// (the reconciler, the deadline's cancel, staff capture and void) and the
// synchronous answer of CreatePayment all go through one code path, so a
// fact learnt twice changes nothing twice.
//
//	svc, err := payment.NewService(db, payment.Options{Authz: az, Outbox: outbox,
//		Orders: orders, Gateways: plugins, Settings: shop, Keys: keys})
//	att, err := svc.Create(ctx, payment.CreateInput{OrderID: id, GatewayID: "payment.testpay",
//		ReturnURL: "https://shop.example/orders/1001", IdempotencyKey: key})
//	// show att.Action to the buyer; the gateway notifies:
//	out, err := svc.ApplyWebhook(ctx, "payment.testpay", req) // send out.Response only when err == nil
//	// the buyer is back from the gateway's page: ask now, at most once a second
//	att, err = svc.Refresh(ctx, att.ID, accessToken)
//	// background: svc.Workers() reconciles PENDING and UNKNOWN attempts.
//
// Reconciliation compares a gateway's settlement report (ListTransactions)
// for a day with the books; Analytics aggregates the attempts for staff;
// an [Observer] is told of every committed outcome (core/app counts them
// on /metrics).
package payment
