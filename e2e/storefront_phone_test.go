package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// phoneAudit looks at the page as a buyer on a small touch screen and a
// screen reader would, and returns what is wrong with it:
//   - the page scrolls sideways, or a control sticks out of <main>;
//   - a field under 16px (iOS Safari zooms the page into it);
//   - a control under 44px tall (links inside a sentence aside);
//   - a field without a label, an invalid field without its message;
//   - a button's wrapped text not centred;
//   - two buttons of the same name (which line does "Remove" remove?);
//   - a picture inside a link repeating the link's text;
//   - a struck-out price a screen reader reads as a second price;
//   - text under 4.5:1 (3:1 when large) against its background;
//   - the <html> without the page's language.
const phoneAudit = `((lang) => {
  const out = [];
  const vw = window.innerWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + JSON.stringify((el.textContent || el.value || "").trim().replace(/\s+/g, " ").slice(0, 40));
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.right > 0 && getComputedStyle(el).visibility !== "hidden"; };
  if (document.documentElement.lang !== lang) out.push("html lang is " + JSON.stringify(document.documentElement.lang));
  if (document.documentElement.scrollWidth > vw) out.push("the page scrolls sideways: " + document.documentElement.scrollWidth + "px on a " + vw + "px screen");
  const main = document.querySelector("main");
  const edge = main.getBoundingClientRect().right - parseFloat(getComputedStyle(main).paddingRight) + 1;
  for (const el of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea")) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (main.contains(el) && r.right > edge) out.push(name(el) + " sticks out of the page's column");
    if (el.matches("input, select, textarea") && !["radio", "checkbox"].includes(el.type)) {
      if (parseFloat(cs.fontSize) < 16) out.push(name(el) + " is " + cs.fontSize + ": iOS zooms into it");
      if (!(el.labels && el.labels.length) && !el.getAttribute("aria-label")) out.push(name(el) + " has no label");
    }
    if (el.getAttribute("aria-invalid") === "true") {
      const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (!ids.length || !ids.every(id => document.getElementById(id))) out.push(name(el) + " is invalid without a message tied to it");
    }
    let h = r.height;
    if (["radio", "checkbox"].includes(el.type) && el.closest("label")) h = el.closest("label").getBoundingClientRect().height;
    const inline = el.tagName === "A" && cs.display === "inline";
    if (h < 44 && !inline && !el.classList.contains("skip")) out.push(name(el) + " is " + Math.round(h) + "px tall, under 44px");
    if (el.matches(".button, .co-button") && cs.textAlign !== "center") out.push(name(el) + " is a button whose text, wrapped, would not be centred");
  }
  for (const el of document.querySelectorAll(".field-error")) {
    if (!el.id || !document.querySelector("[aria-describedby~='" + el.id + "']")) out.push("error " + name(el) + " is tied to no field");
  }
  const buttons = {};
  for (const el of main.querySelectorAll("button")) {
    const n = (el.getAttribute("aria-label") || el.textContent).trim().replace(/\s+/g, " ");
    if (!n) out.push(name(el) + " has no name");
    else if (buttons[n]) out.push("two buttons are named " + JSON.stringify(n));
    buttons[n] = true;
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) { out.push("img " + img.src + " has no alt"); continue; }
    const a = img.closest("a");
    if (a && img.alt && a.textContent.includes(img.alt)) out.push("the picture in " + name(a) + " repeats its text");
  }
  for (const s of document.querySelectorAll("s")) {
    if (!s.querySelector(".visually-hidden")) out.push("struck-out price " + name(s) + " is read as a price");
  }
  const rgb = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = c => { const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  for (const el of document.querySelectorAll("body *")) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) || !shown(el)) continue;
    if (el.closest(".visually-hidden, .co-sr, .skip, [disabled]")) continue;
    let opacity = 1, bg = null;
    for (let p = el; p; p = p.parentElement) {
      const ps = getComputedStyle(p);
      opacity *= Number(ps.opacity);
      const b = rgb(ps.backgroundColor);
      if (!bg && b && b[3] > 0.5) bg = b;
    }
    bg = bg || [255, 255, 255, 1];
    const cs = getComputedStyle(el), fg = rgb(cs.color), a = fg[3] * opacity;
    const mixed = [0, 1, 2].map(i => fg[i] * a + bg[i] * (1 - a));
    const l1 = lum(mixed), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize), large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) out.push(name(el) + " has a contrast of " + ratio.toFixed(2) + ":1");
  }
  return out;
})`

