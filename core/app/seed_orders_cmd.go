package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/seed"
)

// seedOrdersFlags registers the flags of `kassa seed orders` besides the
// settings.
type seedOrdersFlags struct {
	count, customers, batch *int
	seed                    *uint64
	quiet                   *bool
}

func newSeedOrdersFlags(fs *flag.FlagSet) seedOrdersFlags {
	return seedOrdersFlags{
		count:     fs.Int("count", 0, "number of orders to add (required); every run adds that many more"),
		customers: fs.Int("customers", 0, fmt.Sprintf("buyer accounts the registered buyers' orders spread over, registered when missing (default count/50, 10 to %d)", seed.MaxSeedCustomers)),
		batch:     fs.Int("batch", seed.DefaultOrderBatch, "orders per transaction"),
		seed:      fs.Uint64("seed", 0, "random seed, to repeat a run (default: a new one each run)"),
		quiet:     fs.Bool("quiet", false, "no progress on standard error"),
	}
}

// seedAction returns what `kassa seed` is asked to seed: the first
// argument that is neither a flag nor a flag's value ("demo", "orders", or
// "" when there is none). Flags may come before it
// (`kassa seed --data-dir d orders`).
func seedAction(args []string, cli IO) string {
	fs, _ := flagSet("seed", cli, "", seedSettings...)
	fs.Int("products", 0, "")
	newSeedOrdersFlags(fs)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return a
		}
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			i++ // the flag's value
		}
	}
	return ""
}

// runSeedOrders is `kassa seed orders --count N`: orders with a past for
// the staff list's benchmarks (seed.Orders).
func runSeedOrders(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("seed orders", io, "Usage: kassa seed orders --count N [flags]\n\n"+
		"Adds N orders placed over the last 12 months, by registered buyers and guests, from the active\n"+
		"catalog (run `kassa seed demo` first), in every state an order reaches. Open orders reserve their\n"+
		"stock; no event is emitted for them. Meant for benchmarks, not for a shop with real customers.\n", seedSettings...)
	f := newSeedOrdersFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "orders" {
		fs.Usage()
		return fmt.Errorf("%w: kassa seed orders --count N", errUsage)
	}
	if *f.count <= 0 {
		return fmt.Errorf("%w: --count must be a positive number of orders", errUsage)
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
	opts := seed.OrderOptions{Count: *f.count, Customers: *f.customers, Batch: *f.batch, Seed: *f.seed}
	if !*f.quiet {
		opts.Progress, opts.Bar = io.Stderr, isTerminal(io.Stderr)
	}
	res, err := a.SeedOrders(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "added orders %s to %s (%d; %d open with reserved stock) in %s, %.0f orders/s\n",
		res.First, res.Last, res.Orders, res.Reserved, res.Elapsed.Round(time.Millisecond),
		float64(res.Orders)/max(res.Elapsed.Seconds(), 1e-9))
	return nil
}

// seedPasswordParams hash the passwords of the buyers seed.Orders
// registers. Those passwords are 192 random bits nobody ever sees, which
// no offline guessing reaches whatever the hash costs, so the argon2id
// cost that protects chosen passwords would only spend a minute of CPU
// on a thousand buyers. A seeded buyer who resets their password gets
// the instance's usual parameters (and a sign-in rehashes to them).
var seedPasswordParams = account.PasswordParams{Memory: 1024, Time: 1, Threads: 1}

// SeedOrders adds orders with a past to the shop through the instance's
// services (seed.Orders), acting as the system subject "seed".
func (a *App) SeedOrders(ctx context.Context, opts seed.OrderOptions) (seed.OrderResult, error) {
	accounts, err := account.NewService(a.DB, account.Options{Authz: a.Accounts.Enforcer, Outbox: a.Outbox,
		Logger: a.Log, PasswordParams: seedPasswordParams})
	if err != nil {
		return seed.OrderResult{}, err
	}
	res, err := seed.Orders(ctx, seed.OrderServices{
		DB: a.DB, Catalog: a.Catalog, Orders: a.Orders, Accounts: accounts,
		Shop: a.Settings.Shop, TaxRates: a.Settings.TaxRates,
	}, opts)
	if err != nil {
		return res, err
	}
	a.Log.Info("orders seeded", "result", res)
	return res, nil
}

// isTerminal reports whether w is a terminal, where progress may redraw
// a line in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
