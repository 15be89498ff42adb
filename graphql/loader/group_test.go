package loader_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kassahq/kassa/graphql/loader"
)

// recorder is a fetch function that remembers every batch it was asked.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	calls   atomic.Int32
}

func (r *recorder) fetch(_ context.Context, keys []int) (map[int]string, error) {
	r.calls.Add(1)
	r.mu.Lock()
	r.batches = append(r.batches, slices.Sorted(slices.Values(keys)))
	r.mu.Unlock()
	out := make(map[int]string, len(keys))
	for _, k := range keys {
		if k >= 0 {
			out[k] = fmt.Sprint("v", k)
		}
	}
	return out, nil
}

func TestGroupFetchesWantedSiblingsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &recorder{}
	g := loader.NewGroup(rec.fetch)
	keys := make([]int, 50)
	for i := range keys {
		keys[i] = i
	}
	g.Want(keys...)
	// Fifty concurrent children: one fetch, everybody gets their value.
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := g.Get(ctx, k)
			if err != nil || v != fmt.Sprint("v", k) {
				t.Errorf("Get(%d) = %q, %v", k, v, err)
			}
		}()
	}
	wg.Wait()
	if rec.calls.Load() != 1 || len(rec.batches[0]) != 50 {
		t.Fatalf("batches = %v, want one of 50 keys", rec.batches)
	}
	// Cached: no more fetches; a key nobody wanted is fetched on its own.
	if v, _ := g.Get(ctx, 7); v != "v7" {
		t.Fatalf("cached Get = %q", v)
	}
	if v, _ := g.Get(ctx, 99); v != "v99" || rec.calls.Load() != 2 || !slices.Equal(rec.batches[1], []int{99}) {
		t.Fatalf("unwanted key: %q, batches %v", v, rec.batches)
	}
	// A key the fetch does not answer has the zero value.
	if v, err := g.Get(ctx, -1); v != "" || err != nil {
		t.Fatalf("missing key = %q, %v", v, err)
	}
}

func TestGroupTakesPendingKeysAlong(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	g := loader.NewGroup(rec.fetch)
	g.Want(1, 2, 3)
	if _, err := g.Get(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec.batches[0], []int{1, 2, 3, 10}) {
		t.Fatalf("batch = %v, want the wanted keys with the asked one", rec.batches[0])
	}
}

func TestGroupErrorsAndPanics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	boom := errors.New("boom")
	g := loader.NewGroup(func(context.Context, []string) (map[string]int, error) { return nil, boom })
	g.Want("a", "b")
	if _, err := g.Get(ctx, "b"); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if _, err := g.Get(ctx, "a"); !errors.Is(err, boom) {
		t.Fatalf("sibling err = %v, want boom", err)
	}
	p := loader.NewGroup(func(context.Context, []string) (map[string]int, error) { panic("bug") })
	if _, err := p.Get(ctx, "x"); err == nil {
		t.Fatal("a panicking fetch gave no error")
	}
}

func TestGroupHonoursCancellation(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{})
	g := loader.NewGroup(func(context.Context, []int) (map[int]int, error) {
		close(started)
		<-release
		return nil, nil
	})
	g.Want(1, 2)
	go g.Get(context.Background(), 1) //nolint:errcheck // only starts the fetch
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Get(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	close(release)
}

func TestGroupLoadThenCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &recorder{}
	g := loader.NewGroup(rec.fetch)
	if _, ok := g.Cached(1); ok {
		t.Fatal("Cached answered before any fetch")
	}
	g.Want(7, 8)
	// The asked keys and the wanted ones: one fetch.
	if err := g.Load(ctx, 1, 2, 2, 3); err != nil {
		t.Fatal(err)
	}
	if rec.calls.Load() != 1 || !slices.Equal(rec.batches[0], []int{1, 2, 3, 7, 8}) {
		t.Fatalf("batches = %v, want one of 1 2 3 7 8", rec.batches)
	}
	for _, k := range []int{1, 2, 3, 7, 8} {
		if v, ok := g.Cached(k); !ok || v != fmt.Sprint("v", k) {
			t.Fatalf("Cached(%d) = %q, %v", k, v, ok)
		}
	}
	// Loaded keys are not fetched again; new ones are, alone.
	if err := g.Load(ctx, 2, 3, 4); err != nil {
		t.Fatal(err)
	}
	if rec.calls.Load() != 2 || !slices.Equal(rec.batches[1], []int{4}) {
		t.Fatalf("batches = %v, want a second one of 4", rec.batches)
	}
	// A key the fetch does not answer is cached as the zero value.
	if err := g.Load(ctx, -5); err != nil {
		t.Fatal(err)
	}
	if v, ok := g.Cached(-5); !ok || v != "" {
		t.Fatalf("Cached(-5) = %q, %v; want the zero value, cached", v, ok)
	}
	if err := g.Load(ctx); err != nil || rec.calls.Load() != 3 {
		t.Fatalf("Load of nothing: %v, %d calls", err, rec.calls.Load())
	}
}

func TestGroupLoadWaitsForTheBatchInFlight(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int32
	g := loader.NewGroup(func(_ context.Context, keys []int) (map[int]int, error) {
		if calls.Add(1) == 1 {
			close(started)
			<-release
		}
		out := map[int]int{}
		for _, k := range keys {
			out[k] = k * 10
		}
		return out, nil
	})
	done := make(chan error)
	go func() { done <- g.Load(context.Background(), 1, 2) }()
	<-started
	if _, ok := g.Cached(1); ok {
		t.Fatal("Cached answered while the batch was in flight")
	}
	second := make(chan error)
	go func() { second <- g.Load(context.Background(), 2) }()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if v, ok := g.Cached(2); !ok || v != 20 || calls.Load() != 1 {
		t.Fatalf("Cached(2) = %d, %v after %d fetches; want 20 from one", v, ok, calls.Load())
	}
	// A cancelled caller stops waiting for someone else's batch.
	block, fetching := make(chan struct{}), make(chan struct{})
	slow := loader.NewGroup(func(context.Context, []int) (map[int]int, error) {
		close(fetching)
		<-block
		return nil, nil
	})
	go slow.Load(context.Background(), 1) //nolint:errcheck // only starts the fetch
	<-fetching
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := slow.Load(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	close(block)
}

func TestGroupLoadErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	g := loader.NewGroup(func(context.Context, []string) (map[string]int, error) { return nil, boom })
	if err := g.Load(context.Background(), "a", "b"); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	// The failed keys stay failed: Load says so, Cached has nothing.
	if err := g.Load(context.Background(), "b"); !errors.Is(err, boom) {
		t.Fatalf("second err = %v, want boom", err)
	}
	if _, ok := g.Cached("a"); ok {
		t.Fatal("Cached answered a failed key")
	}
}
