// Package delivery is the journal of event consumers: for every event a
// consumer (order emails, merchant webhooks, invoices) handles, whether it
// took it, after how many attempts, and the last error. A consumer that
// gives up (a permanent refusal, or the bus's last redelivery) leaves a
// dead letter that staff see and hand to the consumer again once the
// cause is fixed (a channel's credentials, a plugin that was down):
//
//	journal, _ := delivery.New(db, delivery.Options{Box: box, Authz: az})
//	h := journal.Wrap("notify-orders-0", dispatcher.HandleOrder, events.DefaultMaxDeliver)
//	bus.Subscribe(ctx, "notify-orders-0", "kassa.order.>", h)
//	...
//	journal.Replay(staffCtx, "notify-orders-0", "evt_01J...") // a dead letter, now
//
// A consumer journals the events it works on, not every event its
// subscription receives: wrapped with OnlyWanted, it acknowledges an event
// nothing would act on (no enabled channel or invoice rule for it, asked
// of the plugin service's in-memory lists) without calling the handler,
// reading anything or writing a row. A redelivery always runs the
// handler, so a row left RETRYING ends DELIVERED.
//
// The journal is written after the handler returned, outside its work:
// the handler is idempotent (delivery is at least once), so a journal
// write that fails after a success is logged and the event is still
// acknowledged rather than sent twice. Undelivered events are kept sealed
// with the instance's secret key (core/secret): they carry buyers'
// addresses and account links.
package delivery
