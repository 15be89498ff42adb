package seed

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/tax"
)

// DefaultOrderBatch is how many orders go into one transaction.
const DefaultOrderBatch = 1000

// MaxSeedCustomers is the most buyer accounts Orders registers.
const MaxSeedCustomers = 1000

// maxCatalogProducts bounds the products seeded orders buy: a shop's
// sales concentrate on its best sellers, and a bounded set keeps the
// seeder's memory flat on a catalog of 100,000 products.
const maxCatalogProducts = 2000

// seedCustomerQuery finds the buyer accounts the seeder registered (and
// any other on a domain reserved for examples, which no real buyer has).
const seedCustomerQuery = "@example."

// ShopSettings reads the shop's currencies, payment deadline and tax
// mode: shop.Service.
type ShopSettings interface {
	Settings(ctx context.Context) (*shop.Settings, error)
}

// TaxRates looks up the tax rate of an address: tax.Rates.
type TaxRates interface {
	Rate(ctx context.Context, country, region string) (tax.Rate, error)
}

// OrderServices are what Orders writes through.
type OrderServices struct {
	DB       *store.DB
	Catalog  *catalog.Service
	Orders   *order.Service
	Accounts *account.Service
	Shop     ShopSettings
	// TaxRates is optional: without it seeded orders carry no tax.
	TaxRates TaxRates
}

// OrderOptions tune Orders.
type OrderOptions struct {
	// Count is how many orders to add; every run adds that many more.
	Count int
	// Customers is how many buyer accounts (on example domains) the
	// registered buyers' orders spread over; missing ones are registered
	// first. Zero means Count/50, at least 10 and at most
	// MaxSeedCustomers.
	Customers int
	// Batch is the number of orders per transaction; zero means
	// DefaultOrderBatch, at most order.MaxSeedBatch.
	Batch int
	// Progress, when set, receives progress: a bar redrawn in place when
	// Bar is set (a terminal), else a plain line every Interval (zero
	// means 5 seconds).
	Progress io.Writer
	Bar      bool
	Interval time.Duration
	// Workers is how many batches are written at once; zero means two
	// on PostgreSQL and one on SQLite (which has one writer at a time).
	Workers int
	// Seed makes a run reproducible (with the same catalog, customers and
	// clock); zero picks one at random.
	Seed uint64
}

// OrderResult says what Orders did.
type OrderResult struct {
	// Orders is the number of orders added.
	Orders int
	// Customers is the number of buyer accounts registered by this run.
	Customers int
	// Reserved is the number of open orders whose unshipped units hold
	// stock; Restocked the number of stock adjustments (RECEIVED) made so
	// that they could.
	Reserved  int
	Restocked int
	// First and Last are the numbers of the first and last order added.
	First, Last string
	Elapsed     time.Duration
}

// LogValue makes an OrderResult readable in logs.
func (r OrderResult) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("orders", r.Orders), slog.Int("customers_registered", r.Customers),
		slog.Int("reserved", r.Reserved), slog.Int("restocked", r.Restocked),
		slog.String("first", r.First), slog.String("last", r.Last), slog.Duration("elapsed", r.Elapsed),
	)
}

