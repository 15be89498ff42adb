// Package worker runs Kassa's background work: the outbox relay, the
// event consumers, the plugin supervisor and the schedulers (deadline
// closer, reconciler, reminders). Building the app starts none of it;
// starting does, and stopping ends it in reverse order.
//
// A Worker has a name, Start and Stop, as a Caddy app does. A Group starts
// workers in the order added, stops them in reverse, rolls back a failed
// start, and keeps per-worker Prometheus series: kassa_worker_up,
// kassa_worker_runs_total, kassa_worker_failures_total,
// kassa_worker_last_success_timestamp_seconds, kassa_worker_lag_seconds.
// Loop wraps a long-running function (the relay's Run) and Periodic runs a
// round every interval; both act as an explicit system subject named
// after the worker.
//
//	g, err := worker.NewGroup(worker.GroupOptions{Logger: log, Registerer: reg})
//	relay := worker.NewLoop("outbox.relay", app.Relay.Run, app.Relay.Flush)
//	closer, err := worker.NewPeriodic("order.deadline_closer", closeOverdue,
//		worker.PeriodicOptions{Interval: time.Minute, Jitter: 10 * time.Second})
//	err = g.Add(relay, closer)
//	err = g.Start(ctx) // relay, then closer
//	...
//	err = g.Stop(ctx)  // closer, then relay (which flushes first)
//
// Several kassa instances may share one database, so a scheduler must not
// do a job twice. Two tools, both tested on SQLite and PostgreSQL:
//
// A Claimer claims due rows: each instance marks a batch as its own for a
// lease, works on it, then updates the rows so they are no longer due and
// releases them. The work table needs two nullable columns:
//
//	claimed_by    TEXT,       -- the holder (HolderID) working on the row
//	claimed_until TIMESTAMP   -- the claim lapses after this time (UTC)
//
//	claims, err := worker.NewClaimer(db, worker.ClaimOptions{
//		Table: "payment_attempts", Holder: worker.HolderID(), Lease: 2 * time.Minute,
//	})
//	ids, err := claims.Claim(ctx, worker.Due{
//		Where: "status = ? AND next_check_at <= ?", Args: []any{"PENDING", now},
//		OrderBy: "next_check_at, id",
//	}, 50)
//
// A Lease (table worker_leases, migration 0006) is for a job that one
// instance at a time may run at all; Guard makes a Periodic's round run
// only where the lease is held:
//
//	lease, err := worker.NewLease(db, worker.LeaseOptions{
//		Name: "payment.reconciler", Holder: worker.HolderID(), TTL: 2 * time.Minute,
//	})
//	rec, err := worker.NewPeriodic("payment.reconciler", lease.Guard(reconcile),
//		worker.PeriodicOptions{Interval: 30 * time.Second})
//
// Neither holds a database lock between calls: a claim and a lease are
// rows with an expiry, so a crashed instance delays its work by one lease
// at most and blocks nobody. Time is the application's clock, injectable
// (workertest.Clock steps Periodic's timers in tests).
package worker
