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
