package app

import (
	"context"
	"fmt"
	"io"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/seed"
)

const seedUsage = `Usage: kassa seed demo|orders [flags]

  demo [--products N]   create the demo shop: 56 products in 8 collections priced in CNY and USD,
                        its settings, shipping zones and tax rates, and the installed testpay, bank
                        transfer and invoice plugins enabled; what exists is left as it is, so
                        running it again changes nothing
  orders --count N      add N orders of the last 12 months, in every state, for benchmarks

Run kassa seed demo --help or kassa seed orders --help for their flags.
`

// seedSettings are the settings of `kassa seed demo|orders`: an offline
// instance that configures the demo's plugins.
var seedSettings = pluginSettings

func runSeed(ctx context.Context, args []string, io IO) error {
	switch action := seedAction(args, io); {
	case action == "orders":
		return runSeedOrders(ctx, args, io) // seed_orders_cmd.go
	case action == "" || isHelp(action):
		return actionHelp(args, io, seedUsage, "name what to seed: demo or orders")
	case action != "demo":
		fmt.Fprint(io.Stderr, seedUsage)
		return fmt.Errorf("%w: unknown seed action %q (demo, orders)", errUsage, action)
	}
	fs, load := flagSet("seed demo", io, "Usage: kassa seed demo [--products N] [flags]\n\n"+
		"Creates the demo shop: 56 products in 8 collections priced in CNY and USD, the shop's settings (CNY\n"+
		"and USD, tax included), 4 shipping zones, 9 tax rates, and configures and enables the installed\n"+
		"payment.testpay, payment.banktransfer and invoice.standard plugins. What exists is left as it is:\n"+
		"running it again changes nothing. --products N makes N products, generated beyond the 56.\n", seedSettings...)
	products := fs.Int("products", 0, "number of products to generate (default: the 56 hand-made demo products)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "demo" {
		fs.Usage()
		return fmt.Errorf("%w: kassa seed demo", errUsage)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	a, err := New(ctx, cfg, Options{LogOutput: io.Stderr, Offline: true})
	if err != nil {
		return err
	}
	defer a.Close(context.Background()) //nolint:errcheck // nothing to flush
	return a.seed(ctx, *products, io.Stdout)
}

func (a *App) seed(ctx context.Context, products int, progress io.Writer) error {
	ctx = authz.WithSubject(ctx, authz.SystemSubject("seed"))
	res, err := seed.Demo(ctx, a.DB, a.Catalog, seed.Options{Products: products, Progress: progress})
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	a.Log.Info("demo shop seeded", "result", res)
	// Settings, shipping and tax that fit the catalog: CNY first, tax
	// included.
	shopRes, err := seed.DemoShop(ctx, seed.ShopServices{Shop: a.Settings.Shop, Shipping: a.Settings.Shipping, Tax: a.Settings.Tax})
	if err != nil {
		return fmt.Errorf("seed demo shop settings: %w", err)
	}
	a.Log.Info("demo shop settings seeded", "result", shopRes)
	// The installed reference gateways are configured and enabled so the
	// demo shop takes (sandbox) payments out of the box.
	enabled, err := SetUpDemoPlugins(ctx, a.Plugins)
	if err != nil {
		return fmt.Errorf("set up demo plugins: %w", err)
	}
	if len(enabled) > 0 {
		a.Log.Info("demo plugins enabled", "plugins", enabled)
	}
	return nil
}

// seedIfEmpty seeds the demo shop when the catalog has no product yet:
// the first `kassa serve --seed-demo` (make run) on a data directory. A
// later start leaves the shop alone, whatever staff changed since (`kassa
// seed demo` tops the demo up on demand). The progress bar goes to w only
// when it is a terminal: in a log file a bar redrawn in place is noise.
func (a *App) seedIfEmpty(ctx context.Context, w io.Writer) error {
	sctx := authz.WithSubject(ctx, authz.SystemSubject("seed"))
	some, err := a.Catalog.ListProducts(sctx, catalog.ProductFilter{}, page.Request{First: 1})
	if err != nil {
		return fmt.Errorf("seed demo: look for products: %w", err)
	}
	if len(some.Items) > 0 {
		a.Log.Info("demo shop not seeded: the catalog has products")
		return nil
	}
	if !isTerminal(w) {
		w = nil
	}
	return a.seed(ctx, 0, w)
}