// Orders adds opts.Count orders with a past to the shop, for the staff
// list's benchmarks: bought over the last twelve months by the buyer
// accounts it registers and by guests, in China (Chinese names and
// addresses, CNY) and abroad (USD when the shop sells it), one to four
// lines of the active catalog each, its best sellers more often.
// Recent orders are still open (unfulfilled, partly shipped, shipped or
// delivered; the last half hour's partly unpaid); older ones were
// completed, or cancelled unpaid at their deadline. Payments are
// recorded as the platform's moves (PENDING -> PAID), never a staff's.
//
// Orders are written Batch at a time, each batch in one transaction,
// Workers transactions at once, through order.Service.InsertSeedOrders:
// numbers follow the order sequence and creation times increase with
// them. A run that fails or is interrupted keeps the batches written so
// far and leaves the numbers of the batches in flight unused.
//
// The stock an open order has not shipped is reserved like at checkout,
// so staff can ship or cancel seeded orders; a variant short of it is
// restocked first (a RECEIVED adjustment for the shortfall). What shipped
// draws no stock: the catalog's stock on hand counts as taken after it.
// No event is emitted for the orders themselves (see InsertSeedOrders);
// registering buyers emits the accounts' usual events, to example
// addresses.
//
// Orders acts as the system subject "seed". It fails when the catalog
// has no active product priced in the shop's default currency (seed the
// demo shop first).
func Orders(ctx context.Context, svc OrderServices, opts OrderOptions) (OrderResult, error) {
	start := time.Now()
	var res OrderResult
	switch {
	case opts.Count <= 0:
		return res, errors.New("seed: the number of orders must be positive")
	case opts.Customers < 0:
		return res, errors.New("seed: the number of customers cannot be negative")
	case opts.Workers < 0:
		return res, errors.New("seed: the number of workers cannot be negative")
	case opts.Batch < 0 || opts.Batch > order.MaxSeedBatch:
		return res, fmt.Errorf("seed: a batch holds 1 to %d orders", order.MaxSeedBatch)
	case svc.DB == nil || svc.Catalog == nil || svc.Orders == nil || svc.Accounts == nil || svc.Shop == nil:
		return res, errors.New("seed: orders need the database, catalog, orders, accounts and shop settings")
	}
	if opts.Batch == 0 {
		opts.Batch = DefaultOrderBatch
	}
	if opts.Customers == 0 {
		opts.Customers = min(max(opts.Count/50, 10), MaxSeedCustomers)
	}
	opts.Customers = min(opts.Customers, MaxSeedCustomers)
	if opts.Seed == 0 {
		opts.Seed = mrand.Uint64()
	}
	ctx = authz.WithSubject(ctx, authz.SystemSubject("seed"))
	set, err := svc.Shop.Settings(ctx)
	if err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}
	g := &generator{rng: mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)), settings: set,
		taxes: map[string]int64{}, taxRates: svc.TaxRates}
	if err := g.loadCatalog(ctx, svc.Catalog); err != nil {
		return res, err
	}
	if res.Customers, err = ensureCustomers(ctx, svc.Accounts, opts.Customers, opts.Progress); err != nil {
		return res, err
	}
	if g.customers, err = seededCustomers(ctx, svc.Accounts, opts.Customers); err != nil {
		return res, err
	}

	bar := newOrderProgress(opts.Progress, opts.Bar, opts.Interval, opts.Count)
	g.now = time.Now().UTC()
	g.from = g.now.Add(-365 * 24 * time.Hour)
	if err := g.run(ctx, svc, opts, bar, &res); err != nil {
		return res, err
	}
	bar.finish()
	res.Elapsed = time.Since(start)
	return res, nil
}

// seedBatch is a batch of orders and the numbers taken for them.
type seedBatch struct {
	first  int64
	orders []order.SeedOrder
	// from is the index of the batch's first order in the run.
	from int
}