// englishOnly is the storefront's English text that its Chinese says
// otherwise: shown on a Chinese page, it was not translated.
func englishOnly(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../storefront/i18n/*en.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("catalogs: %v", err)
	}
	read := func(file string) map[string]string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return m
	}
	english := map[string]bool{}
	for _, f := range files {
		zh := read(strings.TrimSuffix(f, "en.json") + "zh-CN.json")
		for k, v := range read(f) {
			if v != zh[k] && !strings.Contains(v, "%") {
				english[v] = true
			}
		}
	}
	return english
}

// phoneTab is a buyer's browser on a 320px touch screen, in one
// language, auditing each page it comes to.
type phoneTab struct {
	t       *testing.T
	ctx     context.Context
	base    string
	lang    string
	english map[string]bool
}

func newPhoneTab(t *testing.T, base, lang string, english map[string]bool) *phoneTab {
	t.Helper()
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(320, 640, chromedp.EmulateScale(2), chromedp.EmulateTouch),
		chromedp.Navigate(base+"/?lang="+lang), chromedp.WaitVisible(`.grid`)); err != nil {
		t.Fatal(err)
	}
	return &phoneTab{t: t, ctx: ctx, base: base, lang: lang, english: english}
}

// do runs the actions, then audits the page they lead to (phoneAudit),
// looks for English left on a Chinese page and takes a screenshot.
func (p *phoneTab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", step, err)
	}
	problems, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](phoneAudit+`(`+jsString(p.lang)+`)`))
	if err != nil {
		p.t.Fatalf("%s: %v", step, err)
	}
	for _, s := range problems {
		p.t.Errorf("%s: %s", step, s)
	}
	if p.lang != "en" {
		texts, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].flatMap(e => [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim())).concat([...document.querySelectorAll("[placeholder], [aria-label]")].map(e => e.getAttribute("placeholder") || e.getAttribute("aria-label")))`))
		if err != nil {
			p.t.Fatal(err)
		}
		for _, s := range texts {
			if p.english[s] {
				p.t.Errorf("%s: %q is not translated", step, s)
			}
		}
	}
	shot(p.t, p.ctx, "phone-"+p.lang+"-"+strings.ReplaceAll(step, " ", "-")+".png")
}

// errorSummary checks that a form posted with mistakes opens with a
// summary of them on top, an alert for a screen reader, linking to each
// invalid field in the form's order: on a phone the fields in error may
// all be below the fold.
func (p *phoneTab) errorSummary(step string) {
	p.t.Helper()
	got, err := chromedp.Run(p.ctx, chromedp.Evaluate[map[string]any](`(() => {
		const s = document.getElementById("field-errors");
		return {role: s ? s.getAttribute("role") : "", top: s ? s.getBoundingClientRect().top < innerHeight : false,
			links: s ? [...s.querySelectorAll("a")].map(a => a.getAttribute("href")) : [],
			invalid: [...document.querySelectorAll("[aria-invalid=true]")].map(e => "#" + e.id)};
	})()`))
	if err != nil {
		p.t.Fatal(err)
	}
	if got["role"] != "alert" || got["top"] != true || fmt.Sprint(got["links"]) != fmt.Sprint(got["invalid"]) || len(got["invalid"].([]any)) == 0 {
		p.t.Errorf("%s: the error summary is %v", step, got)
	}
}

// nameOrder checks that the form asks for a name in the order of the
// page's language: given name first in English, family name (姓) first
// in Chinese.
func (p *phoneTab) nameOrder(step string) {
	p.t.Helper()
	got, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#f-firstName, #f-lastName")].map(e => e.id).join(" ")`))
	if err != nil {
		p.t.Fatal(err)
	}
	want := "f-firstName f-lastName"
	if p.lang == "zh-CN" {
		want = "f-lastName f-firstName"
	}
	if got != want {
		p.t.Errorf("%s: the name fields come as %q, want %q", step, got, want)
	}
}

// TestStorefrontPhoneAccess is a buyer on a 320px touch screen, in
// English and in Chinese, with phoneAudit on every page of the journey:
// the catalog, a cart of two lines, the checkout with its errors, a bank
// transfer, the order's live status, signing up, the address book and
// the buyer's own order.
// The status page tells a screen reader when the payment arrives, a
// form posted with mistakes opens with a summary of them, a Chinese
// form asks for the family name first, and no
// English is left on the Chinese pages. Screenshots go to
// e2e/screenshots/phone-*.png. Each part has a browser of its own, to
// stay within newBrowser's deadline on a busy machine.
func TestStorefrontPhoneAccess(t *testing.T) {
	t.Parallel()
	in, _ := checkoutShop(t)
	english := englishOnly(t)
	for _, lang := range []string{"en", "zh-CN"} {
		t.Run(lang+"/catalog", func(t *testing.T) {
			p := newPhoneTab(t, in.base, lang, english)
			p.do("home")
			// "CNY USD" means nothing read out alone: the switcher says
			// what it switches.
			group, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`(e => e.getAttribute("role") + " " + e.getAttribute("aria-label"))(document.querySelector(".currencies"))`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(group, "group ") || strings.HasSuffix(group, " null") {
				t.Errorf("the currency switcher is %q, want a labelled group", group)
			}
			p.do("collection", chromedp.Navigate(in.base+"/collections/tea"), chromedp.WaitVisible(`.grid`))
			p.do("search", chromedp.Navigate(in.base+"/search?q=oolong"), chromedp.WaitVisible(`.grid`))
			p.do("product", chromedp.Navigate(in.base+"/products/tieguanyin-oolong"), chromedp.WaitVisible(`form.buy`))
		})
		t.Run(lang+"/checkout", func(t *testing.T) {
			p := newPhoneTab(t, in.base, lang, english)
			if err := chromedp.Do(p.ctx, chromedp.Navigate(in.base+"/products/tieguanyin-oolong"), chromedp.WaitVisible(`form.buy`),
				chromedp.Click(`form.buy button[type=submit]`), chromedp.WaitVisible(`#to-checkout`),
				chromedp.Navigate(in.base+"/products/osmanthus-oolong"), chromedp.WaitVisible(`form.buy`)); err != nil {
				t.Fatal(err)
			}
			p.do("cart", chromedp.Click(`form.buy button[type=submit]`), chromedp.WaitVisible(`#to-checkout`))
			p.do("checkout errors", chromedp.Navigate(in.base+"/checkout"), chromedp.WaitVisible(`#f-email`),
				chromedp.SetValue(`#f-email`, "not an address"), chromedp.Click(`#contact button[type=submit]`), chromedp.WaitVisible(`#e-email`))
			p.errorSummary("checkout errors")
			p.nameOrder("checkout errors")
			p.do("shipping", chromedp.SetValue(`#f-email`, "wang.fang@example.com"), chromedp.SetValue(`#f-lastName`, "王"),
				chromedp.SetValue(`#f-line1`, "西湖区文三路1号"), chromedp.SetValue(`#f-city`, "杭州市"), chromedp.SetValue(`#f-postalCode`, "310012"),
				chromedp.Click(`#contact button[type=submit]`), chromedp.WaitVisible(`#shipping input[name=method]`))
			p.do("place", chromedp.Click(`#shipping button[type=submit]`), chromedp.WaitVisible(`#place-order`))
			p.do("pay", chromedp.Click(`#place-order`), chromedp.WaitVisible(`#pay-form`))
			p.do("bank transfer", chromedp.Click(`#pay-form input[value="payment.banktransfer"]`), chromedp.Click(`#pay-form button[type=submit]`),
				chromedp.WaitVisible(`#instructions`))
			p.do("status", chromedp.Click(`#status-link`), chromedp.WaitVisible(`#payment-status`))
			// The status changes under the buyer's eyes when the money
			// arrives: a screen reader says so only from a live region.
			live, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`["payment-status", "payment-message"].map(id => { const e = document.getElementById(id); return e.getAttribute("role") || e.getAttribute("aria-live") || ""; })`))
			if err != nil {
				t.Fatal(err)
			}
			if live[0] != "status" || live[1] != "alert" {
				t.Errorf("the status page's live regions are %q, want status and alert", live)
			}
		})
		t.Run(lang+"/account", func(t *testing.T) {
			p := newPhoneTab(t, in.base, lang, english)
			p.do("register", chromedp.Navigate(in.base+"/account/register"), chromedp.WaitVisible(`#register-form`))
			// The rules of a new password are read with its field.
			described, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`(document.getElementById("f-password").getAttribute("aria-describedby") || "").split(" ").map(id => document.getElementById(id)?.textContent || "").join(" ")`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(described, "10") {
				t.Errorf("the new password is described by %q, not by its rules", described)
			}
			p.do("register errors", chromedp.SetValue(`#f-email`, "not an address"), chromedp.Click(`#register-submit`), chromedp.WaitVisible(`#e-email`))
			p.errorSummary("register errors")
			p.nameOrder("register errors")
			p.do("account", chromedp.SetValue(`#f-lastName`, "王"), chromedp.SetValue(`#f-email`, "phone-"+lang+"@example.com"),
				chromedp.SetValue(`#f-password`, "a long enough passphrase"), chromedp.Click(`#register-submit`), chromedp.WaitVisible(`#account-email`))
			p.do("address errors", chromedp.Navigate(in.base+"/account/addresses/new"), chromedp.WaitVisible(`#address-form`),
				chromedp.Click(`#address-save`), chromedp.WaitVisible(`#e-line1`))
			p.errorSummary("address errors")
			p.nameOrder("address errors")
			if err := chromedp.Do(p.ctx, chromedp.SetValue(`#f-lastName`, "王"), chromedp.SetValue(`#f-line1`, "朝阳区建国路88号"),
				chromedp.SetValue(`#f-city`, "北京市"), chromedp.Click(`#address-save`), chromedp.WaitVisible(`#addresses`),
				chromedp.Click(`#add-address`), chromedp.WaitVisible(`#address-form`), chromedp.SetValue(`#f-lastName`, "王"),
				chromedp.SetValue(`#f-line1`, "西湖区文三路1号"), chromedp.SetValue(`#f-city`, "杭州市")); err != nil {
				t.Fatal(err)
			}
			p.do("addresses", chromedp.Click(`#address-save`), chromedp.WaitVisible(`#addresses`))
			if err := chromedp.Do(p.ctx, chromedp.Navigate(in.base+"/products/tieguanyin-oolong"), chromedp.WaitVisible(`form.buy`),
				chromedp.Click(`form.buy button[type=submit]`), chromedp.WaitVisible(`#to-checkout`), chromedp.Click(`#to-checkout`),
				chromedp.WaitVisible(`#f-line1`), chromedp.SetValue(`#f-email`, "phone-"+lang+"@example.com"),
				chromedp.SetValue(`#f-lastName`, "王"), chromedp.SetValue(`#f-line1`, "西湖区文三路1号"), chromedp.SetValue(`#f-city`, "杭州市"),
				chromedp.Click(`#contact button[type=submit]`), chromedp.WaitVisible(`#shipping input[name=method]`),
				chromedp.Click(`#shipping button[type=submit]`), chromedp.WaitVisible(`#place-order`),
				chromedp.Click(`#place-order`), chromedp.WaitVisible(`#pay-form`), chromedp.Navigate(in.base+"/account")); err != nil {
				t.Fatal(err)
			}
			p.do("orders", chromedp.Click(`.ac-nav a[href="/account/orders"]`), chromedp.WaitVisible(`.ac-order a`))
			p.do("order", chromedp.Click(`.ac-order a`), chromedp.WaitVisible(`#cancel-order`))
			p.do("sign in", chromedp.Navigate(in.base+"/account/orders"), chromedp.Click(`#sign-out`), chromedp.WaitVisible(`#account-link[href="/account/login"]`), chromedp.Navigate(in.base+"/account/login"),
				chromedp.WaitVisible(`#login-form`))
		})
	}
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
