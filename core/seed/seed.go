// Package seed fills a Kassa database with a demo shop: 56 hand-made
// products (tea, teaware, apparel, home, tech accessories, stationery) with
// options, variants, prices in CNY and USD and stock, in 8 collections; and,
// on request, any number of generated products for load tests.
//
//	ctx = authz.WithSubject(ctx, authz.SystemSubject("seed"))
//	res, err := seed.Demo(ctx, db, catalogService, seed.Options{Products: 100_000, Progress: os.Stderr})
//
// Demo is idempotent: it recognises its products and collections by handle
// and only creates what is missing, so running it twice changes nothing.
// It writes through the catalog service, so the data obeys the same rules
// as data entered by hand.
package seed

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
)

// DefaultBatch is how many generated products go into one transaction:
// large enough that statements are few, small enough that a transaction
// holds the SQLite write lock for well under a second.
const DefaultBatch = 1000

// Options tune Demo.
type Options struct {
	// Products is how many products the demo shop should have. Zero means
	// the hand-made ones; a larger number adds generated products
	// ("synthetic-000001", ...) up to it; a smaller one takes only the
	// first hand-made ones.
	Products int
	// Progress, when set, receives a progress bar redrawn in place with
	// carriage returns, and a final newline.
	Progress io.Writer
	// Batch is the number of generated products per transaction; zero
	// means DefaultBatch.
	Batch int
}

// Result says what Demo did.
type Result struct {
	// Created is the number of products created by this run.
	Created int
	// Existing is the number of demo products that were already there.
	Existing int
	// Collections is the number of collections created by this run.
	Collections int
	// Elapsed is how long the run took.
	Elapsed time.Duration
}

// LogValue makes a Result readable in logs.
func (r Result) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("created", r.Created),
		slog.Int("existing", r.Existing),
		slog.Int("collections", r.Collections),
		slog.Duration("elapsed", r.Elapsed),
	)
}

