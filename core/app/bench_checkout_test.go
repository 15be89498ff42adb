package app_test

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/seed"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/core/testkit/invariant"
)

// TestBenchCheckoutCart runs `kassa bench checkout-cart -c 2 -d 2s`
// against a demo shop served over HTTP, with an API key to prepare it (the
// demo shop ships nowhere and has little stock): every measured checkout
// completes, the orders it reports are in the staff's list, and every
// step has latencies.
func TestBenchCheckoutCart(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		if _, err := seed.Demo(ctx, ta.DB, ta.Catalog, seed.Options{}); err != nil {
			t.Fatal(err)
		}
		_, key, err := ta.Accounts.Service.CreateAPIKey(ctx, "bench", authz.RoleOwner)
		if err != nil {
			t.Fatal(err)
		}
		run := func(args ...string) (int, string, string) {
			var out, errOut bytes.Buffer
			code := app.Main(append([]string{"bench", "checkout-cart", "--url", ta.URL + "/graphql"}, args...),
				app.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
			return code, out.String(), errOut.String()
		}

		// Without a credential the demo shop cannot take the orders, and
		// the bench says so before measuring anything.
		if code, _, errOut := run("-c", "2", "-d", "2s", "--warmup", "0s", "--api-key", ""); code != 1 ||
			!strings.Contains(errOut, "--api-key") {
			t.Fatalf("unprepared shop: exit %d, stderr %q; want exit 1 asking for --api-key", code, errOut)
		}

		code, out, errOut := run("-c", "2", "-d", "2s", "--warmup", "0s", "--api-key", key, "--variants", "6")
		if code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
		m := regexp.MustCompile(`: (\d+) orders, [0-9.]+ orders/s, 0 checkouts failed\n`).FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "errors: none") {
			t.Fatalf("report without orders or with errors:\n%s\nstderr: %s", out, errOut)
		}
		orders, _ := strconv.Atoi(m[1])
		if orders == 0 {
			t.Fatalf("no order completed:\n%s", out)
		}
		// Five requests a checkout, one of each step; no other step is
		// reported.
		steps := regexp.MustCompile(`(?m)^(\S+)\s+(\d+)\s+\S+\s+\S+\s+\S+$`).FindAllStringSubmatch(out, -1)
		var names []string
		for _, m := range steps {
			names = append(names, m[1])
			if calls, _ := strconv.Atoi(m[2]); calls < orders {
				t.Errorf("%s: %d calls for %d orders:\n%s", m[1], calls, orders, out)
			}
		}
		if want := []string{"cartCreate", "cartLinesAdd", "cartShippingAddressUpdate", "cartShippingMethodSelect", "checkoutComplete"}; !slices.Equal(names, want) {
			t.Errorf("steps %v, want %v:\n%s", names, want, out)
		}
		// A closed loop states the mean its rate fixes: 2 buyers ÷ the
		// checkouts a second, and a fifth of it per request.
		little := regexp.MustCompile(`\nclosed loop: 2 buyers / ([0-9.]+) checkouts/s = (\S+) a checkout on average \(Little's law\), (\S+) for each of its 5 requests;`).FindStringSubmatch(out)
		if little == nil {
			t.Errorf("no closed-loop line:\n%s", out)
		} else {
			rate, _ := strconv.ParseFloat(little[1], 64)
			mean, err1 := time.ParseDuration(little[2])
			each, err2 := time.ParseDuration(little[3])
			if err1 != nil || err2 != nil || rate <= 0 || math.Abs(mean.Seconds()-2/rate) > 0.01*mean.Seconds() || (each-mean/5).Abs() > 20*time.Microsecond {
				t.Errorf("closed-loop line does not add up: %q", little[0])
			}
		}
		if !strings.Contains(errOut, "restocked 6 variants") || !strings.Contains(errOut, "added shipping method") {
			t.Errorf("preparation not reported: %q", errOut)
		}
		// At least the reported orders were placed (checkouts finished
		// after the end of the measurement are not reported).
		staff := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "usr_owner",
			Roles: []string{authz.RoleOwner}, Store: authz.DefaultStore})
		p, err := ta.Orders.List(staff, order.Filter{}, page.Request{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) < min(orders, 100) {
			t.Errorf("staff list has %d orders, the bench reported %d", len(p.Items), orders)
		}

		// A second run, at a rate (an open loop), finds the shipping
		// method there and places no more orders than arrived.
		code, out, errOut = run("-c", "2", "-d", "1s", "--warmup", "0s", "--api-key", key, "--variants", "6", "--rate", "5")
		if code != 0 || strings.Contains(errOut, "added shipping method") || !strings.Contains(out, "errors: none") ||
			!regexp.MustCompile(`arrivals: 5\.0/s offered, 5 in the measured window, \d turned away \(all 2 buyers busy\)\n`).MatchString(out) {
			t.Fatalf("second run: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
		placed := -1
		if m := regexp.MustCompile(`: (\d+) orders, `).FindStringSubmatch(out); m != nil {
			placed, _ = strconv.Atoi(m[1])
		}
		if placed < 0 || placed > 5 {
			t.Errorf("at 5 arrivals a second for 1 s: %s", out)
		}
		if code, _, errOut := run("-c", "2", "-d", "1s", "--rate", "-1"); code != 2 || !strings.Contains(errOut, "--rate") {
			t.Errorf("a negative rate: exit %d, stderr %q; want a usage error", code, errOut)
		}
	})
}

