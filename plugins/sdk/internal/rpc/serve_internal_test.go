package rpc

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestExitWithHost: the plugin exits once its parent changes (the host
// died and the plugin was adopted), and not before; a plugin whose parent
// is init is not watched.
func TestExitWithHost(t *testing.T) {
	t.Parallel()
	var parent atomic.Int64
	parent.Store(42)
	exited := make(chan struct{})
	go exitWithHost(42, time.Millisecond, func() int { return int(parent.Load()) }, func() { close(exited) })
	select {
	case <-exited:
		t.Fatal("exited while the host lives")
	case <-time.After(20 * time.Millisecond):
	}
	parent.Store(1)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("did not exit after the host died")
	}

	done := make(chan struct{})
	go func() {
		exitWithHost(1, time.Millisecond, func() int { return 7 }, func() { t.Error("exit called for a plugin started by init") })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("watching a plugin started by init")
	}
}