// Demo creates whatever of the demo shop is missing, acting as the system
// subject "seed". The hand-made part is one transaction; generated products
// are created Batch at a time.
func Demo(ctx context.Context, db *store.DB, svc *catalog.Service, opts Options) (Result, error) {
	start := time.Now()
	if opts.Products < 0 {
		return Result{}, errors.New("seed: the number of products cannot be negative")
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	ctx = authz.WithSubject(ctx, authz.SystemSubject("seed"))
	total := opts.Products
	handMade := products
	if total == 0 {
		total = len(products)
	}
	if total < len(handMade) {
		handMade = handMade[:total]
	}
	bar := newProgress(opts.Progress, total)
	var res Result
	err := db.RunInTx(ctx, func(ctx context.Context) error {
		return seedHandMade(ctx, svc, handMade, &res)
	})
	if err != nil {
		return res, err
	}
	bar.update(len(handMade))
	for n := len(products); n < total; n += opts.Batch {
		end := min(n+opts.Batch, total)
		if err := seedSynthetic(ctx, svc, n, end, &res); err != nil {
			return res, err
		}
		bar.update(end)
	}
	bar.finish()
	res.Elapsed = time.Since(start)
	return res, nil
}

// seedHandMade creates the missing hand-made products and collections.
func seedHandMade(ctx context.Context, svc *catalog.Service, ts []template, res *Result) error {
	handles := make([]string, len(ts))
	for i, t := range ts {
		handles[i] = t.handle
	}
	exists, err := svc.ExistingProductHandles(ctx, handles)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	var ins []catalog.CreateProductInput
	for _, t := range ts {
		if !exists[t.handle] {
			ins = append(ins, t.input())
		}
	}
	res.Existing += len(ts) - len(ins)
	ids := make(map[string]string, len(ts)) // handle -> id of every demo product
	created := make(map[string]bool, len(ins))
	if len(ins) > 0 {
		ps, err := svc.BulkCreateProducts(ctx, ins)
		if err != nil {
			return fmt.Errorf("seed: create demo products: %w", err)
		}
		for _, p := range ps {
			ids[p.Handle] = p.ID
			created[p.Handle] = true
		}
		res.Created += len(ps)
	}
	for _, c := range collections {
		if err := seedCollection(ctx, svc, c, exists, ids, created, res); err != nil {
			return err
		}
	}
	return nil
}

// seedCollection creates a collection with every demo product it lists
// that exists, or adds to an existing one the products created by this
// run, so a merchant's edits to a seeded collection survive a re-run.
func seedCollection(ctx context.Context, svc *catalog.Service, c collection, exists map[string]bool, ids map[string]string, created map[string]bool, res *Result) error {
	col, err := svc.GetCollectionByHandle(ctx, c.handle)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		var members []string
		for _, h := range c.products {
			if created[h] {
				members = append(members, ids[h])
				continue
			}
			if !exists[h] {
				continue // not part of this (smaller) demo
			}
			p, err := svc.GetProductByHandle(ctx, h)
			if errors.Is(err, errs.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			members = append(members, p.ID)
		}
		if _, err := svc.CreateCollection(ctx, catalog.CollectionInput{
			Handle: c.handle, Title: c.title, Description: c.description, ProductIDs: members,
		}); err != nil {
			return fmt.Errorf("seed: create collection %s: %w", c.handle, err)
		}
		res.Collections++
		return nil
	case err != nil:
		return fmt.Errorf("seed: %w", err)
	}
	var added []string
	for _, h := range c.products {
		if created[h] {
			added = append(added, ids[h])
		}
	}
	if len(added) == 0 {
		return nil
	}
	if _, err := svc.AddProductsToCollection(ctx, catalog.CollectionProductsInput{CollectionID: col.ID, ProductIDs: added}); err != nil {
		return fmt.Errorf("seed: fill collection %s: %w", c.handle, err)
	}
	return nil
}

// seedSynthetic creates the missing generated products numbered from to
// end (exclusive) in one transaction.
func seedSynthetic(ctx context.Context, svc *catalog.Service, from, end int, res *Result) error {
	handles := make([]string, 0, end-from)
	for i := from; i < end; i++ {
		handles = append(handles, syntheticHandle(i))
	}
	exists, err := svc.ExistingProductHandles(ctx, handles)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	ins := make([]catalog.CreateProductInput, 0, end-from)
	for i := from; i < end; i++ {
		if !exists[syntheticHandle(i)] {
			ins = append(ins, synthetic(i))
		}
	}
	res.Existing += end - from - len(ins)
	if len(ins) == 0 {
		return nil
	}
	if _, err := svc.BulkCreateProducts(ctx, ins); err != nil {
		return fmt.Errorf("seed: create products %d to %d: %w", from, end-1, err)
	}
	res.Created += len(ins)
	return nil
}

// input turns a template into a product with every combination of its
// option values as a variant (at most six).
func (t template) input() catalog.CreateProductInput {
	in := catalog.CreateProductInput{
		Handle: t.handle, Title: t.title, Description: t.description, Vendor: t.vendor, ProductType: t.kind,
		Tags: t.tags, Status: catalog.StatusActive,
	}
	if t.draft {
		in.Status = catalog.StatusDraft
	}
	for _, o := range t.options {
		in.Options = append(in.Options, catalog.Option{Name: o.name, Values: o.values})
	}
	onSale := fnvHash(t.handle)%5 == 0
	for _, combo := range combinations(t.options, 6) {
		sku := strings.ToUpper(t.handle)
		var sel []catalog.SelectedOption
		for i, vi := range combo {
			val := t.options[i].values[vi]
			sel = append(sel, catalog.SelectedOption{Name: t.options[i].name, Value: val})
			sku += "-" + strings.ToUpper(catalog.Slugify(val))
		}
		cny := t.base
		if len(combo) > 0 {
			cny += t.step * int64(combo[0])
		}
		in.Variants = append(in.Variants, catalog.VariantInput{
			SKU: sku, SelectedOptions: sel, Prices: prices(cny, onSale),
			InventoryQuantity: stock(sku), WeightGrams: 100 + int(fnvHash(sku)%900),
		})
	}
	return in
}

// combinations lists up to limit combinations of option value indexes, in
// order (the last option varies fastest).
func combinations(opts []option, limit int) [][]int {
	out := [][]int{{}}
	for _, o := range opts {
		var next [][]int
		for _, c := range out {
			for vi := range o.values {
				next = append(next, append(append([]int{}, c...), vi))
			}
		}
		out = next
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// prices returns a CNY price and its USD counterpart at about 7 yuan to the
// dollar, ending in .99; on sale, with compare-at prices a quarter higher.
func prices(cnyFen int64, onSale bool) []catalog.PriceInput {
	usdCents := (cnyFen+699)/700*100 - 1
	ps := []catalog.PriceInput{
		{Currency: "CNY", Amount: decimal(cnyFen)},
		{Currency: "USD", Amount: decimal(usdCents)},
	}
	if onSale {
		ps[0].CompareAtAmount = decimal((cnyFen * 125 / 100) / 100 * 100)
		ps[1].CompareAtAmount = decimal(usdCents*125/100/100*100 + 99)
	}
	return ps
}

// decimal formats minor units of a two-digit currency: 4800 -> "48.00".
func decimal(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

// stock is a believable, reproducible stock figure: mostly a few dozen,
// sometimes sold out.
func stock(sku string) int64 {
	h := fnvHash(sku)
	if h%10 == 0 {
		return 0
	}
	return int64(h % 120)
}

func fnvHash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

var (
	synAdjectives = []string{"Classic", "Everyday", "Essential", "Heritage", "Modern", "Field", "Studio", "Coastal", "Alpine", "Urban"}
	synMaterials  = []string{"Cotton", "Linen", "Wool", "Canvas", "Leather", "Bamboo", "Ceramic", "Walnut", "Steel", "Glass"}
	synNouns      = []string{"Tee", "Shirt", "Tote", "Mug", "Cap", "Throw", "Bowl", "Tray", "Bottle", "Notebook", "Sleeve", "Lamp"}
	synVendors    = []string{"Kassa Apparel", "Kassa Home", "Volt Goods", "Northern Knits", "Paper Mill", "Lumen Works"}
	synSizes      = []string{"S", "M", "L"}
	synColors     = []string{"Black", "White"}
)

func syntheticHandle(i int) string { return fmt.Sprintf("synthetic-%06d", i+1) }

// synthetic returns generated product i: 1 to 6 variants, Size and Color
// options, CNY and USD prices, stock. The same i always gives the same
// product.
func synthetic(i int) catalog.CreateProductInput {
	noun := synNouns[i%len(synNouns)]
	in := catalog.CreateProductInput{
		Handle:      syntheticHandle(i),
		Title:       fmt.Sprintf("%s %s %s %06d", synAdjectives[i/7%len(synAdjectives)], synMaterials[i/3%len(synMaterials)], noun, i+1),
		Description: "A generated product for load tests.",
		Vendor:      synVendors[i%len(synVendors)],
		ProductType: noun,
		Tags:        []string{"synthetic"},
		Status:      catalog.StatusActive,
	}
	n := i%6 + 1
	base := int64(2900 + (i*3700)%50000)
	var combos [][2]int // size, color indexes; -1 for none
	switch {
	case n == 1:
		combos = [][2]int{{-1, -1}}
	case n <= 3:
		in.Options = []catalog.Option{{Name: "Size", Values: synSizes}}
		for s := range n {
			combos = append(combos, [2]int{s, -1})
		}
	default:
		in.Options = []catalog.Option{{Name: "Size", Values: synSizes}, {Name: "Color", Values: synColors}}
		for s := range synSizes {
			for c := range synColors {
				combos = append(combos, [2]int{s, c})
			}
		}
		combos = combos[:n]
	}
	for j, c := range combos {
		v := catalog.VariantInput{
			SKU:               fmt.Sprintf("SYN-%06d-%d", i+1, j+1),
			Prices:            prices(base+int64(max(c[0], 0))*1000, (i+j)%7 == 0),
			InventoryQuantity: int64((i*13 + j*7) % 60),
			WeightGrams:       200 + (i%9)*50,
		}
		if c[0] >= 0 {
			v.SelectedOptions = append(v.SelectedOptions, catalog.SelectedOption{Name: "Size", Value: synSizes[c[0]]})
		}
		if c[1] >= 0 {
			v.SelectedOptions = append(v.SelectedOptions, catalog.SelectedOption{Name: "Color", Value: synColors[c[1]]})
		}
		in.Variants = append(in.Variants, v)
	}
	return in
}
