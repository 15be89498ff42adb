package memo

import (
	"errors"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
)

func TestCache(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC))
	loads := 0
	load := func(v int) func() (int, error) {
		return func() (int, error) { loads++; return v, nil }
	}
	tests := []struct {
		name      string
		do        func(c *Cache[string, int]) (int, error)
		want      int
		wantLoads int
		wantErr   bool
	}{
		{"first read loads", func(c *Cache[string, int]) (int, error) { return c.Get("CN", load(1)) }, 1, 1, false},
		{"fresh entry answers from memory", func(c *Cache[string, int]) (int, error) {
			c.Get("CN", load(1))
			clk.Advance(9 * time.Second)
			return c.Get("CN", load(2))
		}, 1, 1, false},
		{"stale entry loads again", func(c *Cache[string, int]) (int, error) {
			c.Get("CN", load(1))
			clk.Advance(10 * time.Second)
			return c.Get("CN", load(2))
		}, 2, 2, false},
		{"keys are apart", func(c *Cache[string, int]) (int, error) {
			c.Get("CN", load(1))
			return c.Get("US", load(2))
		}, 2, 2, false},
		{"invalidate forgets", func(c *Cache[string, int]) (int, error) {
			c.Get("CN", load(1))
			c.Invalidate()
			return c.Get("CN", load(2))
		}, 2, 2, false},
		{"a read overtaken by invalidate is not kept", func(c *Cache[string, int]) (int, error) {
			c.Get("CN", func() (int, error) { loads++; c.Invalidate(); return 1, nil })
			return c.Get("CN", load(2))
		}, 2, 2, false},
		{"an error is not kept", func(c *Cache[string, int]) (int, error) {
			if _, err := c.Get("CN", func() (int, error) { loads++; return 0, errors.New("down") }); err == nil {
				t.Error("the load's error was lost")
			}
			return c.Get("CN", load(2))
		}, 2, 2, false},
		{"ttl 0 always loads", func(c *Cache[string, int]) (int, error) {
			z := New[string, int](0, clk)
			z.Get("CN", load(1))
			return z.Get("CN", load(2))
		}, 2, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loads = 0
			got, err := tt.do(New[string, int](10*time.Second, clk))
			if (err != nil) != tt.wantErr || got != tt.want || loads != tt.wantLoads {
				t.Errorf("got %d, %v after %d loads; want %d after %d", got, err, loads, tt.want, tt.wantLoads)
			}
		})
	}
}