// run makes the orders a batch at a time and hands the batches to
// opts.Workers transactions at once. Numbers are taken per batch, in a
// short transaction of their own, so that the batches' transactions do
// not queue on the order sequence. Batches with open orders (which
// restock and reserve) take turns, so two of them never race for the
// same stock.
func (g *generator) run(ctx context.Context, svc OrderServices, opts OrderOptions, bar *orderProgress, res *OrderResult) error {
	workers := opts.Workers
	if workers == 0 {
		workers = 1
		if svc.DB.Dialect == store.Postgres {
			workers = 2 // SQLite has one writer at a time anyway
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex // guards res, firstErr, bar
		stockTurn sync.Mutex
		firstErr  error
		jobs      = make(chan seedBatch)
		minSeq    int64
		maxSeq    int64
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				stock := false
				for i := range b.orders {
					if len(unshipped(&b.orders[i])) > 0 {
						stock = true
						break
					}
				}
				if stock {
					stockTurn.Lock()
				}
				var placed []*order.Order
				restocked := 0
				err := svc.DB.RunInTx(ctx, func(ctx context.Context) error {
					var err error
					if restocked, err = restock(ctx, svc.Catalog, b.orders); err != nil {
						return err
					}
					placed, err = svc.Orders.InsertSeedOrders(ctx, b.first, b.orders)
					return err
				})
				if stock {
					stockTurn.Unlock()
				}
				if err != nil {
					fail(fmt.Errorf("seed: orders %d to %d: %w", b.from+1, b.from+len(b.orders), err))
					continue
				}
				mu.Lock()
				res.Restocked += restocked
				for _, o := range placed {
					if o.Status == order.Open && (o.FulfillmentStatus == order.Unfulfilled || o.FulfillmentStatus == order.PartiallyFulfilled) {
						res.Reserved++
					}
					if minSeq == 0 || o.Seq < minSeq {
						minSeq, res.First = o.Seq, o.Number
					}
					if o.Seq > maxSeq {
						maxSeq, res.Last = o.Seq, o.Number
					}
				}
				res.Orders += len(placed)
				bar.update(res.Orders)
				mu.Unlock()
			}
		}()
	}
	span := g.now.Sub(g.from) - time.Minute
produce:
	for done := 0; done < opts.Count; {
		n := min(opts.Batch, opts.Count-done)
		b := seedBatch{orders: make([]order.SeedOrder, n), from: done}
		for i := range b.orders {
			// Creation times increase with the index, as numbers do.
			k := float64(done+i) + g.rng.Float64()
			placed := g.from.Add(time.Duration(k / float64(opts.Count) * float64(span)))
			var err error
			if b.orders[i], err = g.order(ctx, placed); err != nil {
				fail(err)
				break produce
			}
		}
		var err error
		if b.first, err = svc.Orders.TakeSeedNumbers(ctx, n); err != nil {
			fail(fmt.Errorf("seed: take order numbers: %w", err))
			break
		}
		select {
		case jobs <- b:
		case <-ctx.Done():
			break produce
		}
		done += n
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// unshipped is what an open seeded order will reserve: its units not
// shipped, by variant.
func unshipped(o *order.SeedOrder) map[string]int64 {
	if !o.CompletedAt.IsZero() || !o.CancelledAt.IsZero() {
		return nil
	}
	out := map[string]int64{}
	for i, l := range o.Place.Lines {
		q := l.Quantity
		if o.Shipped != nil {
			q -= o.Shipped[i]
		}
		if q > 0 {
			out[l.VariantID] += q
		}
	}
	return out
}

// restock adds stock on hand to every variant whose available stock is
// short of what the batch's open orders will reserve, by the shortfall,
// and returns how many adjustments it made.
func restock(ctx context.Context, cat *catalog.Service, batch []order.SeedOrder) (int, error) {
	need := map[string]int64{}
	for i := range batch {
		for v, q := range unshipped(&batch[i]) {
			need[v] += q
		}
	}
	if len(need) == 0 {
		return 0, nil
	}
	ids := make([]string, 0, len(need))
	for v := range need {
		ids = append(ids, v)
	}
	sort.Strings(ids) // the same lock order in every transaction
	levels, err := cat.InventoryLevels(ctx, ids)
	if err != nil {
		return 0, fmt.Errorf("read stock: %w", err)
	}
	n := 0
	for _, v := range ids {
		short := need[v] - levels[v].Available()
		if l, ok := levels[v]; ok && l.Reserved > l.OnHand {
			// Stock counted down under its reservations: bring on hand
			// back up to what is reserved first.
			short += l.Reserved - l.OnHand
		}
		if short <= 0 {
			continue
		}
		if _, _, err := cat.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: v, Delta: short,
			Reason: catalog.ReasonReceived, Note: "Restocked for seeded orders."}); err != nil {
			return n, fmt.Errorf("restock %s: %w", v, err)
		}
		n++
	}
	return n, nil
}

