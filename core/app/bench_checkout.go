package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	stdio "io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The steps of one checkout, in order, as benchCheckoutCart reports them.
var checkoutSteps = []string{"cartCreate", "cartLinesAdd", "cartEmailUpdate", "cartShippingAddressUpdate",
	"cart.shippingMethods", "cartShippingMethodSelect", "checkoutComplete"}

// The documents of a guest's checkout, as a storefront sends them: every
// mutation reads back the cart's count and total to show them.
const (
	benchCartFields    = `cart { id totalQuantity total { amount currencyCode } } userErrors { code field message }`
	benchCartCreate    = `mutation CartCreate($input: CartCreateInput!) { cartCreate(input: $input) { token ` + benchCartFields + ` } }`
	benchLinesAdd      = `mutation LinesAdd($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { ` + benchCartFields + ` } }`
	benchEmailUpdate   = `mutation Email($input: CartEmailUpdateInput!) { cartEmailUpdate(input: $input) { ` + benchCartFields + ` } }`
	benchAddressUpdate = `mutation Address($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input) { ` + benchCartFields + ` } }`
	benchShipping      = `query Shipping($token: String!) { cart(token: $token) { id shippingMethods { methodId name price { amount currencyCode } } subtotal { amount } tax { amount } total { amount } } }`
	benchMethodSelect  = `mutation Method($input: CartShippingMethodSelectInput!) { cartShippingMethodSelect(input: $input) { ` + benchCartFields + ` } }`
	benchComplete      = `mutation Complete($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { id number total { amount currencyCode } } accessToken userErrors { code field message } } }`

	benchSettings    = `{ shopSettings { defaultCurrency currencies } }`
	benchProductsDoc = `query Products($after: String) { products(first: 100, after: $after) {
  edges { node { id variants { id archived availableQuantity prices { amount currencyCode } } } }
  pageInfo { hasNextPage endCursor } } }`
	benchAdjust = `mutation Restock($input: InventoryAdjustInput!) { inventoryAdjust(input: $input) { inventory { onHand reserved } userErrors { code field message } } }`
	benchZones  = `{ shippingZones { id countries regions methods { id active prices { currencyCode } } } }`
	benchZone   = `mutation Zone($input: ShippingZoneCreateInput!) { shippingZoneCreate(input: $input) { shippingZone { id } userErrors { code field message } } }`
	benchMethod = `mutation Method($input: ShippingMethodCreateInput!) { shippingMethodCreate(input: $input) { shippingMethod { id } userErrors { code field message } } }`
)

// benchCheckoutCart is `kassa bench checkout-cart`: concurrent guests each
// checking out one cart after another over GraphQL (create a cart, add
// two or three lines one at a time, give an email address and a shipping
// address, read the shipping methods and choose the cheapest, complete
// checkout with an idempotency key), reporting orders a second, errors by
// code and the latency of every step. With a staff credential it first
// makes sure the shop can take the orders: it restocks the variants the
// buyers use and adds a shipping method for their country when there is
// none.
func benchCheckoutCart(ctx context.Context, args []string, cli IO) error {
	fs, _ := flagSet("bench checkout-cart", cli)
	target := fs.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint of the shop")
	conc := fs.Int("c", 8, "concurrent buyers")
	dur := fs.Duration("d", 10*time.Second, "duration of the measurement (after the warm-up)")
	warmup := fs.Duration("warmup", 2*time.Second, "checkouts before the measurement, not counted")
	currency := fs.String("currency", "", "currency of the carts (default: the shop's default currency)")
	country := fs.String("country", "CN", "the buyers' country (ISO 3166-1 alpha-2)")
	variants := fs.Int("variants", 20, "how many variants the buyers choose from")
	apiKey := fs.String("api-key", os.Getenv("KASSA_BENCH_API_KEY"), "staff API key or session token (Bearer) to prepare the shop: restock and add a shipping method; default $KASSA_BENCH_API_KEY")
	stock := fs.Int("stock", 100000, "with --api-key: the available units each chosen variant is restocked to")
	spread := fs.Bool("spread-addresses", true, "on an IPv4 loopback URL, give each buyer its own source address (127.0.x.y), as real buyers have theirs: the API's per-address rate limit then limits each buyer, not the bench as a whole")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: kassa bench checkout-cart --url URL [-c N] [-d D] [--api-key KEY] [flags]\n\n"+
			"Guests check out carts over GraphQL, one after another, N at once. Without --api-key the shop must already\n"+
			"ship to --country in the currency and have stock (e.g. kassa seed demo, a shipping zone, restocked variants).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *conc < 1 || *dur <= 0 || *warmup < 0 || *variants < 1 || *stock < 1 {
		return fmt.Errorf("%w: -c, -d, --variants and --stock must be positive, --warmup not negative", errUsage)
	}
	b := &checkoutBench{url: *target, country: strings.ToUpper(*country), currency: strings.ToUpper(*currency),
		staff: &gqlClient{http: &http.Client{Timeout: 30 * time.Second}, url: *target, bearer: *apiKey}}
	if err := b.prepare(ctx, *variants, *stock, cli.Stderr); err != nil {
		return err
	}
	res := b.run(ctx, *conc, *warmup, *dur, *spread)
	res.print(cli.Stdout, *conc, *dur, b.currency, b.country)
	if res.orders == 0 {
		return errors.New("no checkout completed")
	}
	return nil
}

