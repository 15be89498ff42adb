package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

func init() {
	commands["bench"] = command{"measure a running shop: products, pages, checkout-cart, checkout, startup", runBench}
}

const benchUsage = `Usage: kassa bench <benchmark> [flags]

Measures a running shop; BENCHMARKS.md records the figures and the commands behind them.

Benchmarks:
  products        GraphQL load: the storefront's product grid query, concurrent clients
  pages           storefront pages: the sitemap's first product and collection page, or --path
  checkout-cart   guests checking out carts over GraphQL: orders/s, errors, latency per step
  checkout        guests checking out and paying with testpay, until the order is PAID:
                  checkouts/s, errors, latency per step
  startup         kassa serve on a data directory: time to /readyz and idle memory

Run kassa bench <benchmark> --help for its flags.
`

// productListQuery is the storefront's product grid: 24 products with
// variants, prices and stock.
const productListQuery = `query ProductGrid($first: Int!, $currency: String!) {
  products(first: $first, currency: $currency) {
    edges { node { id handle title
      variants { id sku title selectedOptions { name value } price { amount currencyCode } availableQuantity }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`

func runBench(ctx context.Context, args []string, io IO) error {
	if len(args) == 0 || isHelp(args[0]) {
		return actionHelp(args, io, benchUsage, "name a benchmark")
	}
	switch args[0] {
	case "products":
		return benchProducts(ctx, args[1:], io)
	case "pages":
		return benchPages(ctx, args[1:], io) // bench_pages.go
	case "startup":
		return benchStartup(ctx, args[1:], io)
	case "checkout-cart":
		return benchCheckoutCart(ctx, args[1:], io) // bench_checkout.go
	case "checkout":
		return benchCheckout(ctx, args[1:], io) // bench_checkout.go
	}
	return fmt.Errorf("%w: unknown benchmark %q (products, pages, checkout-cart, checkout, startup)", errUsage, args[0])
}

// benchProducts loads /graphql with the product grid query from a fixed
// number of concurrent clients and reports throughput and latency
// percentiles. Only loopback targets are sensible: the point is to
// measure the server, not the network. On an IPv4 loopback URL the
// requests come from many source addresses (see benchTransport), as a
// shop's grids come from many buyers: from one address the API's
// per-address cost budget (graphql.DefaultRateLimit, about ten uncached
// grids a second) would be measured instead of the server.
func benchProducts(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("bench products", io, "Usage: kassa bench products [--url URL] [-c N] [-d D] [flags]\n\n"+
		"Loads /graphql with the storefront's product grid query (products with variants, prices and stock)\n"+
		"from -c concurrent clients for -d, after a 2s warm-up, and reports requests a second and latency\n"+
		"percentiles. Run it on the shop's machine, against a loopback URL: it measures the server, not the network.\n")
	target := fs.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint to load")
	conc := fs.Int("c", 32, "concurrent clients")
	dur := fs.Duration("d", 10*time.Second, "duration of the measurement (after a 2s warm-up)")
	first := fs.Int("first", 24, "products per request")
	currency := fs.String("currency", "CNY", "price currency")
	uncached := fs.Bool("uncached", false, "make every request miss the response cache (an unused variable that changes each time)")
	spread := fs.Bool("spread-addresses", true, "on an IPv4 loopback URL, send the requests from --addresses source addresses (127.0.x.y), each client taking its turn through its share, as a shop's requests come from many buyers: the API's per-address rate limit then limits each address, not the bench as a whole")
	addresses := fs.Int("addresses", 1000, fmt.Sprintf("with --spread-addresses: how many source addresses (at least -c, at most %d); each should stay under about ten uncached grids a second", maxBenchAddresses))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *conc < 1 || *dur <= 0 || *addresses < 1 || *addresses > maxBenchAddresses {
		return fmt.Errorf("%w: -c and -d must be positive, --addresses from 1 to %d", errUsage, maxBenchAddresses)
	}
	body, _ := json.Marshal(map[string]any{"query": productListQuery, "variables": map[string]any{"first": *first, "currency": *currency}})
	var nonce atomic.Int64
	bodyFor := func() []byte {
		if !*uncached {
			return body
		}
		b, _ := json.Marshal(map[string]any{"query": productListQuery, "variables": map[string]any{"first": *first, "currency": *currency, "nonce": nonce.Add(1)}})
		return b
	}
	shares, sources, done := benchClients(*target, *conc, *spread, *addresses)
	defer done()

	// Check the query works before measuring.
	if err := benchOnce(ctx, shares[0][0], *target, body); err != nil {
		return err
	}
	post := func(c *http.Client) (int, error) { return 0, benchOnce(ctx, c, *target, bodyFor()) }
	benchLoad(ctx, *conc, 2*time.Second, shares, post)
	lat, fails := benchLoad(ctx, *conc, *dur, shares, post)
	if len(lat) == 0 {
		return errors.New("no successful requests")
	}
	mode := "cached"
	if *uncached {
		mode = "uncached"
	}
	fmt.Fprintf(io.Stdout, "products(first: %d, %s) at concurrency %d from %d source addresses for %s: %s\n",
		*first, mode, *conc, sources, *dur, latencyReport(lat, *dur, fails))
	return nil
}

