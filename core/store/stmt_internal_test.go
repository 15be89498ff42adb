package store

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseWaitsForBackgroundPrepares: a statement first run in a
// transaction is prepared in the background; Close cancels that prepare
// and returns only once it ended, so that no connection is held or
// opened after Close (on SQLite the test's directory could not be
// removed: a flake of CI).
func TestCloseWaitsForBackgroundPrepares(t *testing.T) {
	entered := make(chan struct{})
	var ended atomic.Bool
	testHookBackgroundPrepare = func(ctx context.Context) {
		close(entered)
		select { // a prepare waiting for a connection, as long as it is let
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
		time.Sleep(20 * time.Millisecond) // and ends a moment later
		ended.Store(true)
	}
	t.Cleanup(func() { testHookBackgroundPrepare = nil })

	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "kassa.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.RunInTx(ctx, func(ctx context.Context) error {
		_, err := db.ExecStmt(ctx, "SELECT 1 WHERE ? = 1", 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if !ended.Load() {
		t.Fatal("Close returned while a background prepare was still running")
	}
	if n := db.DB.DB.Stats().OpenConnections; n != 0 {
		t.Fatalf("%d connections open after Close", n)
	}
}