// checkoutBench is one run of the checkout benchmark.
type checkoutBench struct {
	url, country, currency string
	staff                  *gqlClient
	// pool are the variants buyers add to their carts.
	pool []string
}

// gqlClient posts GraphQL documents to one endpoint.
type gqlClient struct {
	http   *http.Client
	url    string
	bearer string
}

// gqlUserError is an entry of a payload's userErrors.
type gqlUserError struct {
	Code    string   `json:"code"`
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

// do sends a document and decodes the field root of its data into out.
// It returns "" on success, else the code of what went wrong: the code of
// the first userError or top-level error, HTTP_<status>, or
// NETWORK_ERROR; err says more.
func (c *gqlClient) do(ctx context.Context, query string, vars map[string]any, root string, out any) (string, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return "CLIENT_ERROR", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return "CLIENT_ERROR", err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return "NETWORK_ERROR", err
	}
	defer res.Body.Close()
	raw, err := stdio.ReadAll(res.Body)
	if err != nil {
		return "NETWORK_ERROR", err
	}
	var env struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return "HTTP_" + strconv.Itoa(res.StatusCode), fmt.Errorf("status %d: %.200s", res.StatusCode, raw)
	}
	if len(env.Errors) > 0 {
		code, _ := env.Errors[0].Extensions["code"].(string)
		if code == "" {
			code = "GRAPHQL_ERROR"
		}
		return code, fmt.Errorf("%s: %s", code, env.Errors[0].Message)
	}
	if res.StatusCode != http.StatusOK {
		return "HTTP_" + strconv.Itoa(res.StatusCode), fmt.Errorf("status %d: %.200s", res.StatusCode, raw)
	}
	data := env.Data[root]
	var ue struct {
		UserErrors []gqlUserError `json:"userErrors"`
	}
	if err := json.Unmarshal(data, &ue); err == nil && len(ue.UserErrors) > 0 {
		e := ue.UserErrors[0]
		return e.Code, fmt.Errorf("%s at %s: %s", e.Code, strings.Join(e.Field, "."), e.Message)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return "CLIENT_ERROR", fmt.Errorf("decode %s: %w", root, err)
		}
	}
	return "", nil
}

