package app

import (
	"context"
	"fmt"
	"io"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/seed"
)

func runSeed(ctx context.Context, args []string, io IO) error {
	if seedOrdersRequested(args, io) {
		return runSeedOrders(ctx, args, io) // seed_orders_cmd.go
	}
	fs, load := flagSet("seed", io)
	products := fs.Int("products", 0, "number of products to generate (default: the 50+ hand-made demo products)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: kassa seed demo [--products N] [flags]\n\nCreates the demo shop. Running it again changes nothing.")
		fs.PrintDefaults()
	}
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

// seedIfEmpty seeds the demo shop on the first run (make run).
func (a *App) seedIfEmpty(ctx context.Context, progress io.Writer) error {
	return a.seed(ctx, 0, progress)
}
