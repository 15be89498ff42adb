package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestStorefrontCatalog browses the demo shop's catalog in Chromium at a
// desktop and a phone width: home, a collection, a search and a product
// page render under the pages' Content-Security-Policy, nothing spills
// sideways on a phone, the variant picker is a plain form, and a chosen
// currency sticks from page to page. Screenshots go to
// e2e/screenshots/catalog-*.png for people to look at.
func TestStorefrontCatalog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kassa(t, dir, "seed", "demo")
	in := start(t, dir)
	defer in.stop()
	ctx := newBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}

	pages := []struct {
		name, path string
		// want is a CSS selector that must be on the page.
		want string
		// text must be in the page's visible text.
		text string
	}{
		{"home", "/", ".grid .card-product", "New arrivals"},
		{"collection", "/collections/tea", ".grid .card-product", "Tieguanyin Oolong"},
		{"search", "/search?q=oolong", ".grid .card-product", "Osmanthus Oolong"},
		{"search-empty", "/search?q=nothing-like-this", ".empty-state", "No results"},
		{"product", "/products/tieguanyin-oolong", `form.buy input[type=radio][name=variant]`, "Add to cart"},
	}
	for _, width := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"mobile", 390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width.w, width.h)); err != nil {
			t.Fatal(err)
		}
		for _, pg := range pages {
			name := fmt.Sprintf("catalog-%s-%s.png", pg.name, width.name)
			if err := chromedp.Do(ctx, chromedp.Navigate(in.base+pg.path), chromedp.WaitVisible(pg.want)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			text, err := chromedp.Run(ctx, chromedp.Text(`body`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, pg.text) {
				t.Errorf("%s: page lacks %q", name, pg.text)
			}
			// Nothing may be wider than the screen: a phone would scroll
			// sideways.
			overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if overflow {
				t.Errorf("%s: the page is wider than the %dpx screen", name, width.w)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			screenshot(t, name, png)
		}
	}

	// The variant picker works without JavaScript: radio buttons in a
	// form posting to /cart/add, sold-out variants disabled, one checked.
	form, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
		const f = document.querySelector("form.buy");
		const radios = [...f.querySelectorAll("input[name=variant]")];
		return {action: new URL(f.action).pathname, method: f.method, radios: radios.length,
			checked: radios.filter(r => r.checked).length, quantity: !!f.querySelector("input[name=quantity]"),
			disabledMarked: radios.filter(r => r.disabled).every(r => r.closest("label").classList.contains("off"))};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if form["action"] != "/cart/add" || form["method"] != "post" || form["radios"] != float64(3) || form["checked"] != float64(1) ||
		form["quantity"] != true || form["disabledMarked"] != true {
		t.Errorf("variant form %v", form)
	}

	// Choosing USD in the header is remembered on the next page.
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/collections/teaware"), chromedp.WaitVisible(`.currencies`),
		chromedp.Click(`.currencies a`), chromedp.WaitVisible(`.currencies strong`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/collections/tea"), chromedp.WaitVisible(`.card-price`)); err != nil {
		t.Fatal(err)
	}
	price, err := chromedp.Run(ctx, chromedp.Text(`.card-price`))
	if err != nil {
		t.Fatal(err)
	}
	current, err := chromedp.Run(ctx, chromedp.Text(`.currencies strong`))
	if err != nil {
		t.Fatal(err)
	}
	if current != "USD" || !strings.Contains(price, "$") {
		t.Errorf("after choosing USD: currency %q, price %q", current, price)
	}

	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) > 0 {
		t.Errorf("the Content-Security-Policy blocked parts of the catalog: %v", violations)
	}
}
