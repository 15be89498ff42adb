// Package events carries Kassa's domain events: what happened to orders,
// payments, refunds, returns and customers, as subjects
// "kassa.<domain>.<event>" (kassa.order.placed, kassa.payment.failed, ...)
// with a JSON payload and an "evt_" id.
//
// Events leave through a transactional outbox. A service adds them in the
// transaction of the change they describe, so a rolled-back change
// publishes nothing and a committed one is never lost:
//
//	err := db.RunInTx(ctx, func(ctx context.Context) error {
//		if err := s.store.InsertOrder(ctx, o); err != nil {
//			return err
//		}
//		e, err := events.New("kassa.order.placed", OrderPlaced{OrderID: o.ID})
//		if err != nil {
//			return err
//		}
//		e.Actor = actorID
//		return s.outbox.Add(ctx, e)
//	})
//
// The Relay publishes committed events to the Bus in id order, with the
// event id as Nats-Msg-Id so the JetStream stream drops a republished
// event, and marks them sent. Consumers subscribe with a durable name and
// get each event at least once, in practice once, and again with backoff
// when their handler fails:
//
//	sub, err := bus.Subscribe(ctx, "invoices", "kassa.order.>", func(ctx context.Context, e events.Event) error {
//		var p OrderPlaced
//		if err := e.Decode(&p); err != nil {
//			return events.Permanent(err) // retrying will not help
//		}
//		return invoices.OnOrderPlaced(ctx, e.ID, p) // idempotent by e.ID
//	})
//
// Listen is for what every instance must see while it runs (cache
// invalidation, live updates), at most once and without persistence.
//
// The Bus is NATS JetStream (NATSBus): an embedded server storing under
// the data directory, reachable only in-process unless a listen address is
// set, or an external server or cluster by URL (KASSA_NATS_URL). MemoryBus
// serves unit tests of other packages; package eventstest runs a test on
// every bus.
//
// Wiring in the composition root, after the database is migrated:
//
//	bus, err := events.OpenNATS(ctx, events.NATSOptions{URL: cfg.NATSURL, DataDir: cfg.DataDir, Logger: log})
//	outbox := events.NewOutbox(db)
//	relay, err := events.NewRelay(outbox, bus, events.RelayOptions{Logger: log, Registerer: reg})
//	go relay.Run(relayCtx)
//	// ... start consumers (bus.Subscribe), services (given outbox), HTTP;
//	// /readyz calls bus.Ready.
//
// Shutdown in reverse: stop HTTP so no new transactions start; stop the
// subscriptions (Stop waits for a running handler, whose own events then
// sit in the outbox); relay.Flush(ctx) with a deadline; cancel relayCtx;
// bus.Close (drains the connection, stops the embedded server); close the
// database last. Whatever Flush could not send stays in the outbox and
// leaves at the next start.
package events