// ensureCustomers registers seeded buyer accounts until want of them
// exist, several at a time (each registration hashes a password), and
// returns how many it registered.
func ensureCustomers(ctx context.Context, accounts *account.Service, want int, progress io.Writer) (int, error) {
	have, err := listSeededCustomers(ctx, accounts, want)
	if err != nil {
		return 0, err
	}
	if len(have) >= want {
		return 0, nil
	}
	taken := make(map[string]bool, len(have))
	for _, c := range have {
		taken[c.Email] = true
	}
	var regs []account.Registration
	for k := 0; len(have)+len(regs) < want; k++ {
		r := customerRegistration(k)
		if taken[r.Email] {
			continue
		}
		if r.Password, err = randomPassword(); err != nil {
			return 0, err
		}
		regs = append(regs, r)
	}
	if progress != nil {
		fmt.Fprintf(progress, "registering %d buyer accounts\n", len(regs))
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan account.Registration)
	)
	for range max(runtime.NumCPU(), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				if err := accounts.Register(ctx, r); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("seed: register %s: %w", r.Email, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range regs {
		next <- r
	}
	close(next)
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return len(regs), nil
}

// customerRegistration is seeded buyer k: two in three in China.
func customerRegistration(k int) account.Registration {
	h := int(fnvHash(fmt.Sprint("customer", k)))
	domain := emailDomains[k%len(emailDomains)]
	if k%3 != 2 {
		fam, giv := cnFamilies[h%len(cnFamilies)], cnGiven[(h/7)%len(cnGiven)]
		return account.Registration{Email: fmt.Sprintf("%s.%s.%04d@%s", giv.latin, fam.latin, k+1, domain),
			FirstName: giv.native, LastName: fam.native, AcceptsMarketing: k%4 == 0}
	}
	first, last := westFirst[h%len(westFirst)], westLast[(h/7)%len(westLast)]
	return account.Registration{Email: fmt.Sprintf("%s.%s.%04d@%s", strings.ToLower(first), emailLocalPart(last), k+1, domain),
		FirstName: first, LastName: last, AcceptsMarketing: k%4 == 0}
}

// emailLocalPart spells a name in ASCII for an email address.
func emailLocalPart(s string) string {
	r := strings.NewReplacer("ü", "ue", "ö", "oe", "ä", "ae", "ß", "ss")
	return strings.ToLower(r.Replace(s))
}

// randomPassword is a password nobody knows: seeded buyers sign in after
// a password reset, like any buyer who forgot theirs.
func randomPassword() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// listSeededCustomers returns up to limit buyer accounts on example
// domains, oldest id first.
func listSeededCustomers(ctx context.Context, accounts *account.Service, limit int) ([]*account.Customer, error) {
	var out []*account.Customer
	req := page.Request{First: page.MaxFirst}
	for len(out) < limit {
		p, err := accounts.List(ctx, account.CustomerFilter{Query: seedCustomerQuery}, req)
		if err != nil {
			return nil, fmt.Errorf("seed: list customers: %w", err)
		}
		out = append(out, p.Items...)
		if !p.HasNext || len(p.Cursors) == 0 {
			break
		}
		req.After = &p.Cursors[len(p.Cursors)-1]
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// buyer is a seeded customer account with the address it ships to.
type buyer struct {
	id, email string
	address   order.Address
	cn        bool
}

// seededCustomers loads the buyers orders are spread over, each with a
// stable address of their own.
func seededCustomers(ctx context.Context, accounts *account.Service, limit int) ([]buyer, error) {
	cs, err := listSeededCustomers(ctx, accounts, limit)
	if err != nil {
		return nil, err
	}
	out := make([]buyer, 0, len(cs))
	for _, c := range cs {
		if c.Erased() {
			continue
		}
		rng := mrand.New(mrand.NewPCG(uint64(fnvHash(c.ID)), 1))
		cn := strings.ContainsFunc(c.LastName+c.FirstName, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff })
		addr := randomAddress(rng, cn)
		addr.FirstName, addr.LastName = c.FirstName, c.LastName
		out = append(out, buyer{id: c.ID, email: c.Email, address: addr, cn: cn})
	}
	return out, nil
}

// sellable is a variant seeded orders may buy, with its prices.
type sellable struct {
	variantID, productID, sku, productTitle, variantTitle string
	weight                                                int64
	prices                                                map[money.Currency]money.Money
}

// generator makes seeded orders.
type generator struct {
	rng       *mrand.Rand
	settings  *shop.Settings
	now, from time.Time
	// pool holds the variants by popularity, best seller first; weights
	// are cumulative.
	pool      []sellable
	weights   []float64
	customers []buyer
	taxRates  TaxRates
	taxes     map[string]int64 // country/region -> basis points
}

// loadCatalog reads up to maxCatalogProducts active products with their
// variants and prices, and ranks them by a popularity that falls with
// rank (a Zipf-like law).
func (g *generator) loadCatalog(ctx context.Context, cat *catalog.Service) error {
	def := g.settings.DefaultCurrency()
	req := page.Request{First: page.MaxFirst}
	for read := 0; read < maxCatalogProducts; {
		p, err := cat.ListProducts(ctx, catalog.ProductFilter{Status: catalog.StatusActive}, req)
		if err != nil {
			return fmt.Errorf("seed: list products: %w", err)
		}
		if err := g.addProducts(ctx, cat, p.Items); err != nil {
			return err
		}
		read += len(p.Items)
		if !p.HasNext || len(p.Cursors) == 0 {
			break
		}
		req.After = &p.Cursors[len(p.Cursors)-1]
	}
	g.pool = slices.DeleteFunc(g.pool, func(s sellable) bool { _, ok := s.prices[def]; return !ok })
	if len(g.pool) == 0 {
		return fmt.Errorf("seed: no active product is priced in %s; run `kassa seed demo` first", def.Code())
	}
	g.rng.Shuffle(len(g.pool), func(i, j int) { g.pool[i], g.pool[j] = g.pool[j], g.pool[i] })
	g.weights = make([]float64, len(g.pool))
	sum := 0.0
	for i := range g.pool {
		sum += 1 / float64(i+5)
		g.weights[i] = sum
	}
	return nil
}

func (g *generator) addProducts(ctx context.Context, cat *catalog.Service, ps []catalog.Product) error {
	if len(ps) == 0 {
		return nil
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	vm, err := cat.VariantsByProductIDs(ctx, ids)
	if err != nil {
		return fmt.Errorf("seed: read variants: %w", err)
	}
	var vids []string
	for _, vs := range vm {
		for _, v := range vs {
			vids = append(vids, v.ID)
		}
	}
	pm, err := cat.PricesByVariantIDs(ctx, vids)
	if err != nil {
		return fmt.Errorf("seed: read prices: %w", err)
	}
	for _, p := range ps {
		for _, v := range vm[p.ID] {
			if v.Archived || len(pm[v.ID]) == 0 {
				continue
			}
			s := sellable{variantID: v.ID, productID: p.ID, sku: v.SKU, productTitle: p.Title, variantTitle: v.Title,
				weight: int64(v.WeightGrams), prices: map[money.Currency]money.Money{}}
			if len(vm[p.ID]) == 1 && len(p.Options) == 0 {
				s.variantTitle = ""
			}
			for _, pr := range pm[v.ID] {
				// A price above MaxPrice (set before prices were bounded)
				// could overflow an order's total: checkout refuses such a
				// cart, and the seed leaves the price out.
				if g.settings.Sells(pr.Amount.Currency()) && pr.Amount.Amount() <= money.MaxPrice {
					s.prices[pr.Amount.Currency()] = pr.Amount
				}
			}
			g.pool = append(g.pool, s)
		}
	}
	return nil
}

// pick returns a variant at random, best sellers more often.
func (g *generator) pick() *sellable {
	x := g.rng.Float64() * g.weights[len(g.weights)-1]
	i, _ := slices.BinarySearch(g.weights, x)
	return &g.pool[min(i, len(g.pool)-1)]
}

// chance reports true with probability p.
func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// between returns a duration between lo and hi.
func (g *generator) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)+1))
}

