package app

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	tests := []struct {
		name string
		gogc string
		set  int // what tuneGC reports
		want int // the percent in effect afterwards
	}{
		{"unset: the server's target", "", serverGCPercent, serverGCPercent},
		{"the operator's GOGC stands", "150", 0, 100},
		{"GOGC=off stands", "off", 0, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			got := tuneGC(func(k string) string {
				if k == "GOGC" {
					return tt.gogc
				}
				return ""
			})
			if got != tt.set {
				t.Errorf("tuneGC = %d, want %d", got, tt.set)
			}
			if now := debug.SetGCPercent(100); now != tt.want {
				t.Errorf("GC percent after tuneGC = %d, want %d", now, tt.want)
			}
		})
	}
}

func TestGraphQLSlots(t *testing.T) {
	cpus := runtime.GOMAXPROCS(0)
	for _, tt := range []struct{ setting, want int }{
		{0, 4 * cpus}, {12, 12}, {1, 1},
	} {
		if got := graphqlSlots(tt.setting); got != tt.want {
			t.Errorf("graphqlSlots(%d) = %d, want %d", tt.setting, got, tt.want)
		}
	}
}
