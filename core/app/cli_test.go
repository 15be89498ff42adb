package app

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseArgsInterspersed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantPos  []string
		wantFlag string
	}{
		{"flags first", []string{"--data-dir", "x", "up"}, []string{"up"}, "x"},
		{"flags after", []string{"up", "--data-dir", "y"}, []string{"up"}, "y"},
		{"between", []string{"seed", "--data-dir", "z", "demo"}, []string{"seed", "demo"}, "z"},
		{"double dash", []string{"a", "--", "--data-dir"}, []string{"a", "--data-dir"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			dir := fs.String("data-dir", "", "")
			pos, err := parseArgs(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pos, tt.wantPos) || *dir != tt.wantFlag {
				t.Fatalf("got %q %q, want %q %q", pos, *dir, tt.wantPos, tt.wantFlag)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	if got := redactURL("postgres://kassa:hunter2@db:5432/kassa"); got != "postgres://kassa:***@db:5432/kassa" {
		t.Fatalf("redactURL = %s", got)
	}
	if got := redactURLs("nats://a:pw1@n1:4222,nats://b:pw2@n2:4222"); got != "nats://a:***@n1:4222,nats://b:***@n2:4222" {
		t.Fatalf("redactURLs = %s", got)
	}
	if got := redactURL("data/kassa.db"); got != "data/kassa.db" {
		t.Fatalf("redactURL = %s", got)
	}
}
