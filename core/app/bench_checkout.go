package app

import (
	"bufio"
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
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The steps of one checkout, in order, as benchCheckoutCart reports them:
// a request each, as a headless storefront sends them (the lines added
// at once; the contact and address form as one mutation, whose answer
// brings the shipping methods for the address).
var checkoutSteps = []string{"cartCreate", "cartLinesAdd", "cartShippingAddressUpdate", "cartShippingMethodSelect", "checkoutComplete"}

// The steps benchCheckout adds to pay the order, and the whole: follow
// opens the order's status stream (Subscription.orderUpdated as
// server-sent events, as the storefront's status page follows it) until
// its first event, the order as it stands; payPage is the buyer's "Pay"
// on the gateway's page (testpay's form, which then notifies Kassa's
// /webhooks/{gateway}); paid the wait from that answer until an event of
// the stream says PAID; checkout everything from cartCreate to PAID.
const (
	stepFollow   = "orderUpdated"
	stepPayPage  = "testpay.pay"
	stepPaid     = "paid"
	stepCheckout = "checkout"
)

var paymentSteps = []string{"paymentCreate", stepFollow, stepPayPage, stepPaid}

// The documents of a guest's checkout, as a storefront sends them: every
// mutation reads back the cart's count and total to show them; the
// contact and address form (benchAddressUpdate: the email and the
// shipping address in one mutation) reads the shipping methods and the
// totals the next step shows.
const (
	benchCartFields    = `cart { id totalQuantity total { amount currencyCode } } userErrors { code field message }`
	benchCartCreate    = `mutation CartCreate($input: CartCreateInput!) { cartCreate(input: $input) { token ` + benchCartFields + ` } }`
	benchLinesAdd      = `mutation LinesAdd($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { ` + benchCartFields + ` } }`
	benchAddressUpdate = `mutation Address($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input) { cart { id totalQuantity shippingMethods { methodId name price { amount currencyCode } } subtotal { amount } tax { amount } total { amount currencyCode } } userErrors { code field message } } }`
	benchMethodSelect  = `mutation Method($input: CartShippingMethodSelectInput!) { cartShippingMethodSelect(input: $input) { ` + benchCartFields + ` } }`
	benchComplete      = `mutation Complete($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { id number total { amount currencyCode } } accessToken userErrors { code field message } } }`
	benchPaymentCreate = `mutation Pay($input: PaymentCreateInput!) { paymentCreate(input: $input) { payment { id state action { type url } } userErrors { code field message } } }`
	// benchFollow is the status page's subscription, with the fields the
	// bench judges: the order's row alone answers it.
	benchFollow = `subscription BenchOrderStatus($id: ID!, $token: String) { orderUpdated(id: $id, token: $token) { status paymentStatus } }`

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
// checking out one cart after another over GraphQL in five requests
// (create a cart, add two or three lines in one call, give the email and
// the shipping address in one call whose answer lists the shipping
// methods, choose the cheapest, complete checkout with an idempotency
// key), reporting orders a second, errors by
// code and the latency of every step. With a staff credential it first
// makes sure the shop can take the orders: it restocks the variants the
// buyers use and adds a shipping method for their country when there is
// none.
func benchCheckoutCart(ctx context.Context, args []string, cli IO) error {
	fs := newFlagSet("bench checkout-cart", cli, "Usage: kassa bench checkout-cart --url URL [-c N] [-d D] [--api-key KEY] [flags]\n\n"+
		"Guests check out carts over GraphQL, one after another, N at once, in five requests each: cartCreate,\n"+
		"cartLinesAdd (two or three lines at once), cartShippingAddressUpdate (email and address; it answers the\n"+
		"shipping methods), cartShippingMethodSelect, checkoutComplete. Without --api-key the shop must already\n"+
		"ship to --country in the currency and have stock (e.g. kassa seed demo, a shipping zone, restocked variants).\n")
	target := fs.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint of the shop")
	conc := fs.Int("c", 8, "concurrent buyers")
	dur := fs.Duration("d", 10*time.Second, "duration of the measurement (after the warm-up)")
	warmup := fs.Duration("warmup", 2*time.Second, "checkouts before the measurement, not counted")
	currency := fs.String("currency", "", "currency of the carts (default: the shop's default currency)")
	country := fs.String("country", "CN", "the buyers' country (ISO 3166-1 alpha-2)")
	variants := fs.Int("variants", 20, "how many variants the buyers choose from")
	apiKey := fs.String("api-key", os.Getenv("KASSA_BENCH_API_KEY"), "staff API key or session token (Bearer) to prepare the shop: restock and add a shipping method; default $KASSA_BENCH_API_KEY")
	stock := fs.Int("stock", 100000, "with --api-key: the available units each chosen variant is restocked to")
	spread := fs.Bool("spread-addresses", true, "on an IPv4 loopback URL, run each checkout as a new buyer from a source address of its own (127.0.x.y), on a new connection, as real buyers come: the API's per-address rate limit then limits each buyer, not the bench as a whole")
	rate := fs.Float64("rate", 0, rateUsage)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *conc < 1 || *dur <= 0 || *warmup < 0 || *variants < 1 || *stock < 1 || !(*rate >= 0 && *rate <= maxBenchRate) {
		return fmt.Errorf("%w: -c, -d, --variants and --stock must be positive, --warmup not negative, --rate from 0 to %d", errUsage, maxBenchRate)
	}
	b := &checkoutBench{url: *target, country: strings.ToUpper(*country), currency: strings.ToUpper(*currency),
		staff: &gqlClient{http: &http.Client{Timeout: 30 * time.Second}, url: *target, bearer: *apiKey}}
	if err := b.prepare(ctx, *variants, *stock, cli.Stderr); err != nil {
		return err
	}
	res := b.run(ctx, *conc, *warmup, *dur, *spread, *rate)
	fmt.Fprintf(cli.Stdout, "checkout-cart: %d buyers for %s (%s, shipping to %s): %d orders, %.1f orders/s, %d checkouts failed\n",
		*conc, *dur, b.currency, b.country, res.orders, float64(res.orders)/dur.Seconds(), res.failed)
	res.printArrivals(cli.Stdout, *rate, *conc, *dur, len(checkoutSteps))
	res.print(cli.Stdout, checkoutSteps)
	if res.orders == 0 {
		return errors.New("no checkout completed")
	}
	return nil
}

// benchCheckout is `kassa bench checkout`: the whole checkout of a guest
// over HTTP, as benchCheckoutCart's buyers do it, then the payment with
// testpay: paymentCreate, the order's status followed live as the
// storefront's status page follows it (Subscription.orderUpdated as
// server-sent events, opened before paying so that no change is missed),
// the buyer's "Pay" on testpay's page (after which testpay POSTs its
// signed notification to the shop's /webhooks/payment.testpay), and the
// stream's events until one says PAID. It reports completed checkouts a
// second, errors by code, the latency of every step and of the whole,
// and ends with the line `checkouts/s=… errors=…`.
func benchCheckout(ctx context.Context, args []string, cli IO) error {
	fs := newFlagSet("bench checkout", cli, "Usage: kassa bench checkout --url URL [--concurrency N] [--duration D] [--api-key KEY] [flags]\n\n"+
		"Guests check out and pay over HTTP, one after another, N at once: the five requests of checkout-cart\n"+
		"(cartCreate, cartLinesAdd, cartShippingAddressUpdate, cartShippingMethodSelect, checkoutComplete),\n"+
		"paymentCreate with testpay, the order followed on /graphql/stream (orderUpdated, as the status page\n"+
		"does), Pay on testpay's page, PAID seen on the stream (testpay notifies the shop's\n"+
		"/webhooks/payment.testpay, so the shop's public URL must reach it). The shop needs testpay enabled\n"+
		"(kassa seed demo does it) and, without --api-key, stock and a shipping method for --country.\n")
	target := fs.String("url", "http://127.0.0.1:8080", "the shop's URL, or its GraphQL endpoint (URL/graphql)")
	var conc int
	var dur time.Duration
	fs.IntVar(&conc, "concurrency", 8, "concurrent buyers")
	fs.IntVar(&conc, "c", 8, "shorthand for --concurrency")
	fs.DurationVar(&dur, "duration", 10*time.Second, "duration of the measurement (after the warm-up)")
	fs.DurationVar(&dur, "d", 10*time.Second, "shorthand for --duration")
	warmup := fs.Duration("warmup", 2*time.Second, "checkouts before the measurement, not counted")
	currency := fs.String("currency", "", "currency of the carts (default: the shop's default currency)")
	country := fs.String("country", "CN", "the buyers' country (ISO 3166-1 alpha-2)")
	variants := fs.Int("variants", 20, "how many variants the buyers choose from")
	gateway := fs.String("gateway", "payment.testpay", "the payment gateway plugin: testpay, or a gateway answering REDIRECT with a page that takes action=pay as testpay's does, or no action")
	apiKey := fs.String("api-key", os.Getenv("KASSA_BENCH_API_KEY"), "staff API key or session token (Bearer) to prepare the shop: restock and add a shipping method; default $KASSA_BENCH_API_KEY")
	stock := fs.Int("stock", 100000, "with --api-key: the available units each chosen variant is restocked to")
	spread := fs.Bool("spread-addresses", true, "on an IPv4 loopback URL, run each checkout as a new buyer from a source address of its own (127.0.x.y), on a new connection, as real buyers come: the API's per-address rate limit then limits each buyer, not the bench as a whole")
	rate := fs.Float64("rate", 0, rateUsage)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if conc < 1 || dur <= 0 || *warmup < 0 || *variants < 1 || *stock < 1 || *gateway == "" || !(*rate >= 0 && *rate <= maxBenchRate) {
		return fmt.Errorf("%w: --concurrency, --duration, --variants and --stock must be positive, --warmup not negative, --rate from 0 to %d, --gateway given", errUsage, maxBenchRate)
	}
	shop, endpoint, err := benchURLs(*target)
	if err != nil {
		return err
	}
	b := &checkoutBench{url: endpoint, shop: shop, gateway: *gateway, pay: true, country: strings.ToUpper(*country), currency: strings.ToUpper(*currency),
		staff: &gqlClient{http: &http.Client{Timeout: 30 * time.Second}, url: endpoint, bearer: *apiKey}}
	if err := b.prepare(ctx, *variants, *stock, cli.Stderr); err != nil {
		return err
	}
	// One paid checkout proves the gateway and its notifications work
	// before anything is measured.
	probe, pc := newCheckoutResult(), b.buyerClients(0, false)
	now := time.Now()
	b.checkout(ctx, pc, mrand.New(mrand.NewPCG(3, 4)), 0, now, now.Add(time.Minute), probe)
	pc.http.Transport.(*http.Transport).CloseIdleConnections()
	if probe.orders != 1 {
		for _, m := range probe.sample {
			return fmt.Errorf("a first paid checkout failed (is %s installed and enabled, and does the shop's public URL reach this server?): %s", b.gateway, m)
		}
		return fmt.Errorf("a first paid checkout did not finish within a minute")
	}
	res := b.run(ctx, conc, *warmup, dur, *spread, *rate)
	paid := float64(res.orders) / dur.Seconds()
	fmt.Fprintf(cli.Stdout, "checkout: %d buyers for %s (%s, shipping to %s, paying with %s): %d checkouts paid, %.1f checkouts/s, %d checkouts failed\n",
		conc, dur, b.currency, b.country, b.gateway, res.orders, paid, res.failed)
	res.printArrivals(cli.Stdout, *rate, conc, dur, 0)
	res.print(cli.Stdout, append(append(slices.Clone(checkoutSteps), paymentSteps...), stepCheckout))
	fmt.Fprintf(cli.Stdout, "checkouts/s=%.1f errors=%d\n", paid, res.failed)
	if res.orders == 0 {
		return errors.New("no checkout completed")
	}
	return nil
}

// benchURLs returns the shop's URL and its GraphQL endpoint from either.
func benchURLs(raw string) (shop, endpoint string, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("%w: --url must be an http(s) URL, not %q", errUsage, raw)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/graphql")
	shop = u.String()
	return shop, shop + "/graphql", nil
}

// checkoutBench is one run of the checkout benchmark.
type checkoutBench struct {
	url, country, currency string
	staff                  *gqlClient
	// pool are the variants buyers add to their carts.
	pool []string
	// pay makes each checkout go on to pay the order with gateway;
	// shop is the shop's URL, for the return URL.
	pay           bool
	gateway, shop string
}

// gqlClient posts GraphQL documents to one endpoint. It is not safe for
// concurrent use: each buyer has its own, whose buffers it reuses from
// one request to the next.
type gqlClient struct {
	http   *http.Client
	url    string
	bearer string
	// header is the requests' header, made once: the client does not
	// change it (http.Client clones it for its timeout).
	header http.Header
	// answer holds the answer being decoded; decoding copies what it
	// keeps.
	answer bytes.Buffer
}

// gqlRequest is the body of a GraphQL request.
type gqlRequest struct {
	Query     string `json:"query"`
	Variables any    `json:"variables"`
}

// inputVars are the variables of a mutation of one input: the buyers'
// typed inputs, which encode faster than maps.
type inputVars struct {
	Input any `json:"input"`
}

// gqlError is an entry of an answer's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// coded returns the error's code (GRAPHQL_ERROR when it has none) and
// the error.
func (e *gqlError) coded() (string, error) {
	code, _ := e.Extensions["code"].(string)
	if code == "" {
		code = "GRAPHQL_ERROR"
	}
	return code, fmt.Errorf("%s: %s", code, e.Message)
}

// gqlUserError is an entry of a payload's userErrors.
type gqlUserError struct {
	Code    string   `json:"code"`
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

// gqlPayload is the userErrors of a mutation's payload: the type a
// mutation's payload is decoded into embeds it, so that gqlDo reports
// them from the same decoding.
type gqlPayload struct {
	UserErrors []gqlUserError `json:"userErrors"`
}

func (p *gqlPayload) firstUserError() *gqlUserError {
	if len(p.UserErrors) == 0 {
		return nil
	}
	return &p.UserErrors[0]
}

// gqlDo sends a document with its variables to c and decodes the field
// root of the answer's data into out, in one pass over the answer; out's
// type embeds gqlPayload when root is a mutation. It returns "" on
// success, else the code of what went wrong: the code of the first
// top-level error or userError, HTTP_<status>, NETWORK_ERROR, or
// CLIENT_ERROR when the answer has no root or one of another shape; err
// says more.
func gqlDo[T any](ctx context.Context, c *gqlClient, query string, vars any, root string, out *T) (string, error) {
	body, err := json.Marshal(gqlRequest{Query: query, Variables: vars})
	if err != nil {
		return "CLIENT_ERROR", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return "CLIENT_ERROR", err
	}
	if c.header == nil {
		c.header = http.Header{"Content-Type": {"application/json"}}
		if c.bearer != "" {
			c.header.Set("Authorization", "Bearer "+c.bearer)
		}
	}
	req.Header = c.header
	res, err := c.http.Do(req)
	if err != nil {
		return "NETWORK_ERROR", err
	}
	// Read to the end, so that the connection serves the next request.
	c.answer.Reset()
	_, err = c.answer.ReadFrom(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return "NETWORK_ERROR", err
	}
	raw := c.answer.Bytes()
	// The document has one root field: data is a map of one entry.
	var env struct {
		Data   map[string]*T `json:"data"`
		Errors []gqlError    `json:"errors"`
	}
	// A root of another shape than out's is told apart from an answer
	// that is not GraphQL's: encoding/json decodes the rest of the answer
	// before it reports the first UnmarshalTypeError.
	var shapeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(raw, &env); err != nil && !errors.As(err, &shapeErr) {
		return "HTTP_" + strconv.Itoa(res.StatusCode), fmt.Errorf("status %d: %.200s", res.StatusCode, raw)
	}
	if len(env.Errors) > 0 {
		return env.Errors[0].coded()
	}
	if res.StatusCode != http.StatusOK {
		return "HTTP_" + strconv.Itoa(res.StatusCode), fmt.Errorf("status %d: %.200s", res.StatusCode, raw)
	}
	payload, ok := env.Data[root]
	if p, isPayload := any(payload).(interface{ firstUserError() *gqlUserError }); isPayload && payload != nil {
		if e := p.firstUserError(); e != nil {
			return e.Code, fmt.Errorf("%s at %s: %s", e.Code, strings.Join(e.Field, "."), e.Message)
		}
	}
	switch {
	case shapeErr != nil:
		return "CLIENT_ERROR", fmt.Errorf("decode %s: %w", root, shapeErr)
	case !ok:
		return "CLIENT_ERROR", fmt.Errorf("decode %s: not in the answer's data", root)
	case payload != nil:
		*out = *payload
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
	if _, err := gqlDo(ctx, pub, benchSettings, nil, "shopSettings", &set); err != nil {
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
		if _, err := gqlDo(ctx, pub, benchProductsDoc, map[string]any{"after": after}, "products", &page); err != nil {
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
			if _, err := gqlDo(ctx, b.staff, benchAdjust, inputVars{in}, "inventoryAdjust", &gqlPayload{}); err != nil {
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
	var created cartCreated
	if _, err := gqlDo(ctx, c, benchCartCreate, inputVars{cartInput{Currency: b.currency, Lines: []cartLine{{VariantID: b.pool[0], Quantity: 1}}}},
		"cartCreate", &created); err != nil {
		return fmt.Errorf("create a cart: %w", err)
	}
	var probe cartAddressed
	if _, err := gqlDo(ctx, c, benchAddressUpdate, inputVars{cartInput{Token: created.Token, Address: b.address(mrand.New(mrand.NewPCG(1, 2)))}},
		"cartShippingAddressUpdate", &probe); err != nil {
		return fmt.Errorf("set a cart's address: %w", err)
	}
	if len(probe.Cart.ShippingMethods) == 0 {
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
	if _, err := gqlDo(ctx, b.staff, benchZones, nil, "shippingZones", &zones); err != nil {
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
			gqlPayload
			ShippingZone struct {
				ID string `json:"id"`
			} `json:"shippingZone"`
		}
		in := map[string]any{"name": "Bench " + b.country, "countries": []string{b.country}}
		if _, err := gqlDo(ctx, b.staff, benchZone, inputVars{in}, "shippingZoneCreate", &out); err != nil {
			return fmt.Errorf("create a shipping zone for %s: %w", b.country, err)
		}
		zoneID = out.ShippingZone.ID
	}
	in := map[string]any{"zoneId": zoneID, "name": "Bench courier", "kind": "FLAT",
		"prices": []map[string]any{{"currencyCode": b.currency, "amount": "10"}}}
	if _, err := gqlDo(ctx, b.staff, benchMethod, inputVars{in}, "shippingMethodCreate", &gqlPayload{}); err != nil {
		return fmt.Errorf("create a shipping method for %s: %w", b.country, err)
	}
	fmt.Fprintf(log, "added shipping method \"Bench courier\" (flat 10 %s) for %s\n", b.currency, b.country)
	return nil
}

// cartInput is the input of a buyer's cart mutation: the fields each
// step sends, the others left out.
type cartInput struct {
	Token          string        `json:"token,omitempty"`
	Currency       string        `json:"currency,omitempty"`
	Lines          []cartLine    `json:"lines,omitempty"`
	Email          string        `json:"email,omitempty"`
	Address        *benchAddress `json:"address,omitempty"`
	MethodID       string        `json:"methodId,omitempty"`
	IdempotencyKey string        `json:"idempotencyKey,omitempty"`
}

// cartLine is a line a buyer adds to the cart.
type cartLine struct {
	VariantID string `json:"variantId"`
	Quantity  int    `json:"quantity"`
}

// benchAddress is a buyer's shipping address.
type benchAddress struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	Line1       string `json:"line1"`
	City        string `json:"city"`
	Province    string `json:"province,omitempty"`
	PostalCode  string `json:"postalCode"`
	CountryCode string `json:"countryCode"`
	Phone       string `json:"phone,omitempty"`
}

// paymentInput is the input of the buyer's paymentCreate.
type paymentInput struct {
	OrderID        string `json:"orderId"`
	Token          string `json:"token"`
	GatewayID      string `json:"gatewayId"`
	ReturnURL      string `json:"returnUrl"`
	IdempotencyKey string `json:"idempotencyKey"`
}

// The payloads of the checkout's steps, with the fields the bench reads.
type (
	cartCreated struct {
		gqlPayload
		Token string `json:"token"`
	}
	cartAddressed struct {
		gqlPayload
		Cart struct {
			ShippingMethods []struct {
				MethodID string `json:"methodId"`
			} `json:"shippingMethods"`
		} `json:"cart"`
	}
	checkoutCompleted struct {
		gqlPayload
		Order struct {
			ID string `json:"id"`
		} `json:"order"`
		AccessToken string `json:"accessToken"`
	}
	paymentCreated struct {
		gqlPayload
		Payment *struct {
			ID     string `json:"id"`
			State  string `json:"state"`
			Action *struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"action"`
		} `json:"payment"`
	}
)

// address is a buyer's shipping address in the bench's country.
func (b *checkoutBench) address(rng *mrand.Rand) *benchAddress {
	if b.country == "CN" {
		return &benchAddress{FirstName: "芳", LastName: "王", Line1: fmt.Sprintf("西湖区文三路%d号", 1+rng.IntN(300)),
			City: "杭州市", Province: "浙江省", PostalCode: "310012", CountryCode: "CN",
			Phone: fmt.Sprintf("+86 138 %04d %04d", rng.IntN(10000), rng.IntN(10000))}
	}
	return &benchAddress{FirstName: "Bench", LastName: "Buyer " + strconv.Itoa(rng.IntN(10000)),
		Line1: strconv.Itoa(1+rng.IntN(300)) + " Bench Road", City: "Springfield", PostalCode: "12345",
		CountryCode: b.country}
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
	// offered and turnedAway count, with a rate, the arrivals of the
	// measured window and those that found every buyer busy.
	offered, turnedAway int
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
// returns what happened during dur. With rate zero each buyer checks out
// again as soon as it is done (a closed loop: the shop's capacity, and
// latencies that are mostly queueing once it is saturated). With a rate,
// checkouts arrive at that many a second whatever the shop does (an open
// loop: the latency of each step at a load the shop is given), each
// taken by an idle buyer; an arrival that finds all conc buyers busy is
// turned away and counted.
func (b *checkoutBench) run(ctx context.Context, conc int, warmup, dur time.Duration, spread bool, rate float64) *checkoutResult {
	defer onOneP()()
	start := time.Now()
	from, end := start.Add(warmup), start.Add(warmup+dur)
	total := newCheckoutResult()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	// arrivals hands an arrival to an idle buyer: unbuffered, so that a
	// send succeeds only when a buyer is waiting for one.
	var arrivals chan struct{}
	if rate > 0 {
		arrivals = make(chan struct{})
	}
	loopback := spread && isLoopbackIPv4(b.url)
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := b.buyerClients(i, loopback)
			defer func() { c.http.Transport.(*http.Transport).CloseIdleConnections() }()
			rng := mrand.New(mrand.NewPCG(uint64(i)+1, uint64(start.UnixNano())))
			mine := newCheckoutResult()
			for n := 0; ctx.Err() == nil && time.Now().Before(end); n++ {
				if arrivals != nil {
					if _, open := <-arrivals; !open {
						break
					}
				}
				if loopback && n > 0 {
					// Each checkout is another buyer: from an address
					// of its own, on a new connection, as the shop
					// and its per-address rate limit see real buyers.
					// One goroutine checking out back to back from one
					// address would spend one buyer's budget many
					// times over.
					c.use(benchTransport(i+n*conc, true))
				}
				b.checkout(ctx, c, rng, i, from, end, mine)
			}
			mu.Lock()
			total.merge(mine)
			mu.Unlock()
		}()
	}
	if arrivals != nil {
		total.offered, total.turnedAway = arrive(ctx, arrivals, rate, start, from, end)
		close(arrivals)
	}
	wg.Wait()
	return total
}

// arrive sends arrivals at rate a second from start until end, each
// on time by the clock (not a ticker, whose ticks a slow reader loses),
// and counts those of the measured window [from, end): offered, and
// turned away because no buyer was waiting.
func arrive(ctx context.Context, arrivals chan<- struct{}, rate float64, start, from, end time.Time) (offered, turnedAway int) {
	every := time.Duration(float64(time.Second) / rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * every)
		if !at.Before(end) {
			return offered, turnedAway
		}
		timer.Reset(time.Until(at))
		select {
		case <-ctx.Done():
			return offered, turnedAway
		case <-timer.C:
		}
		measured := !at.Before(from)
		if measured {
			offered++
		}
		select {
		case arrivals <- struct{}{}:
		default:
			if measured {
				turnedAway++
			}
		}
	}
}

// buyer is one bench buyer's connection to the shop: GraphQL, the
// order's status stream, and the gateway's page, whose redirect back to
// the shop it does not follow.
type buyer struct {
	*gqlClient
	page *http.Client
	// stream opens event streams: no overall timeout, which would cut a
	// stream off; each is bounded by its context instead.
	stream *http.Client
	// events reads the order's status stream, one checkout after
	// another.
	events *bufio.Reader
}

// buyerClients returns the connection of buyer i: its own source address
// on a loopback target when spread.
func (b *checkoutBench) buyerClients(i int, spread bool) *buyer {
	tr := benchTransport(i, spread)
	return &buyer{
		gqlClient: &gqlClient{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: b.url},
		page: &http.Client{Transport: tr, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		stream: &http.Client{Transport: tr},
		events: bufio.NewReader(nil),
	}
}

// use moves the buyer to transport tr, closing the connection it kept.
func (c *buyer) use(tr *http.Transport) {
	old := c.http.Transport.(*http.Transport)
	c.http.Transport, c.page.Transport, c.stream.Transport = tr, tr, tr
	old.CloseIdleConnections()
}

// attempt records the steps of one checkout in res: those that ended
// between from and end count, whenever they started, so that the rate is
// what the shop completed in the measured window (with long checkouts,
// counting only those that also started in it would leave out the ones
// that began during the warm-up).
type attempt struct {
	ctx       context.Context
	res       *checkoutResult
	from, end time.Time
}

// timed runs one step: it gives up once end has passed, records the
// latency of a success, and counts an error (its code, one sample
// message) and the checkout as failed.
func (a *attempt) timed(name string, fn func() (string, error)) bool {
	if time.Now().After(a.end) {
		return false
	}
	t0 := time.Now()
	code, err := fn()
	t1 := time.Now()
	counted := !t1.Before(a.from) && !t1.After(a.end)
	if code != "" {
		if counted && a.ctx.Err() == nil {
			a.res.errors[code]++
			a.res.failed++
			if _, ok := a.res.sample[code]; !ok {
				a.res.sample[code] = name + ": " + err.Error()
			}
		}
		return false
	}
	if counted {
		a.res.latency[name] = append(a.res.latency[name], t1.Sub(t0))
	}
	return true
}

// checkout takes one cart through checkout, and with b.pay through the
// payment, recording each step; it gives up at the first error or once
// end has passed.
func (b *checkoutBench) checkout(ctx context.Context, c *buyer, rng *mrand.Rand, buyerN int, from, end time.Time, res *checkoutResult) {
	a := &attempt{ctx: ctx, res: res, from: from, end: end}
	t0 := time.Now()
	var created cartCreated
	if !gqlStep(a, c.gqlClient, "cartCreate", benchCartCreate, cartInput{Currency: b.currency}, &created) {
		return
	}
	tok := created.Token
	// The lines the buyer picked, added at once as a storefront's "add
	// to cart" of a bundle or a saved cart does.
	picks := rng.Perm(len(b.pool))[:min(2+rng.IntN(2), len(b.pool))]
	lines := make([]cartLine, len(picks))
	for i, k := range picks {
		lines[i] = cartLine{VariantID: b.pool[k], Quantity: 1 + rng.IntN(2)}
	}
	if !gqlStep(a, c.gqlClient, "cartLinesAdd", benchLinesAdd, cartInput{Token: tok, Lines: lines}, &gqlPayload{}) {
		return
	}
	// The contact and address form: one mutation, which answers the
	// shipping methods for the address.
	email := "bench.buyer" + strconv.Itoa(buyerN) + "." + strconv.Itoa(rng.IntN(1_000_000)) + "@example.com"
	var addressed cartAddressed
	if !gqlStep(a, c.gqlClient, "cartShippingAddressUpdate", benchAddressUpdate, cartInput{Token: tok, Email: email, Address: b.address(rng)}, &addressed) {
		return
	}
	methods := addressed.Cart.ShippingMethods
	if len(methods) == 0 {
		a.timed("cartShippingAddressUpdate", func() (string, error) {
			return "NO_SHIPPING_METHOD", errors.New("the cart has no shipping method")
		})
		return
	}
	if !gqlStep(a, c.gqlClient, "cartShippingMethodSelect", benchMethodSelect, cartInput{Token: tok, MethodID: methods[0].MethodID}, &gqlPayload{}) {
		return
	}
	var done checkoutCompleted
	if !gqlStep(a, c.gqlClient, "checkoutComplete", benchComplete, cartInput{Token: tok, IdempotencyKey: newIdempotencyKey()}, &done) {
		return
	}
	if done.Order.ID == "" {
		return
	}
	if b.pay && !b.payOrder(ctx, c, a, done.Order.ID, done.AccessToken) {
		return
	}
	if t1 := time.Now(); !t1.Before(from) && !t1.After(end) {
		res.orders++
		if b.pay {
			res.latency[stepCheckout] = append(res.latency[stepCheckout], t1.Sub(t0))
		}
	}
}

// gqlStep runs a cart step of the checkout: the mutation root with its
// input, the payload decoded into out.
func gqlStep[T any](a *attempt, c *gqlClient, root, query string, in cartInput, out *T) bool {
	return a.timed(root, func() (string, error) { return gqlDo(a.ctx, c, query, inputVars{in}, root, out) })
}

// paidWaitMax bounds the wait for PAID, from opening the order's status
// stream: a checkout still unpaid then fails with NOT_PAID.
const paidWaitMax = 30 * time.Second

// payOrder pays a guest's order as a buyer does with testpay:
// paymentCreate; the order's status stream opened, as the status page
// follows it, and its first event read; "Pay" on the gateway's page when
// it asks for a redirect; then the stream's events until one says PAID
// (the gateway's notification has then been applied). Each change is
// pushed by the shop as it commits, so the bench asks nothing while it
// waits (it polled orderByToken before, about five requests a checkout).
// It reports whether the order got paid.
func (b *checkoutBench) payOrder(ctx context.Context, c *buyer, a *attempt, orderID, token string) bool {
	var created paymentCreated
	// The storefront's status page (storefront.OrderStatusPath) is where
	// the gateway sends the buyer back; the bench does not go there.
	ret := b.shop + "/orders/" + orderID + "/status?token=" + url.QueryEscape(token)
	in := paymentInput{OrderID: orderID, Token: token, GatewayID: b.gateway, ReturnURL: ret, IdempotencyKey: newIdempotencyKey()}
	if !a.timed("paymentCreate", func() (string, error) {
		if code, err := gqlDo(ctx, c.gqlClient, benchPaymentCreate, inputVars{in}, "paymentCreate", &created); code != "" {
			return code, err
		}
		if created.Payment == nil {
			return "NO_PAYMENT", errors.New("paymentCreate returned no payment and no userErrors")
		}
		switch created.Payment.State {
		case "PENDING", "AUTHORIZED", "CAPTURED":
			return "", nil
		}
		return "PAYMENT_" + created.Payment.State, fmt.Errorf("payment %s is %s at once", created.Payment.ID, created.Payment.State)
	}) {
		return false
	}
	// The stream is open before the buyer pays: the order's payment
	// cannot move unseen (the first event is the order as it stands,
	// every later change is pushed).
	followCtx, stop := context.WithTimeout(ctx, paidWaitMax)
	defer stop()
	var st *orderStream
	if !a.timed(stepFollow, func() (code string, err error) {
		st, code, err = followOrder(followCtx, c.stream, c.events, b.shop, orderID, token)
		return code, err
	}) {
		return false
	}
	defer st.close()
	if act := created.Payment.Action; act != nil && act.Type != "NONE" {
		if act.Type != "REDIRECT" || act.URL == "" {
			return a.timed(stepPayPage, func() (string, error) {
				return "UNSUPPORTED_ACTION", fmt.Errorf("the gateway asks for %s; the bench can only follow a REDIRECT to testpay's page", act.Type)
			})
		}
		if !a.timed(stepPayPage, func() (string, error) { return payOnPage(ctx, c.page, act.URL) }) {
			return false
		}
	}
	return a.timed(stepPaid, func() (string, error) {
		for o := st.first; ; {
			switch o.PaymentStatus {
			case "PAID":
				return "", nil
			case "PENDING", "AUTHORIZED":
			default:
				return "PAYMENT_STATUS_" + o.PaymentStatus, fmt.Errorf("order %s is %s, not PAID", orderID, o.PaymentStatus)
			}
			next, code, err := st.next()
			switch {
			case code == "" && next == nil:
				// The subscription ended: the order is completed or
				// cancelled, and was never seen PAID.
				return "NOT_PAID", fmt.Errorf("order %s is %s and %s: it will not be paid", orderID, o.Status, o.PaymentStatus)
			case code == "NETWORK_ERROR" && ctx.Err() != nil:
				return "CANCELLED", ctx.Err()
			case code == "NETWORK_ERROR" && errors.Is(followCtx.Err(), context.DeadlineExceeded):
				return "NOT_PAID", fmt.Errorf("order %s still %s after %s", orderID, o.PaymentStatus, paidWaitMax)
			case code != "":
				return code, err
			}
			o = next
		}
	})
}

// streamOrder is the order as the bench's subscription selects it.
type streamOrder struct {
	Status        string `json:"status"`
	PaymentStatus string `json:"paymentStatus"`
}

// orderStream is an open orderUpdated subscription over server-sent
// events (graphql.StreamHandler): first is its first event.
type orderStream struct {
	body  stdio.ReadCloser
	r     *bufio.Reader
	first *streamOrder
	// data gathers an event's data lines.
	data []byte
}

// benchFollowQuery is the query string of the status stream's request
// but the variables' value, encoded once.
var benchFollowQuery = url.Values{"operationName": {"BenchOrderStatus"}, "query": {benchFollow}}.Encode() + "&variables="

// followOrder opens the order's status stream as the storefront's status
// page does (GET /graphql/stream with the guest's access token) and reads
// its first event, the order as it stands. It returns the stream, or the
// code of what went wrong as gqlDo does. The stream lives as long as
// ctx; it reads through r, the buyer's, which no other stream uses
// meanwhile.
func followOrder(ctx context.Context, c *http.Client, r *bufio.Reader, shop, orderID, token string) (*orderStream, string, error) {
	vars, err := json.Marshal(struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}{orderID, token})
	if err != nil {
		return nil, "CLIENT_ERROR", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, shop+"/graphql/stream?"+benchFollowQuery+url.QueryEscape(string(vars)), nil)
	if err != nil {
		return nil, "CLIENT_ERROR", err
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.Do(req)
	if err != nil {
		return nil, "NETWORK_ERROR", err
	}
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		// A refusal: the JSON error envelope.
		defer res.Body.Close()
		raw, _ := stdio.ReadAll(stdio.LimitReader(res.Body, 64<<10))
		var env struct {
			Errors []gqlError `json:"errors"`
		}
		if json.Unmarshal(raw, &env) == nil && len(env.Errors) > 0 {
			code, err := env.Errors[0].coded()
			return nil, code, err
		}
		return nil, "HTTP_" + strconv.Itoa(res.StatusCode), fmt.Errorf("status %d: %.200s", res.StatusCode, raw)
	}
	r.Reset(res.Body)
	st := &orderStream{body: res.Body, r: r}
	first, code, err := st.next()
	if code == "" && first == nil {
		code, err = "STREAM_ENDED", errors.New("the order's stream ended before its first event")
	}
	if code != "" {
		st.close()
		return nil, code, err
	}
	st.first = first
	return st, "", nil
}

// next reads the stream's next result: the order, or nil and "" when the
// subscription completed, or the code of an error (a result's first
// error, NETWORK_ERROR when the stream broke or its context ended).
func (st *orderStream) next() (*streamOrder, string, error) {
	var name string
	st.data = st.data[:0]
	for {
		line, err := st.r.ReadString('\n')
		if err != nil {
			if err == stdio.EOF {
				return nil, "", nil // the server ended the stream
			}
			return nil, "NETWORK_ERROR", err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "" && name == "complete":
			return nil, "", nil
		case line == "" && name == "next":
			var res struct {
				Data struct {
					OrderUpdated *streamOrder `json:"orderUpdated"`
				} `json:"data"`
				Errors []gqlError `json:"errors"`
			}
			if err := json.Unmarshal(st.data, &res); err != nil {
				return nil, "CLIENT_ERROR", fmt.Errorf("decode an event: %w", err)
			}
			if len(res.Errors) > 0 {
				code, err := res.Errors[0].coded()
				return nil, code, err
			}
			if res.Data.OrderUpdated == nil {
				return nil, "NO_ORDER", errors.New("an event without the order")
			}
			return res.Data.OrderUpdated, "", nil
		case line == "":
			name, st.data = "", st.data[:0] // a heartbeat comment's end, or an unknown event
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if len(st.data) > 0 {
				st.data = append(st.data, '\n')
			}
			st.data = append(st.data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		}
	}
}

// close ends the stream: the server's subscription ends with the
// connection.
func (st *orderStream) close() { _ = st.body.Close() }

// payOnPage submits the gateway's page as the buyer clicking "Pay" does
// (testpay's form: POST action=pay to the page's own URL, answered with a
// redirect to the return URL).
func payOnPage(ctx context.Context, c *http.Client, page string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, page, strings.NewReader("action=pay"))
	if err != nil {
		return "CLIENT_ERROR", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		return "NETWORK_ERROR", err
	}
	defer res.Body.Close()
	body, _ := stdio.ReadAll(stdio.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusOK {
		return "PAGE_HTTP_" + strconv.Itoa(res.StatusCode), fmt.Errorf("the gateway's page answered %d: %.200s", res.StatusCode, body)
	}
	return "", nil
}

// newIdempotencyKey returns a fresh random key, as a storefront makes one
// per checkout attempt.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// rateUsage explains --rate of both checkout benches.
const rateUsage = "checkouts started a second, whatever the shop answers (an open loop: each step's latency at that load, with at most N buyers at once; an arrival finding all N busy is turned away and counted); 0: each buyer starts its next checkout at once (a closed loop: the shop's capacity)"

// maxBenchRate bounds --rate: arrivals a second one bench can time.
const maxBenchRate = 100_000

// printArrivals writes, for a run at a rate, the arrivals offered and
// those turned away: turned-away arrivals mean the rate was more than
// conc buyers could carry, and the latencies are then those of a
// saturated shop. For a closed loop it writes instead the mean time a
// checkout takes by Little's law (buyers ÷ checkouts a second), and with
// requests > 0 the mean of each of its requests: in a closed loop that
// mean is fixed by the rate, so no percentile can fall below it without
// more checkouts a second or fewer buyers.
func (r *checkoutResult) printArrivals(w stdio.Writer, rate float64, conc int, dur time.Duration, requests int) {
	if rate <= 0 {
		perSec := float64(r.orders+r.failed) / dur.Seconds()
		if perSec == 0 {
			return
		}
		mean := time.Duration(float64(conc) / perSec * float64(time.Second))
		fmt.Fprintf(w, "closed loop: %d buyers / %.1f checkouts/s = %s a checkout on average (Little's law)", conc, perSec, mean.Round(10*time.Microsecond))
		if requests > 0 {
			fmt.Fprintf(w, ", %s for each of its %d requests", (mean / time.Duration(requests)).Round(10*time.Microsecond), requests)
		}
		fmt.Fprintln(w, "; lower latencies need more checkouts/s or fewer buyers (--rate measures at a set load)")
		return
	}
	fmt.Fprintf(w, "arrivals: %.1f/s offered, %d in the measured window, %d turned away (all %d buyers busy)\n",
		rate, r.offered, r.turnedAway, conc)
}

// print writes errors by code and the percentiles of every step.
func (r *checkoutResult) print(w stdio.Writer, steps []string) {
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
	for _, s := range steps {
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