// prepare picks the shop's currency and the variants buyers choose from,
// and, with a staff credential, restocks them and makes sure a shipping
// method serves the buyers' country; then it checks one cart gets a
// shipping method.
func (b *checkoutBench) prepare(ctx context.Context, nVariants, stock int, log stdio.Writer) error {
	pub := &gqlClient{http: b.staff.http, url: b.url}
	var set struct {
		DefaultCurrency string   `json:"defaultCurrency"`
		Currencies      []string `json:"currencies"`
	}
	if _, err := pub.do(ctx, benchSettings, nil, "shopSettings", &set); err != nil {
		return fmt.Errorf("read the shop's settings at %s: %w", b.url, err)
	}
	if b.currency == "" {
		b.currency = set.DefaultCurrency
	}
	type variant struct {
		ID        string `json:"id"`
		Archived  bool   `json:"archived"`
		Available int    `json:"availableQuantity"`
		Prices    []struct {
			CurrencyCode string `json:"currencyCode"`
		} `json:"prices"`
	}
	available := map[string]int{}
	var after any
	for len(b.pool) < nVariants {
		var page struct {
			Edges []struct {
				Node struct {
					Variants []variant `json:"variants"`
				} `json:"node"`
			} `json:"edges"`
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
		}
		if _, err := pub.do(ctx, benchProductsDoc, map[string]any{"after": after}, "products", &page); err != nil {
			return fmt.Errorf("list products: %w", err)
		}
		for _, e := range page.Edges {
			for _, v := range e.Node.Variants {
				priced := false
				for _, p := range v.Prices {
					priced = priced || p.CurrencyCode == b.currency
				}
				// Without a staff credential, only variants with stock
				// for a while.
				if v.Archived || !priced || (b.staff.bearer == "" && v.Available < 100) || len(b.pool) == nVariants {
					continue
				}
				b.pool = append(b.pool, v.ID)
				available[v.ID] = v.Available
			}
		}
		if !page.PageInfo.HasNextPage {
			break
		}
		after = page.PageInfo.EndCursor
	}
	if len(b.pool) == 0 {
		return fmt.Errorf("no active variant priced in %s with stock: seed the shop (kassa seed demo) and give --api-key to restock it", b.currency)
	}
	if b.staff.bearer != "" {
		restocked := 0
		for _, v := range b.pool {
			if available[v] >= stock {
				continue
			}
			in := map[string]any{"variantId": v, "delta": stock - available[v], "reason": "RECEIVED", "note": "kassa bench checkout-cart"}
			if _, err := b.staff.do(ctx, benchAdjust, map[string]any{"input": in}, "inventoryAdjust", nil); err != nil {
				return fmt.Errorf("restock %s: %w", v, err)
			}
			restocked++
		}
		if err := b.ensureShipping(ctx, log); err != nil {
			return err
		}
		if restocked > 0 {
			fmt.Fprintf(log, "restocked %d variants to %d available units\n", restocked, stock)
		}
	}
	// One cart through to its shipping methods proves the shop can take
	// the orders before anything is measured.
	c := &gqlClient{http: b.staff.http, url: b.url}
	var created struct {
		Token string `json:"token"`
	}
	if _, err := c.do(ctx, benchCartCreate, map[string]any{"input": map[string]any{"currency": b.currency,
		"lines": []map[string]any{{"variantId": b.pool[0], "quantity": 1}}}}, "cartCreate", &created); err != nil {
		return fmt.Errorf("create a cart: %w", err)
	}
	if _, err := c.do(ctx, benchAddressUpdate, map[string]any{"input": map[string]any{"token": created.Token,
		"address": b.address(mrand.New(mrand.NewPCG(1, 2)))}}, "cartShippingAddressUpdate", nil); err != nil {
		return fmt.Errorf("set a cart's address: %w", err)
	}
	var probe struct {
		ShippingMethods []json.RawMessage `json:"shippingMethods"`
	}
	if _, err := c.do(ctx, benchShipping, map[string]any{"token": created.Token}, "cart", &probe); err != nil {
		return fmt.Errorf("read a cart's shipping methods: %w", err)
	}
	if len(probe.ShippingMethods) == 0 {
		return fmt.Errorf("the shop ships nothing to %s in %s: add a shipping zone and method, or give --api-key to let the bench add one", b.country, b.currency)
	}
	return nil
}

// ensureShipping adds a flat-rate method for the buyers' country and
// currency when no active method of a zone covering the whole country
// has a price in the currency: to the zone covering the country, or to a
// new zone.
func (b *checkoutBench) ensureShipping(ctx context.Context, log stdio.Writer) error {
	var zones []struct {
		ID        string   `json:"id"`
		Countries []string `json:"countries"`
		Regions   []string `json:"regions"`
		Methods   []struct {
			Active bool `json:"active"`
			Prices []struct {
				CurrencyCode string `json:"currencyCode"`
			} `json:"prices"`
		} `json:"methods"`
	}
	if _, err := b.staff.do(ctx, benchZones, nil, "shippingZones", &zones); err != nil {
		return fmt.Errorf("read shipping zones: %w", err)
	}
	zoneID := ""
	for _, z := range zones {
		covers := false
		for _, c := range z.Countries {
			covers = covers || c == b.country
		}
		if !covers || len(z.Regions) > 0 {
			continue
		}
		zoneID = z.ID
		for _, m := range z.Methods {
			for _, p := range m.Prices {
				if m.Active && p.CurrencyCode == b.currency {
					return nil
				}
			}
		}
	}
	if zoneID == "" {
		var out struct {
			ShippingZone struct {
				ID string `json:"id"`
			} `json:"shippingZone"`
		}
		in := map[string]any{"name": "Bench " + b.country, "countries": []string{b.country}}
		if _, err := b.staff.do(ctx, benchZone, map[string]any{"input": in}, "shippingZoneCreate", &out); err != nil {
			return fmt.Errorf("create a shipping zone for %s: %w", b.country, err)
		}
		zoneID = out.ShippingZone.ID
	}
	in := map[string]any{"zoneId": zoneID, "name": "Bench courier", "kind": "FLAT",
		"prices": []map[string]any{{"currencyCode": b.currency, "amount": "10"}}}
	if _, err := b.staff.do(ctx, benchMethod, map[string]any{"input": in}, "shippingMethodCreate", nil); err != nil {
		return fmt.Errorf("create a shipping method for %s: %w", b.country, err)
	}
	fmt.Fprintf(log, "added shipping method \"Bench courier\" (flat 10 %s) for %s\n", b.currency, b.country)
	return nil
}