// order makes one seeded order placed at placed.
func (g *generator) order(ctx context.Context, placed time.Time) (order.SeedOrder, error) {
	var (
		email, customerID string
		addr              order.Address
		cn                bool
	)
	if len(g.customers) > 0 && g.chance(0.55) {
		// Some buyers come back often: the first ones most.
		b := g.customers[int(float64(len(g.customers))*g.rng.Float64()*g.rng.Float64())]
		email, customerID, addr, cn = b.email, b.id, b.address, b.cn
	} else {
		cn = g.chance(0.7)
		addr = randomAddress(g.rng, cn)
		email = g.guestEmail(&addr, cn)
	}
	cur := g.settings.DefaultCurrency()
	if !cn && g.settings.Sells(money.USD) {
		cur = money.USD
	}

	nLines := 1
	switch r := g.rng.Float64(); {
	case r < 0.05:
		nLines = 4
	case r < 0.2:
		nLines = 3
	case r < 0.5:
		nLines = 2
	}
	var (
		lines  []order.PlaceLine
		priced []cart.PricedLine
		seen   = map[string]bool{}
	)
	for tries := 0; len(lines) < nLines && tries < 20; tries++ {
		s := g.pick()
		price, ok := s.prices[cur]
		if !ok || seen[s.variantID] {
			continue
		}
		seen[s.variantID] = true
		qty := int64(1)
		if r := g.rng.Float64(); r < 0.07 {
			qty = 3
		} else if r < 0.25 {
			qty = 2
		}
		lines = append(lines, order.PlaceLine{VariantID: s.variantID, ProductID: s.productID, SKU: s.sku,
			ProductTitle: s.productTitle, VariantTitle: s.variantTitle, WeightGrams: s.weight, Quantity: qty, UnitPrice: price})
		priced = append(priced, cart.PricedLine{UnitPrice: price, Quantity: qty})
	}
	if len(lines) == 0 {
		// Only default-currency prices: buy in it.
		cur = g.settings.DefaultCurrency()
		s := g.pick()
		for _, ok := s.prices[cur]; !ok; _, ok = s.prices[cur] {
			s = g.pick()
		}
		lines = []order.PlaceLine{{VariantID: s.variantID, ProductID: s.productID, SKU: s.sku, ProductTitle: s.productTitle,
			VariantTitle: s.variantTitle, WeightGrams: s.weight, Quantity: 1, UnitPrice: s.prices[cur]}}
		priced = []cart.PricedLine{{UnitPrice: s.prices[cur], Quantity: 1}}
	}

	choices := westShipping
	if cn {
		choices = cnShipping
	}
	ship := choices[0]
	if g.chance(0.25) {
		ship = choices[1]
	}
	shipPrice, err := money.Parse(ship.price, cur)
	if err != nil {
		return order.SeedOrder{}, fmt.Errorf("seed: shipping price: %w", err)
	}
	if ship.freeOver != "" {
		goods := money.Zero(cur)
		for _, p := range priced {
			sub, _ := p.UnitPrice.Mul(p.Quantity)
			goods, _ = goods.Add(sub)
		}
		if over, err := money.Parse(ship.freeOver, cur); err == nil && goods.Amount() >= over.Amount() {
			shipPrice = money.Zero(cur)
		}
	}
	bps, err := g.taxRate(ctx, addr.CountryCode, addr.Province)
	if err != nil {
		return order.SeedOrder{}, err
	}
	tot, err := cart.ComputeTotals(cart.TotalsInput{Currency: cur, Lines: priced, Shipping: shipPrice,
		TaxBasisPoints: bps, TaxIncluded: g.settings.PricesIncludeTax})
	if err != nil {
		return order.SeedOrder{}, fmt.Errorf("seed: %w", err)
	}
	for i := range lines {
		lt := tot.Lines[i]
		lines[i].Subtotal, lines[i].Discount, lines[i].Tax, lines[i].Total = lt.Subtotal, lt.Discount, lt.Tax, lt.Total
	}
	so := order.SeedOrder{
		Place: order.PlaceInput{CartID: id.New("cart"), CustomerID: customerID, Email: email, Currency: cur,
			ShippingAddress: addr, BillingAddress: addr, ShippingMethodName: ship.name, Lines: lines, Totals: tot.Totals},
		PlacedAt: placed,
	}
	g.history(&so, cn)
	return so, nil
}

