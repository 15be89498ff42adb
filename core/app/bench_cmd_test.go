package app_test

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/seed"
	"github.com/kassahq/kassa/core/testkit"
)

// TestBenchProducts runs `kassa bench products --uncached` against a demo
// shop served over HTTP with the default per-address rate limit: spread
// over loopback source addresses (the default) every request succeeds;
// from one address the bench soon meets the limit.
func TestBenchProducts(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		if _, err := seed.Demo(ctx, ta.DB, ta.Catalog, seed.Options{}); err != nil {
			t.Fatal(err)
		}
		report := regexp.MustCompile(`from (\d+) source addresses for 1s: (\d+) requests, \d+ req/s, p50 \S+, p90 \S+, p99 \S+, max \S+, errors (\d+)\n$`)
		tests := []struct {
			name       string
			args       []string
			sources    int
			wantErrors bool
		}{
			{"spread by default", []string{"--addresses", "200"}, 200, false},
			{"one address", []string{"--spread-addresses=false"}, 1, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var out, errOut bytes.Buffer
				args := append([]string{"bench", "products", "--url", ta.URL + "/graphql", "--uncached", "-c", "4", "-d", "1s"}, tc.args...)
				if code := app.Main(args, app.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}); code != 0 {
					t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
				}
				m := report.FindStringSubmatch(out.String())
				if m == nil {
					t.Fatalf("unexpected report: %q", out.String())
				}
				sources, _ := strconv.Atoi(m[1])
				requests, _ := strconv.Atoi(m[2])
				errors, _ := strconv.Atoi(m[3])
				if sources != tc.sources || requests == 0 || (errors > 0) != tc.wantErrors {
					t.Errorf("%d source addresses, %d requests, %d errors; want %d addresses, requests, errors %v:\n%s",
						sources, requests, errors, tc.sources, tc.wantErrors, out.String())
				}
			})
		}
	})
}

// TestBenchPages runs `kassa bench pages` against a demo shop's
// storefront: without --path it finds a product and a collection in the
// sitemap and reports each; a page that is not there is an error, not a
// report of failures.
func TestBenchPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		if _, err := seed.Demo(ctx, ta.DB, ta.Catalog, seed.Options{}); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		args := []string{"bench", "pages", "--url", ta.URL, "-c", "4", "-d", "1s", "--addresses", "50"}
		if code := app.Main(args, app.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}); code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
		}
		report := regexp.MustCompile(`(?m)^GET (/\S+) \((\d+) bytes of HTML\) at concurrency 4 from 50 source addresses for 1s: (\d+) requests, \d+ req/s, p50 \S+, p90 \S+, p99 \S+, max \S+, errors 0$`)
		pages := report.FindAllStringSubmatch(out.String(), -1)
		if len(pages) != 2 || !strings.HasPrefix(pages[0][1], "/products/") || !strings.HasPrefix(pages[1][1], "/collections/") {
			t.Fatalf("want a product and a collection page reported:\n%s", out.String())
		}
		for _, p := range pages {
			if n, _ := strconv.Atoi(p[3]); n == 0 {
				t.Errorf("%s: no requests", p[1])
			}
		}
		out.Reset()
		args = []string{"bench", "pages", "--url", ta.URL, "--path", "/products/no-such-thing", "-c", "1", "-d", "1s"}
		if code := app.Main(args, app.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}); code == 0 {
			t.Fatalf("a missing page was measured:\n%s", out.String())
		}
	})
}