// address is a buyer's shipping address in the bench's country.
func (b *checkoutBench) address(rng *mrand.Rand) map[string]any {
	if b.country == "CN" {
		return map[string]any{"firstName": "芳", "lastName": "王", "line1": fmt.Sprintf("西湖区文三路%d号", 1+rng.IntN(300)),
			"city": "杭州市", "province": "浙江省", "postalCode": "310012", "countryCode": "CN",
			"phone": fmt.Sprintf("+86 138 %04d %04d", rng.IntN(10000), rng.IntN(10000))}
	}
	return map[string]any{"firstName": "Bench", "lastName": "Buyer " + strconv.Itoa(rng.IntN(10000)),
		"line1": strconv.Itoa(1+rng.IntN(300)) + " Bench Road", "city": "Springfield", "postalCode": "12345",
		"countryCode": b.country}
}

// checkoutResult is what the buyers measured.
type checkoutResult struct {
	orders int
	// failed counts checkouts abandoned on an error.
	failed  int
	errors  map[string]int
	latency map[string][]time.Duration
	// sample is one error message per code.
	sample map[string]string
}

func (r *checkoutResult) merge(o *checkoutResult) {
	r.orders += o.orders
	r.failed += o.failed
	for k, n := range o.errors {
		r.errors[k] += n
	}
	for k, ls := range o.latency {
		r.latency[k] = append(r.latency[k], ls...)
	}
	for k, m := range o.sample {
		if _, ok := r.sample[k]; !ok {
			r.sample[k] = m
		}
	}
}

func newCheckoutResult() *checkoutResult {
	return &checkoutResult{errors: map[string]int{}, latency: map[string][]time.Duration{}, sample: map[string]string{}}
}