// history gives a seeded order its past by its age: the last half hour's
// orders are partly unpaid; the last days' are paid and on their way;
// older ones were delivered and completed; a few of every age were never
// paid and cancelled at their deadline.
func (g *generator) history(so *order.SeedOrder, cn bool) {
	deadline := g.settings.PaymentDeadline
	// "Now" as InsertSeedOrders will see it, with a margin: an unpaid
	// open order must still be within its deadline when written.
	now := time.Now().UTC()
	age := now.Sub(so.PlacedAt)
	ok := func(t time.Time) bool { return t.Before(now) }

	if age < deadline-time.Minute && g.chance(0.6) {
		return // open, unpaid, within its deadline: reserves its stock
	}
	if cancelled := so.PlacedAt.Add(deadline); ok(cancelled) && g.chance(0.06) {
		so.CancelledAt, so.CancelReason = cancelled, order.DeadlineReason // as the deadline closer cancels
		return
	}
	paid := so.PlacedAt.Add(g.between(30*time.Second, min(deadline-time.Second, 20*time.Minute)))
	if !ok(paid) {
		paid = so.PlacedAt
	}
	so.PaidAt, so.PaymentMethod = paid, paymentMethods[g.rng.IntN(len(paymentMethods))]

	day := 24 * time.Hour
	var target order.FulfillmentStatus
	switch r := g.rng.Float64(); {
	case age < 2*day:
		switch {
		case r < 0.55:
			target = order.Unfulfilled
		case r < 0.7:
			target = order.PartiallyFulfilled
		default:
			target = order.Fulfilled
		}
	case age < 14*day:
		switch {
		case r < 0.1:
			target = order.Unfulfilled
		case r < 0.15:
			target = order.PartiallyFulfilled
		case r < 0.5:
			target = order.Fulfilled
		default:
			target = order.Delivered
		}
	default:
		target = order.Delivered
		if r < 0.1 {
			target = order.Fulfilled
		}
	}
	if target == order.Unfulfilled {
		return
	}
	shipped := paid.Add(g.between(2*time.Hour, 30*time.Hour))
	if !ok(shipped) {
		return
	}
	so.ShippedAt = shipped
	so.Shipped = make([]int64, len(so.Place.Lines))
	for i, l := range so.Place.Lines {
		so.Shipped[i] = l.Quantity
	}
	carriers := westCarriers
	if cn {
		carriers = cnCarriers
	}
	c := carriers[g.rng.IntN(len(carriers))]
	so.Carrier, so.TrackingNumber = c.name, c.prefix+g.digits(c.digits)
	if target == order.PartiallyFulfilled {
		// One unit of the last line is still to come.
		so.Shipped[len(so.Shipped)-1]--
		var units int64
		for _, q := range so.Shipped {
			units += q
		}
		if units == 0 { // a single unit ships whole or not at all
			so.Shipped, so.ShippedAt, so.Carrier, so.TrackingNumber = nil, time.Time{}, "", ""
		}
		return
	}
	if target == order.Delivered {
		if delivered := shipped.Add(g.between(18*time.Hour, 5*day)); ok(delivered) {
			so.DeliveredAt = delivered
		}
	}
	closed := so.ShippedAt
	if !so.DeliveredAt.IsZero() {
		closed = so.DeliveredAt
	}
	// Staff close most orders a few days after they arrived; a few stay
	// open a while longer.
	if age >= 14*day && g.chance(0.97) {
		if completed := closed.Add(g.between(time.Hour, 4*day)); ok(completed) {
			so.CompletedAt = completed
		}
	} else if !so.DeliveredAt.IsZero() && g.chance(0.2) {
		if completed := closed.Add(g.between(time.Hour, day)); ok(completed) {
			so.CompletedAt = completed
		}
	}
}