func benchOnce(ctx context.Context, c *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) {
		return fmt.Errorf("status %d: %.300s", res.StatusCode, b)
	}
	return nil
}

// benchStartup starts `kassa serve` on the configured data directory and
// a free loopback port several times, measuring process start to the first
// 200 from /readyz, then the resident memory after the instance idles.
func benchStartup(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("bench startup", io, "Usage: kassa bench startup [--runs N] [--idle D] [flags]\n\n"+
		"Starts kassa serve on the data directory (and database, NATS) given, on a free loopback port, --runs\n"+
		"times: reports the time from process start to the first 200 of /readyz, and the resident memory\n"+
		"after --idle. Stop the shop's own server first: one kassa serve per data directory.\n",
		"data-dir", "database-url", "nats-url")
	runs := fs.Int("runs", 5, "number of starts")
	idle := fs.Duration("idle", 3*time.Second, "idle time before reading memory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var starts []time.Duration
	var rss []int64
	for i := 0; i < *runs; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.CommandContext(ctx, self, "serve", "--data-dir", cfg.DataDir, "--http-addr", addr, "--log-level", "warn")
		cmd.Env = os.Environ()
		if cfg.DatabaseURL != "" {
			cmd.Args = append(cmd.Args, "--database-url", cfg.DatabaseURL)
		}
		if cfg.NATSURL != "" {
			cmd.Args = append(cmd.Args, "--nats-url", cfg.NATSURL)
		}
		cmd.Stderr = io.Stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		ready := false
		for time.Since(start) < 30*time.Second {
			res, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					ready = true
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		took := time.Since(start)
		if !ready {
			_ = cmd.Process.Kill()
			return fmt.Errorf("instance did not become ready within 30s")
		}
		time.Sleep(*idle)
		kb, _ := rssKB(cmd.Process.Pid)
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		starts = append(starts, took)
		rss = append(rss, kb)
		fmt.Fprintf(io.Stdout, "run %d: ready in %s, idle RSS %.1f MB\n", i+1, took.Round(time.Millisecond), float64(kb)/1024)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	fmt.Fprintf(io.Stdout, "start-up to /readyz: median %s (min %s, max %s); idle RSS median %.1f MB\n",
		starts[len(starts)/2].Round(time.Millisecond), starts[0].Round(time.Millisecond), starts[len(starts)-1].Round(time.Millisecond),
		float64(rss[len(rss)/2])/1024)
	return nil
}

// rssKB reads a process's resident set size from /proc (Linux).
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("no VmRSS")
}
