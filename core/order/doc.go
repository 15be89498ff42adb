// Package order owns orders (ADR 0008): the snapshot of what a buyer
// bought at which prices, its shipments, staff notes, its timeline, its
// number, and its three status dimensions, each a core/transition table:
// the order's life (Statuses, and BuyerStatuses for a buyer cancelling an
// unpaid order), its money (PaymentStatuses, moved by the platform only)
// and its goods (FulfillmentStatuses).
//
// The cart places orders at checkout, in its own transaction; Place asks
// no permission (the cart authorized the buyer) and reserves stock
// through the StockReserver port, which core/app fills with
// catalog.Reservations:
//
//	svc, err := order.NewService(db, order.Options{
//		Authz: az, Outbox: outbox, Stock: reservations, Settings: shopSettings, Customers: customers,
//	})
//	err = db.RunInTx(ctx, func(ctx context.Context) error {
//		placed, err := svc.Place(ctx, order.PlaceInput{CartID: c.ID, Email: c.Email, Currency: c.Currency, Lines: lines, Totals: totals})
//		// placed.Order.Number is "#1001"; placed.AccessToken opens a guest's order
//		return err // *catalog.InsufficientStockError when a variant ran out
//	})
//
// Staff (order read/write) list orders with filters and keyset pages
// (List), read one with notes and the whole timeline (Get), ship lines in
// one or several parcels (Ship), confirm delivery (MarkDelivered), close
// fulfilled orders (Complete), cancel unshipped unpaid ones (Cancel) and
// write notes (AddNote). Buyers (order read:own, write:own) reach their
// own orders only, by their account (MyOrders, Get) or, as guests, by the
// access token (GetByAccessToken); they cancel an order still waiting for
// payment (CancelUnpaid) and attach the orders they placed as guests once
// their email address is verified (ClaimGuestOrders). To a buyer every
// other order does not exist (ORDER_NOT_FOUND).
//
// Every change that spans dimensions (a cancellation needs nothing
// shipped and no money taken) first writes a guard: a conditional UPDATE
// of the order row naming the states it needs, then the move, its
// timeline row and its event, all in one transaction. Of two staff
// members cancelling and shipping one order at once, one wins; the other
// gets STALE_STATE and writes nothing.
//
// The order's automatic work is a Scheduler's two workers: the payment
// reminder (kassa.order.payment_reminder, once per unpaid order) and the
// deadline closer, which cancels unpaid orders past their deadline unless
// its BeforeExpire hook (the payment domain asking the gateway) keeps
// them. Every cancellation, the closer's, staff's and the buyer's, first
// has the payment domain close the order's payments still open at their
// gateways (PaymentCloser, set with UsePaymentCloser), so that a buyer
// cannot pay a cancelled order. Staff act on up to MaxBulk orders at once under an idempotency key
// (BulkShip, BulkCancel, BulkAddNote: each order in a step of its own, a
// result per order) and download them as CSV for their bookkeeping
// (Export: keyset batches, constant memory).
package order
