package app

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchPages loads storefront pages (server-rendered, the in-process
// GraphQL included) with GET requests from concurrent buyers and reports
// throughput and latency per page. Without --path it measures the first
// product page and the first collection page the shop's sitemap lists.
func benchPages(ctx context.Context, args []string, out IO) error {
	fs := newFlagSet("bench pages", out, "Usage: kassa bench pages [--url URL] [--path /products/HANDLE]... [-c N] [-d D] [flags]\n\n"+
		"Loads storefront pages (rendered on the server, GraphQL in-process) with GET requests from -c concurrent\n"+
		"buyers for -d each, after a 2s warm-up, and reports requests a second and latency per page. Without\n"+
		"--path it measures the first product page and the first collection page of the shop's sitemap.\n")
	base := fs.String("url", "http://127.0.0.1:8080", "the storefront's base URL")
	var paths multiFlag
	fs.Var(&paths, "path", "a page to load, e.g. /products/tea (repeatable; default: the sitemap's first product and collection)")
	conc := fs.Int("c", 32, "concurrent buyers")
	dur := fs.Duration("d", 10*time.Second, "duration of each page's measurement (after a 2s warm-up)")
	lang := fs.String("lang", "en", "Accept-Language of the buyers")
	spread := fs.Bool("spread-addresses", true, "on an IPv4 loopback URL, send the requests from --addresses source addresses, as a shop's pages come from many buyers")
	addresses := fs.Int("addresses", 1000, fmt.Sprintf("with --spread-addresses: how many source addresses (at least -c, at most %d)", maxBenchAddresses))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *conc < 1 || *dur <= 0 || *addresses < 1 || *addresses > maxBenchAddresses {
		return fmt.Errorf("%w: -c and -d must be positive, --addresses from 1 to %d", errUsage, maxBenchAddresses)
	}
	root := strings.TrimRight(*base, "/")
	shares, sources, done := benchClients(root, *conc, *spread, *addresses)
	defer done()
	if len(paths) == 0 {
		found, err := sitemapPages(ctx, shares[0][0], root)
		if err != nil {
			return err
		}
		paths = found
	}
	for _, p := range paths {
		target := root + p
		get := func(c *http.Client) (int, error) { return benchGet(ctx, c, target, *lang) }
		size, err := get(shares[0][0])
		if err != nil {
			return fmt.Errorf("GET %s: %w", p, err)
		}
		benchLoad(ctx, *conc, 2*time.Second, shares, get)
		lat, fails := benchLoad(ctx, *conc, *dur, shares, get)
		if len(lat) == 0 {
			return fmt.Errorf("GET %s: no successful requests", p)
		}
		fmt.Fprintf(out.Stdout, "GET %s (%d bytes of HTML) at concurrency %d from %d source addresses for %s: %s\n",
			p, size, *conc, sources, *dur, latencyReport(lat, *dur, fails))
	}
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// benchClients gives each of conc workers the clients it takes turns
// with: on an IPv4 loopback URL with spread, one client per source
// address of its share (see benchTransport); otherwise one shared pool.
// done closes their idle connections.
func benchClients(target string, conc int, spread bool, addresses int) (shares [][]*http.Client, sources int, done func()) {
	shares = make([][]*http.Client, conc)
	var transports []*http.Transport
	if spread && isLoopbackIPv4(target) {
		sources = max(addresses, conc)
		for k := range sources {
			tr := benchTransport(k, true)
			transports = append(transports, tr)
			shares[k%conc] = append(shares[k%conc], &http.Client{Transport: tr, Timeout: 10 * time.Second})
		}
	} else {
		sources = 1
		tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
		transports = append(transports, tr)
		for i := range shares {
			shares[i] = []*http.Client{{Transport: tr, Timeout: 10 * time.Second}}
		}
	}
	return shares, sources, func() {
		for _, tr := range transports {
			tr.CloseIdleConnections()
		}
	}
}

// onOneP runs the load generator on one P until the function it returns
// is called, unless GOMAXPROCS is set in the environment. Its clients
// wait on the shop nearly all the time: one P runs them all, without the
// wake-ups of idle Ps (spinning threads, futex calls) that cost more CPU
// than the clients' own work and take it from the shop when both share
// a machine (bench products: 17 % less CPU, 4 to 7 % more grids a
// second; BENCHMARKS.md).
func onOneP() (restore func()) {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	prev := runtime.GOMAXPROCS(1)
	return func() { runtime.GOMAXPROCS(prev) }
}

// benchLoad runs once from conc workers for d and returns the latencies
// of the successful calls and the number of failed ones.
func benchLoad(ctx context.Context, conc int, d time.Duration, shares [][]*http.Client, once func(*http.Client) (int, error)) ([]time.Duration, int64) {
	defer onOneP()()
	var (
		mu    sync.Mutex
		lat   []time.Duration
		fails atomic.Int64
		wg    sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for turn := 0; time.Now().Before(deadline) && ctx.Err() == nil; turn++ {
				start := time.Now()
				if _, err := once(shares[i][turn%len(shares[i])]); err != nil {
					fails.Add(1)
					continue
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat, fails.Load()
}

// latencyReport is "N requests, R req/s, p50 …, p90 …, p99 …, max …, errors E".
func latencyReport(lat []time.Duration, d time.Duration, fails int64) string {
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)].Round(10 * time.Microsecond) }
	return fmt.Sprintf("%d requests, %.0f req/s, p50 %s, p90 %s, p99 %s, max %s, errors %d",
		len(lat), float64(len(lat))/d.Seconds(), pct(.50), pct(.90), pct(.99), lat[len(lat)-1].Round(10*time.Microsecond), fails)
}

// benchGet fetches a page and returns its size; anything but a 200 with a
// body is a failure.
func benchGet(ctx context.Context, c *http.Client, target, lang string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept-Language", lang)
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK || n == 0 {
		return 0, fmt.Errorf("status %d, %d bytes", res.StatusCode, n)
	}
	return int(n), nil
}

// sitemapPages returns the paths of the first product and the first
// collection in the storefront's sitemap.xml.
func sitemapPages(ctx context.Context, c *http.Client, root string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, root+"/sitemap.xml", nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var sm struct {
		URLs []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
	}
	if err := xml.NewDecoder(io.LimitReader(res.Body, 32<<20)).Decode(&sm); err != nil {
		return nil, fmt.Errorf("sitemap.xml: %w", err)
	}
	var paths []string
	for _, prefix := range []string{"/products/", "/collections/"} {
		for _, u := range sm.URLs {
			if p, err := url.Parse(u.Loc); err == nil && strings.HasPrefix(p.Path, prefix) {
				paths = append(paths, p.Path)
				break
			}
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("the sitemap lists no product or collection: seed the shop (kassa seed demo) or name pages with --path")
	}
	return paths, nil
}