// digits returns n random decimal digits.
func (g *generator) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b)
}

// guestEmail makes up a guest's email address from their name.
func (g *generator) guestEmail(a *order.Address, cn bool) string {
	domain := emailDomains[g.rng.IntN(len(emailDomains))]
	if cn {
		fam, giv := cnFamilies[g.rng.IntN(len(cnFamilies))], cnGiven[g.rng.IntN(len(cnGiven))]
		a.FirstName, a.LastName = giv.native, fam.native
		if g.chance(0.5) {
			return fmt.Sprintf("%s%s%d@%s", fam.latin, giv.latin, g.rng.IntN(1000), domain)
		}
		return fmt.Sprintf("%s.%s%d@%s", giv.latin, fam.latin, g.rng.IntN(100), domain)
	}
	first, last := westFirst[g.rng.IntN(len(westFirst))], westLast[g.rng.IntN(len(westLast))]
	a.FirstName, a.LastName = first, last
	return fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), emailLocalPart(last), g.rng.IntN(100), domain)
}

// taxRate returns the tax rate of a country and region, cached.
func (g *generator) taxRate(ctx context.Context, country, region string) (int64, error) {
	if g.taxRates == nil {
		return 0, nil
	}
	key := country + "/" + region
	if bps, ok := g.taxes[key]; ok {
		return bps, nil
	}
	r, err := g.taxRates.Rate(ctx, country, region)
	if err != nil {
		return 0, fmt.Errorf("seed: tax rate of %s: %w", key, err)
	}
	g.taxes[key] = r.BasisPoints
	return r.BasisPoints, nil
}