// TestBenchCheckout runs `kassa bench checkout --concurrency 2
// --duration 2s` against a shop served over HTTP whose public URL is the
// server itself, with the real testpay plugin: every measured checkout is
// paid through testpay's page and its notification to
// /webhooks/payment.testpay and seen PAID on the order's status stream
// (orderUpdated over server-sent events), none fails, every step has
// latencies, the
// last line is the summary, and the orders it reports are PAID.
func TestBenchCheckout(t *testing.T) {
	for _, engine := range []struct {
		name string
		e    testkit.Engine
	}{{"sqlite", testkit.SQLite}, {"postgres", testkit.Postgres}} {
		t.Run(engine.name, func(t *testing.T) {
			pa := newPayApp(t, engine.e)
			ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
			_, key, err := pa.Accounts.Service.CreateAPIKey(ctx, "bench", authz.RoleOwner)
			if err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := app.Main([]string{"bench", "checkout", "--url", pa.URL, "--concurrency", "2", "--duration", "2s", "--warmup", "0s",
				"--api-key", key, "--variants", "1"},
				app.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
			}
			report := out.String()
			t.Logf("kassa bench checkout:\n%s", report)
			m := regexp.MustCompile(`\ncheckouts/s=([0-9.]+) errors=(\d+)\n$`).FindStringSubmatch(report)
			if m == nil {
				t.Fatalf("no summary line at the end:\n%s", report)
			}
			rate, _ := strconv.ParseFloat(m[1], 64)
			errors, _ := strconv.Atoi(m[2])
			paid := regexp.MustCompile(`: (\d+) checkouts paid, [0-9.]+ checkouts/s, (\d+) checkouts failed\n`).FindStringSubmatch(report)
			if paid == nil {
				t.Fatalf("no count of paid checkouts:\n%s", report)
			}
			completed, _ := strconv.Atoi(paid[1])
			if completed == 0 || rate <= 0 || errors != 0 || paid[2] != "0" || !strings.Contains(report, "errors: none") {
				t.Fatalf("%d checkouts paid at %.1f/s with %d errors; want some and no error:\n%s\nstderr: %s", completed, rate, errors, report, errOut.String())
			}
			for _, step := range []string{"cartCreate", "cartLinesAdd", "checkoutComplete", "paymentCreate", "orderUpdated", "testpay.pay", "paid", "checkout"} {
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(step) + `\s+[1-9]\d*\s+\S+\s+\S+\s+\S+$`).MatchString(report) {
					t.Errorf("no latencies for %s:\n%s", step, report)
				}
			}
			// The checkouts reported, the probe before them, and the ones
			// cut off at the end are paid: each through one capture.
			if n := pa.count(t, "SELECT COUNT(*) FROM orders WHERE payment_status = 'PAID'"); n < completed+1 {
				t.Errorf("%d orders PAID; the bench reported %d checkouts and a probe", n, completed)
			}
			if n, c := pa.count(t, "SELECT COUNT(*) FROM orders WHERE payment_status = 'PAID'"),
				pa.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE kind = 'CAPTURE'"); n != c {
				t.Errorf("%d orders PAID, %d captures", n, c)
			}
			invariant.Require(t, pa.DB)
		})
	}
}