// run lets conc buyers check out until warmup plus dur have passed and
// returns what happened during dur.
func (b *checkoutBench) run(ctx context.Context, conc int, warmup, dur time.Duration, spread bool) *checkoutResult {
	start := time.Now()
	from, end := start.Add(warmup), start.Add(warmup+dur)
	total := newCheckoutResult()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	loopback := spread && isLoopbackIPv4(b.url)
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := benchTransport(i, loopback)
			defer tr.CloseIdleConnections()
			c := &gqlClient{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: b.url}
			rng := mrand.New(mrand.NewPCG(uint64(i)+1, uint64(start.UnixNano())))
			mine := newCheckoutResult()
			for ctx.Err() == nil && time.Now().Before(end) {
				b.checkout(ctx, c, rng, i, from, end, mine)
			}
			mu.Lock()
			total.merge(mine)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

// checkout takes one cart through checkout, recording each step that
// started after from and ended before end; it gives up at the first
// error or once end has passed.
func (b *checkoutBench) checkout(ctx context.Context, c *gqlClient, rng *mrand.Rand, buyer int, from, end time.Time, res *checkoutResult) {
	step := func(name, query string, vars map[string]any, root string, out any) bool {
		if time.Now().After(end) {
			return false
		}
		t0 := time.Now()
		code, err := c.do(ctx, query, vars, root, out)
		t1 := time.Now()
		counted := !t0.Before(from) && !t1.After(end)
		if code != "" {
			if counted && ctx.Err() == nil {
				res.errors[code]++
				res.failed++
				if _, ok := res.sample[code]; !ok {
					res.sample[code] = name + ": " + err.Error()
				}
			}
			return false
		}
		if counted {
			res.latency[name] = append(res.latency[name], t1.Sub(t0))
		}
		return true
	}
	var created struct {
		Token string `json:"token"`
	}
	if !step("cartCreate", benchCartCreate, map[string]any{"input": map[string]any{"currency": b.currency}}, "cartCreate", &created) {
		return
	}
	tok := created.Token
	lines := 2 + rng.IntN(2)
	for _, k := range rng.Perm(len(b.pool))[:min(lines, len(b.pool))] {
		in := map[string]any{"token": tok, "lines": []map[string]any{{"variantId": b.pool[k], "quantity": 1 + rng.IntN(2)}}}
		if !step("cartLinesAdd", benchLinesAdd, map[string]any{"input": in}, "cartLinesAdd", nil) {
			return
		}
	}
	email := fmt.Sprintf("bench.buyer%d.%d@example.com", buyer, rng.IntN(1_000_000))
	if !step("cartEmailUpdate", benchEmailUpdate, map[string]any{"input": map[string]any{"token": tok, "email": email}}, "cartEmailUpdate", nil) {
		return
	}
	if !step("cartShippingAddressUpdate", benchAddressUpdate, map[string]any{"input": map[string]any{"token": tok, "address": b.address(rng)}},
		"cartShippingAddressUpdate", nil) {
		return
	}
	var cart struct {
		ShippingMethods []struct {
			MethodID string `json:"methodId"`
		} `json:"shippingMethods"`
	}
	if !step("cart.shippingMethods", benchShipping, map[string]any{"token": tok}, "cart", &cart) {
		return
	}
	if len(cart.ShippingMethods) == 0 {
		if !time.Now().After(end) {
			res.errors["NO_SHIPPING_METHOD"]++
			res.failed++
		}
		return
	}
	if !step("cartShippingMethodSelect", benchMethodSelect, map[string]any{"input": map[string]any{"token": tok, "methodId": cart.ShippingMethods[0].MethodID}},
		"cartShippingMethodSelect", nil) {
		return
	}
	var done struct {
		Order struct {
			ID string `json:"id"`
		} `json:"order"`
	}
	t0 := time.Now()
	if !step("checkoutComplete", benchComplete, map[string]any{"input": map[string]any{"token": tok, "idempotencyKey": newIdempotencyKey()}},
		"checkoutComplete", &done) {
		return
	}
	if done.Order.ID != "" && !t0.Before(from) && !time.Now().After(end) {
		res.orders++
	}
}

// newIdempotencyKey returns a fresh random key, as a storefront makes one
// per checkout attempt.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// print writes the report: throughput, errors by code, and the
// percentiles of every step.
func (r *checkoutResult) print(w stdio.Writer, conc int, dur time.Duration, currency, country string) {
	fmt.Fprintf(w, "checkout-cart: %d buyers for %s (%s, shipping to %s): %d orders, %.1f orders/s, %d checkouts failed\n",
		conc, dur, currency, country, r.orders, float64(r.orders)/dur.Seconds(), r.failed)
	if len(r.errors) == 0 {
		fmt.Fprintln(w, "errors: none")
	} else {
		codes := make([]string, 0, len(r.errors))
		for c := range r.errors {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool {
			return r.errors[codes[i]] > r.errors[codes[j]] || (r.errors[codes[i]] == r.errors[codes[j]] && codes[i] < codes[j])
		})
		fmt.Fprintln(w, "errors:")
		for _, c := range codes {
			fmt.Fprintf(w, "  %-28s %6d  e.g. %.160s\n", c, r.errors[c], r.sample[c])
		}
	}
	fmt.Fprintf(w, "%-28s %7s %10s %10s %10s\n", "step", "calls", "p50", "p95", "p99")
	for _, s := range checkoutSteps {
		ls := r.latency[s]
		if len(ls) == 0 {
			fmt.Fprintf(w, "%-28s %7d %10s %10s %10s\n", s, 0, "-", "-", "-")
			continue
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
		pct := func(p float64) string { return ls[int(float64(len(ls)-1)*p)].Round(10 * time.Microsecond).String() }
		fmt.Fprintf(w, "%-28s %7d %10s %10s %10s\n", s, len(ls), pct(.50), pct(.95), pct(.99))
	}
}
