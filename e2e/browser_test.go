package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Debian Chromium. Outside CI a machine without
// it skips; in CI (.ci/run installs it) a missing browser fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skip("chromium not installed (apt-get install -y chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// screenshotDir keeps screenshots for people to look at
// (e2e/screenshots, ignored by git).
func screenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := filepath.Join("screenshots")
	_ = os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGraphiQLRunsAQuery opens GraphiQL in Chromium, runs the default
// query and checks the result pane shows products: the embedded assets
// load without network access and the IDE talks to the API.
func TestGraphiQLRunsAQuery(t *testing.T) {
	dir := t.TempDir()
	kassa(t, dir, "seed", "demo")
	in := start(t, dir)
	defer in.stop()
	ctx := newBrowser(t)

	// Anything the page's Content-Security-Policy blocks is recorded, from
	// the first byte on: GraphiQL must run whole under it.
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`})
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(in.base+"/graphql"),
		chromedp.WaitVisible(`.graphiql-execute-button`),
		chromedp.Click(`.graphiql-execute-button`),
	)
	if err != nil {
		t.Fatalf("GraphiQL: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('.result-window') && document.querySelector('.result-window').innerText.includes('"handle"')`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("GraphiQL shows no result: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.Text(`.result-window`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, "graphiql.png", png)
	if !strings.Contains(result, `"products"`) || !strings.Contains(result, `"title"`) {
		t.Fatalf("result pane does not show products:\n%.500s", result)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) > 0 {
		t.Fatalf("the Content-Security-Policy blocked parts of GraphiQL: %v", violations)
	}
}
