// Package transition is the state-machine kit of Kassa's commerce
// domains: the order's three status dimensions, payment attempts, refunds
// and returns. A domain declares each machine once as a Table (the moves
// it allows, who may make each, whether each must say why, the event each
// emits) and applies moves through a Machine, which writes the new state,
// a timeline row and the event in one transaction, and only when it won.
//
// Declare the table as a package variable, so a mistake panics at start
// and the docs can print it (Table.Markdown):
//
//	type PaymentStatus string
//
//	var PaymentStatuses = transition.New[PaymentStatus]("order.payment_status").
//		Allow(Pending, Authorized, transition.System, transition.ReasonOptional, "kassa.order.authorized").
//		Allow(Pending, Paid, transition.System, transition.ReasonOptional, "kassa.order.paid").
//		Allow(Authorized, Voided, transition.Permission(authz.Payment, authz.Write), transition.ReasonRequired, "kassa.order.voided").
//		Allow(Paid, PartiallyRefunded, transition.Permission(authz.Refund, authz.Write), transition.ReasonRequired, "kassa.order.partially_refunded")
//
// Bind it to a column once, in the service's constructor, and apply moves
// in the service's transaction:
//
//	payments, err := transition.NewMachine(PaymentStatuses, transition.Storage{
//		Table: "orders", Key: "id", State: "payment_status",
//		Timeline: "order_timeline", TimelineKey: "order_id",
//	}, transition.Options{DB: db, Outbox: outbox, Authorizer: az, Clock: clk})
//	...
//	err = db.RunInTx(ctx, func(ctx context.Context) error {
//		if _, err := payments.Apply(ctx, transition.Move[PaymentStatus]{ID: o.ID, From: Pending, To: Paid}); err != nil {
//			if transition.IsStale(err) {
//				return nil // a duplicate notification: already paid
//			}
//			return err
//		}
//		return s.store.InsertLedgerRow(ctx, capture) // same transaction
//	})
//
// Apply is a conditional UPDATE with the from-state in its WHERE clause,
// never SELECT ... FOR UPDATE, so the guard holds on SQLite and
// PostgreSQL alike. When two callers make moves from the same state at
// once, one wins; the other gets an error with code STALE_STATE and writes
// nothing, so exactly one timeline row and one event exist. See
// Machine.Apply for why losing is an error and not a flag.
//
// Columns that change with the state (updated_at, an amount) ride in the
// same UPDATE through Move.Set, so they are written only when the move is
// made. RunBatched gathers the events of one transaction's moves and adds
// them to the outbox in one insert before it commits.
//
// Every entity with a machine has a timeline table, shared by its
// machines, with these columns (the entity key column is named by
// Storage.TimelineKey). A domain's migration creates it:
//
//	CREATE TABLE order_timeline (
//	    id          TEXT PRIMARY KEY,         -- trn_ ULID: sorts in order of change
//	    order_id    TEXT NOT NULL REFERENCES orders (id),
//	    machine     TEXT NOT NULL,            -- the table's name: order.payment_status
//	    from_state  TEXT NOT NULL,
//	    to_state    TEXT NOT NULL,
//	    actor_kind  TEXT NOT NULL,            -- system, staff, customer, apikey, anonymous
//	    actor       TEXT,                     -- the subject's id; NULL for a guest
//	    reason      TEXT,                     -- why; NULL when none was given
//	    event_id    TEXT NOT NULL,            -- the outbox event emitted with the move
//	    created_at  TIMESTAMP NOT NULL        -- when (UTC)
//	);
//	--bun:split
//	CREATE INDEX order_timeline_order ON order_timeline (order_id, id);
//
// Who may move is checked by Apply itself (Who: a permission through the
// authorizer, or subject kinds such as system only), so no caller can
// skip it; whether the record is the caller's own remains the service's
// check.
package transition
