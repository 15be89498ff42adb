package plugin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kassahq/kassa/core/payment"
)

// TestTestpayPageInBrowser is the buyer's side of a redirect payment: the
// simulated payment page that Kassa serves for testpay opens in Chromium,
// looks like a payment page, and clicking Pay makes the attempt succeed at
// the gateway and sends the buyer back to the shop.
func TestTestpayPageInBrowser(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skip("chromium not installed (apt-get install -y chromium)")
	}
	// The page's form posts to the shop's public URL: start the server
	// first so the plugin host knows it.
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	base := "http://" + srv.Listener.Addr().String()
	e := sqliteEnv(t, func(o *Options) { o.BaseURL = base })
	const id = "payment.testpay"
	if _, err := e.svc.Install(ctx(), testpayBin, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateSettings(ctx(), id, []byte(`{"webhook_secret":"whsec_browser_test_secret"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Enable(ctx(), id); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/plugins/", e.svc.HTTPHandler())
	mux.HandleFunc("/return", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<!doctype html><title>Back at the shop</title><h1>Back at the shop</h1>"))
	})
	srv.Start()
	defer srv.Close()

	gw, err := e.svc.Gateway(ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	out, err := gw.CreatePayment(ctx(), payment.CreateRequest{
		AttemptID: "pay_browser", OrderID: "ord_browser", OrderNumber: "#1042", Amount: eur(4990),
		IdempotencyKey: "pay_browser", ReturnURL: srv.URL + "/return", PluginBaseURL: srv.URL + "/plugins/" + id,
		PaymentMethod: "4000000000003220",
	})
	if err != nil || out.Action.Type != payment.ActionRedirect {
		t.Fatalf("CreatePayment = %+v, %v", out, err)
	}

	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1024, 768))
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Do(bctx, chromedp.Navigate(out.Action.URL), chromedp.WaitVisible(`#pay`)); err != nil {
		t.Fatalf("open payment page: %v", err)
	}
	title, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("KASSA_SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "testpay-page.png"), png, 0o644)
	}
	if title == "" {
		t.Fatal("payment page has no title")
	}
	// Issue 7: the page runs in an opaque origin and cannot reach the
	// shop's API: no origin of the shop's, no cookies, no fetch.
	origin, err := chromedp.Run(bctx, chromedp.Evaluate[string](`self.origin`))
	if err != nil || origin != "null" {
		t.Fatalf("the plugin page runs in origin %q (%v), want the opaque origin \"null\"", origin, err)
	}
	probe, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => { try { document.cookie; return "cookie readable"; } catch (e) { return "no cookie"; } })()`))
	if err != nil || probe != "no cookie" {
		t.Fatalf("document.cookie in the plugin page: %q (%v)", probe, err)
	}
	fetched, err := chromedp.Run(bctx, chromedp.Evaluate[string](`fetch("/graphql", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}).then(() => "reached", () => "blocked")`, chromedp.EvalAwaitPromise))
	if err != nil || fetched != "blocked" {
		t.Fatalf("fetch /graphql from the plugin page: %q (%v), want blocked", fetched, err)
	}
	if err := chromedp.Do(bctx, chromedp.Click(`#pay`)); err != nil {
		t.Fatalf("click Pay: %v", err)
	}
	// The page posts, then redirects; evaluating during a navigation
	// fails, so ask again until the browser has arrived.
	deadline := time.Now().Add(15 * time.Second)
	for {
		path, err := chromedp.Run(bctx, chromedp.Evaluate[string](`location.pathname`))
		if err == nil && path == "/return" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the buyer was not sent back to the shop (at %q, %v)", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	back, err := chromedp.Run(bctx, chromedp.Text(`h1`))
	if err != nil || back != "Back at the shop" {
		t.Fatalf("after paying the buyer is at %q (%v), want the shop's return page", back, err)
	}
	got, err := gw.GetPayment(ctx(), payment.GetRequest{AttemptID: "pay_browser", GatewayRef: out.GatewayRef})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != payment.StatusSucceeded {
		t.Fatalf("after Pay the gateway says %s, want SUCCEEDED", got.Status)
	}
}
