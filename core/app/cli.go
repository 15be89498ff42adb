package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/migrations"
)

// IO is where a command reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// command is one `kassa` subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, io IO) error
}

// commands lists the subcommands; domain wiring files add theirs in init.
var commands = map[string]command{
	"serve":   {"run the shop: storefront, admin, GraphQL API and webhooks", runServe},
	"migrate": {"apply (up), roll back (down) or list (status) database migrations", runMigrate},
	"seed":    {"load data: `seed demo [--products N]` creates the demo shop (idempotent); `seed orders --count N` adds orders for benchmarks", runSeed},
	"config":  {"print every setting with its flag, environment variable and default", runConfig},
	"version": {"print the version", func(_ context.Context, _ []string, io IO) error {
		fmt.Fprintln(io.Stdout, "kassa", Version)
		return nil
	}},
}

// errUsage marks an error the user made in calling a command.
var errUsage = errors.New("usage")

// Main runs the kassa command line and returns the process exit code.
func Main(args []string, io IO) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.Stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(io.Stderr, "kassa: unknown command %q\n\n", args[0])
		usage(io.Stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], io); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(io.Stderr, "kassa %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Kassa is a self-hosted checkout platform.\n\nUsage: kassa <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `kassa <command> --help` for its flags. Every setting can also come from a KASSA_* environment variable or kassa.yaml (see `kassa config`).")
}

// flagSet returns a FlagSet with every setting registered, and a loader
// for the resulting Config.
func flagSet(name string, io IO) (*flag.FlagSet, func() (config.Config, error)) {
	fs := flag.NewFlagSet("kassa "+name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	load := config.Flags(fs)
	return fs, load
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (`kassa migrate up --database-url ...`), which the
// flag package alone does not allow, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func runServe(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("serve", io)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: kassa serve [flags]\n\nRuns the shop until SIGINT or SIGTERM, then drains requests in flight and the event outbox.\n\nFlags (each also settable by the environment variable shown, or in kassa.yaml):")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	tuneGC(os.Getenv)
	a, err := New(ctx, cfg, Options{LogOutput: io.Stderr})
	if err != nil {
		return err
	}
	defer a.Close(context.Background()) //nolint:errcheck // logged below
	if err := a.Start(ctx); err != nil {
		return err
	}
	base := strings.TrimSuffix(cfg.BaseURL(), "/")
	serveBanner(io.Stderr, a.Log, cfg.Production(), base)
	if err := a.Accounts.AnnounceOwnerSetup(ctx, io.Stderr, base); err != nil {
		return err
	}
	if cfg.SeedDemo {
		if err := a.seedIfEmpty(ctx, io.Stderr); err != nil {
			return err
		}
	}
	if err := a.Serve(ctx); err != nil {
		return err
	}
	if err := a.Close(context.Background()); err != nil {
		a.Log.Error("shutdown", "err", err)
		return err
	}
	a.Log.Info("stopped")
	return nil
}

func runMigrate(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("migrate", io)
	yes := fs.Bool("yes", false, "confirm `down`: it drops the tables of the migration it rolls back, with their data")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: kassa migrate up|down|status [flags]\n\nup applies every pending migration; down rolls back the most recent one (needs --yes); status lists them.")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: name one of up, down, status", errUsage)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	db, m, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch pos[0] {
	case "up":
		applied, err := m.Up(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(io.Stdout, "database is up to date")
		}
		for _, n := range applied {
			fmt.Fprintln(io.Stdout, "applied", n)
		}
	case "down":
		if !*yes {
			st, err := m.Status(ctx)
			if err != nil {
				return err
			}
			last := ""
			for _, s := range st {
				if s.Applied {
					last = s.Name
				}
			}
			if last == "" {
				fmt.Fprintln(io.Stdout, "nothing to roll back")
				return nil
			}
			return fmt.Errorf("%w: down would roll back %s and drop its tables with their data; back up first, then run kassa migrate down --yes", errUsage, last)
		}
		rolled, err := m.Down(ctx)
		if err != nil {
			return err
		}
		if len(rolled) == 0 {
			fmt.Fprintln(io.Stdout, "nothing to roll back")
		}
		for _, n := range rolled {
			fmt.Fprintln(io.Stdout, "rolled back", n)
		}
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(io.Stdout, "%-8s %s\n", state, s.Name)
		}
	default:
		return fmt.Errorf("%w: unknown migrate action %q (up, down, status)", errUsage, pos[0])
	}
	return nil
}

// openDatabase opens the configured database for a command that needs
// nothing else (migrate, plugin), creating the data directory for SQLite,
// and returns its migrator.
func openDatabase(ctx context.Context, cfg config.Config) (*store.DB, *store.Migrator, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, cfg.Database(), store.Options{MaxOpenConns: 2})
	if err != nil {
		return nil, nil, err
	}
	m, err := store.NewMigrator(db, migrations.FS)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, m, nil
}

func runConfig(_ context.Context, args []string, io IO) error {
	fs, load := flagSet("config", io)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	config.Reference(io.Stdout)
	fmt.Fprintf(io.Stdout, "\nIn effect: data dir %s, listen %s, database %s, nats %s, env %s\n",
		cfg.DataDir, cfg.HTTPAddr, redactURL(cfg.Database()), orDefault(redactURLs(cfg.NATSURL), "embedded"), cfg.Env)
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// redactURLs hides the passwords in a comma-separated list of URLs.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = redactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// redactURL hides a password in a database URL.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	creds := u[scheme+3 : at]
	if i := strings.IndexByte(creds, ':'); i >= 0 {
		return u[:scheme+3] + creds[:i] + ":***" + u[at:]
	}
	return u
}

// serveBanner tells the operator where the shop answers: GraphiQL only
// in development, where it is served. In production over plain http it
// warns: session cookies then go without Secure and no HSTS is sent.
func serveBanner(w io.Writer, log *slog.Logger, production bool, base string) {
	fmt.Fprintf(w, "\nKassa is serving:\n    storefront  %s/\n    admin       %s/admin/\n", base, base)
	if !production {
		fmt.Fprintf(w, "    GraphiQL    %s/graphql\n", base)
		return
	}
	if !strings.HasPrefix(base, "https://") {
		log.Warn("production without an https public URL: session cookies are sent without Secure and no HSTS is sent; set KASSA_PUBLIC_URL to the shop's https address",
			"public_url", base)
	}
}
