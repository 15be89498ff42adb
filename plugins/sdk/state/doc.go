// Package state is a small durable key → record store for plugins: what a
// gateway plugin must remember across restarts (which gateway object an
// attempt became, closes the gateway has no call for, refund ids) kept in
// memory and made durable in an append-only journal in the plugin's data
// directory ($KASSA_PLUGIN_DATA_DIR).
//
// Each change appends one JSON line holding the whole record (or a
// deletion), so a change costs its own size rather than the size of
// everything the plugin remembers. [Store.Put] and [Store.Update] return
// after the line is fsync'd; concurrent callers share one fsync (group
// commit). [Store.Append] writes several changes as one line, kept or lost
// together, and leaves the fsync to [Store.Sync], for a plugin that holds
// its own lock while it changes its state and syncs after releasing it. Replay at [Open] tolerates a torn tail (the last line of a write
// cut short by a crash, never acknowledged) and cuts it off before
// appending again; any other unreadable line is an error, never silently
// lost state. The journal is compacted to the live records when it holds
// more than twice as many lines as records (and at least
// [Options.CompactMin]), so its size stays proportional to what is
// remembered. Records that [Options.Expired] reports are hidden at once and
// dropped at the next compaction.
//
// Usage in a gateway's constructor:
//
//	type attempt struct {
//		OrderID string    `json:"order_id"`
//		Created time.Time `json:"created"`
//	}
//	attempts, err := state.Open[attempt](state.Options{
//		Dir:     os.Getenv("KASSA_PLUGIN_DATA_DIR"), // "" keeps everything in memory
//		File:    "mygateway-attempts.jsonl",
//		Expired: func(a attempt, now time.Time) bool { return now.Sub(a.Created) > 30*24*time.Hour },
//	})
//	...
//	err = attempts.Put(req.AttemptID, attempt{OrderID: id, Created: time.Now()})
//
// Records are JSON-encoded: only exported fields survive a restart.
// Records holding maps or slices that callers change in [Store.Update]
// should set [Options.Clone] so readers never share them with a writer.
package state
