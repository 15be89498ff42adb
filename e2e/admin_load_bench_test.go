package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// loadProbe runs before the admin's own scripts on every page: it times
// the orders query as the page's fetch sees it, and marks the moment the
// orders screen is usable (a row drawn and the search field enabled),
// both in milliseconds since the navigation started.
const loadProbe = `(() => {
  window.__bench = { ordersQueryMs: [], interactiveMs: null };
  const origFetch = window.fetch;
  window.fetch = async (input, init) => {
    const isOrders = typeof init?.body === "string" && init.body.includes("query Orders(");
    const t0 = performance.now();
    const res = await origFetch(input, init);
    if (isOrders) { await res.clone().text(); window.__bench.ordersQueryMs.push(performance.now() - t0); }
    return res;
  };
  const ready = () => {
    const row = document.querySelector(".order-link");
    const search = document.querySelector("#order-search");
    return row && row.getBoundingClientRect().height > 0 && search && !search.disabled;
  };
  new MutationObserver((_, obs) => {
    if (window.__bench.interactiveMs === null && ready()) {
      window.__bench.interactiveMs = performance.now();
      obs.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
})();`

// loadSample is one cold load of the orders screen.
type loadSample struct {
	InteractiveMs float64
	OrdersQueryMs []float64
	// Assets are the JavaScript and CSS the page fetched: bytes on the
	// wire (encodedBodySize, gzip) and decoded.
	Assets []struct {
		Name    string
		Encoded float64
		Decoded float64
	}
	DOMContentLoadedMs float64
}

// TestAdminOrdersFirstLoad measures the admin's orders screen for
// BENCHMARKS.md against a running shop (KASSA_ADMIN_BENCH_URL, signed in
// as KASSA_ADMIN_BENCH_EMAIL / KASSA_ADMIN_BENCH_PASSWORD, e.g. one seeded
// with `kassa seed orders --count 1000000`): five loads with the browser
// cache off, each timed from navigation start to the first order row
// drawn with the search field enabled, and the orders query as the page
// saw it. Skipped without the URL: it needs a shop the size of the figure.
func TestAdminOrdersFirstLoad(t *testing.T) {
	base := os.Getenv("KASSA_ADMIN_BENCH_URL")
	if base == "" {
		t.Skip("KASSA_ADMIN_BENCH_URL not set: no shop to measure")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium not installed")
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, os.Getenv("KASSA_ADMIN_BENCH_EMAIL")), chromedp.SendKeys(`#password`, os.Getenv("KASSA_ADMIN_BENCH_PASSWORD")),
		chromedp.Click(`#sign-in`), chromedp.WaitVisible(`#sign-out`))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	// Every run downloads the admin again, as a first visit does.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: loadProbe}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}

	var tti, query []float64
	for i := range 5 {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/orders")); err != nil {
			t.Fatalf("run %d: open the orders screen: %v", i+1, err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.__bench?.interactiveMs !== null && window.__bench?.ordersQueryMs.length > 0`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			t.Fatalf("run %d: the orders screen did not become usable: %v", i+1, err)
		}
		s, err := chromedp.Run(ctx, chromedp.Evaluate[loadSample](`({
			interactiveMs: window.__bench.interactiveMs,
			ordersQueryMs: window.__bench.ordersQueryMs,
			domContentLoadedMs: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
			assets: performance.getEntriesByType("resource").filter(r => /\.(js|css)$/.test(new URL(r.name).pathname))
				.map(r => ({ name: new URL(r.name).pathname, encoded: r.encodedBodySize, decoded: r.decodedBodySize })),
		})`))
		if err != nil {
			t.Fatal(err)
		}
		var enc, dec float64
		var names []string
		for _, a := range s.Assets {
			enc, dec = enc+a.Encoded, dec+a.Decoded
			names = append(names, a.Name)
		}
		if len(s.Assets) == 0 || enc == 0 {
			t.Fatalf("run %d: no JavaScript or CSS measured: %+v", i+1, s)
		}
		t.Logf("run %d: interactive %.0f ms (DOMContentLoaded %.0f ms), orders query %.0f ms; JS+CSS %.1f KB on the wire (gzip), %.1f KB decoded: %s",
			i+1, s.InteractiveMs, s.DOMContentLoadedMs, s.OrdersQueryMs[0], enc/1024, dec/1024, strings.Join(names, " "))
		tti = append(tti, s.InteractiveMs)
		query = append(query, s.OrdersQueryMs[0])
	}
	t.Logf("time to interactive: median %s, worst %s; orders query: median %s, worst %s", medianWorst(tti)[0], medianWorst(tti)[1], medianWorst(query)[0], medianWorst(query)[1])
}

// medianWorst formats the median and the largest of samples in ms.
func medianWorst(samples []float64) [2]string {
	s := slices.Sorted(slices.Values(samples))
	return [2]string{fmt.Sprintf("%.0f ms", s[len(s)/2]), fmt.Sprintf("%.0f ms", s[len(s)-1])}
}
