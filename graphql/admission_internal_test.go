package graphql

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kassahq/kassa/graphql/resolver"
)

func mustAdmission(t *testing.T, o AdmissionOptions) *admission {
	t.Helper()
	a, err := newAdmission(o, nil)
	if err != nil || a == nil {
		t.Fatalf("newAdmission: %v, %v", a, err)
	}
	return a
}

// inLine waits until n operations wait in a's line.
func inLine(t *testing.T, a *admission, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		got := a.line.Len()
		a.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d operations in line, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Operations past the slots run in the order they arrived, each when one
// before it leaves.
func TestAdmissionRunsInArrivalOrder(t *testing.T) {
	a := mustAdmission(t, AdmissionOptions{Slots: 1, MaxWait: time.Minute})
	first := a.enter(context.Background())
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leave := a.enter(context.Background())
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			leave()
		}()
		inLine(t, a, i+1) // the next arrives after this one is in line
	}
	first()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("admitted in order %v, want 0 1 2 3", order)
		}
	}
	if a.free != 1 || a.line.Len() != 0 {
		t.Errorf("after all left: %d free, %d in line; want 1 and 0", a.free, a.line.Len())
	}
}

// An operation waits MaxWait at most, then runs without a slot; one
// whose caller gave up stops waiting at once. Neither leaves a slot
// behind or takes one.
func TestAdmissionWaitIsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := newAdmission(AdmissionOptions{Slots: 1, MaxWait: 30 * time.Millisecond}, reg)
	if err != nil {
		t.Fatal(err)
	}
	holder := a.enter(context.Background())
	start := time.Now()
	late := a.enter(context.Background())
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Errorf("gave up after %s, before MaxWait", waited)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone := a.enter(ctx)
	late()
	gone()
	if a.free != 0 || a.line.Len() != 0 {
		t.Fatalf("while the holder runs: %d free, %d in line; want 0 and 0", a.free, a.line.Len())
	}
	holder()
	if a.free != 1 {
		t.Errorf("after the holder left: %d free, want 1", a.free)
	}
	// The one that waited it out counts as late; the one whose caller
	// gave up does not.
	if n := testutil.ToFloat64(a.late); n != 1 {
		t.Errorf("kassa_graphql_admission_late_total = %v, want 1", n)
	}
	if off, _ := newAdmission(AdmissionOptions{}, nil); off != nil {
		t.Error("no slots must turn admission off")
	}
	var off *admission
	off.enter(context.Background())() // off: admits at once
}

// Many operations entering and leaving, some giving up, never run more
// than the slots with a slot each, and give every slot back.
func TestAdmissionUnderLoad(t *testing.T) {
	const slots = 3
	a := mustAdmission(t, AdmissionOptions{Slots: slots, MaxWait: 2 * time.Millisecond})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				leave := a.enter(context.Background())
				a.mu.Lock()
				if a.free < 0 || a.free > slots {
					t.Errorf("%d slots free of %d", a.free, slots)
				}
				a.mu.Unlock()
				time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
				leave()
			}
		}()
	}
	wg.Wait()
	if a.free != slots || a.line.Len() != 0 {
		t.Errorf("after the load: %d free, %d in line; want %d and 0", a.free, a.line.Len(), slots)
	}
}

// A query received over HTTP waits in the server's line: with its one
// slot taken, the answer comes only once the slot is left (or MaxWait
// has passed).
func TestHTTPOperationsWaitInLine(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(resolver.Services{}, Options{Version: "test", Registerer: reg, Admission: AdmissionOptions{Slots: 1, MaxWait: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	holder := s.admit.enter(context.Background())
	done := make(chan int, 1)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ serverVersion }"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		done <- rec.Code
	}()
	inLine(t, s.admit, 1)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP kassa_graphql_admission_waiting GraphQL operations waiting in line for a slot.
# TYPE kassa_graphql_admission_waiting gauge
kassa_graphql_admission_waiting 1
`), "kassa_graphql_admission_waiting"); err != nil {
		t.Error(err)
	}
	select {
	case <-done:
		t.Fatal("the query ran while the only slot was taken")
	case <-time.After(20 * time.Millisecond):
	}
	holder()
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Errorf("status %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the query did not run once the slot was left")
	}
	if s.admit.free != 1 {
		t.Errorf("%d slots free after the query, want 1", s.admit.free)
	}
}