// randomAddress makes up an address in China or abroad; the name is the
// caller's to fill in.
func randomAddress(rng *mrand.Rand, cn bool) order.Address {
	if cn {
		c := cnCities[rng.IntN(len(cnCities))]
		return order.Address{
			Line1:       fmt.Sprintf("%s%s%d号", c.districts[rng.IntN(len(c.districts))], c.streets[rng.IntN(len(c.streets))], 1+rng.IntN(300)),
			Line2:       fmt.Sprintf("%d栋%d室", 1+rng.IntN(20), 101+rng.IntN(30)*100+rng.IntN(8)),
			City:        c.city,
			Province:    c.province,
			PostalCode:  c.postal,
			CountryCode: "CN",
			Phone:       fmt.Sprintf("+86 1%d%d %04d %04d", 3+rng.IntN(7), rng.IntN(10), rng.IntN(10000), rng.IntN(10000)),
		}
	}
	c := westCities[rng.IntN(len(westCities))]
	a := order.Address{
		Line1:       fmt.Sprintf("%d %s", 1+rng.IntN(900), c.streets[rng.IntN(len(c.streets))]),
		City:        c.city,
		Province:    c.province,
		PostalCode:  c.postal,
		CountryCode: c.country,
		Phone:       fmt.Sprintf("%s %03d %04d", c.phonePrefix, rng.IntN(1000), rng.IntN(10000)),
	}
	if rng.IntN(3) == 0 {
		a.Line2 = fmt.Sprintf("Apt %d", 1+rng.IntN(60))
	}
	return a
}
