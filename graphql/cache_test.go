package graphql

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestResponseCacheBounds(t *testing.T) {
	t.Parallel()
	c := newResponseCache(CacheOptions{TTL: time.Minute, MaxBytes: 8 << 10}, nil)
	key := func(i int) [32]byte { var k [32]byte; k[0], k[1] = byte(i), byte(i>>8); return k }
	answer := json.RawMessage(`{"a":"` + strings.Repeat("x", 900) + `"}`)
	for i := 0; i < 100; i++ {
		c.put(key(i), c.gen.Load(), answer)
		if c.size > 8<<10 {
			t.Fatalf("after %d answers the cache holds %d bytes, over its 8 KiB bound", i+1, c.size)
		}
	}
	if _, ok := c.get(key(99)); !ok {
		t.Fatal("the newest answer is not cached")
	}
	// An answer larger than an eighth of the bound is not kept.
	big := json.RawMessage(`"` + strings.Repeat("y", 2<<10) + `"`)
	c.put(key(500), c.gen.Load(), big)
	if _, ok := c.get(key(500)); ok {
		t.Fatal("an oversized answer was cached")
	}
	// An answer computed before an invalidation is not stored after it.
	gen := c.gen.Load()
	c.invalidate()
	c.put(key(600), gen, answer)
	if _, ok := c.get(key(600)); ok || c.size != 0 {
		t.Fatal("a stale answer was cached after an invalidation")
	}
}
