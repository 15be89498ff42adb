package app

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"slices"
	"strings"
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

// The serve banner lists GraphiQL only where it is served, and warns of
// a production shop on plain http (an outside review: cookies then go
// without Secure, and nothing said so).
func TestServeBanner(t *testing.T) {
	for _, c := range []struct {
		name       string
		production bool
		base       string
		graphiql   bool
		warned     bool
	}{
		{"development", false, "http://127.0.0.1:8080", true, false},
		{"production over http", true, "http://shop.example", false, true},
		{"production over https", true, "https://shop.example", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, logs bytes.Buffer
			serveBanner(&out, slog.New(slog.NewTextHandler(&logs, nil)), c.production, c.base)
			if got := strings.Contains(out.String(), "GraphiQL"); got != c.graphiql {
				t.Errorf("GraphiQL listed %v, want %v:\n%s", got, c.graphiql, out.String())
			}
			if got := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "https public URL"); got != c.warned {
				t.Errorf("warned %v, want %v: %s", got, c.warned, logs.String())
			}
		})
	}
}
