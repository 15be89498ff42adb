-- Named singleton leases (core/worker.Lease): one kassa instance at a time
-- runs a job such as the payment reconciler. A holder takes or renews the
-- lease with one conditional upsert; another instance takes it over only
-- after held_until has passed, so a crashed holder blocks nobody for long.
CREATE TABLE worker_leases (
    name        TEXT PRIMARY KEY,       -- the job, e.g. "payment.reconciler"
    holder      TEXT NOT NULL,          -- the instance holding it (worker.HolderID)
    held_until  TIMESTAMP NOT NULL,     -- the lease lapses after this time (UTC)
    acquired_at TIMESTAMP NOT NULL      -- when this holder took it (UTC); renewals keep it
);
