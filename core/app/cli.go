package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"slices"
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
	"seed":    {"load data: `seed demo` creates the demo shop (idempotent); `seed orders --count N` adds orders for benchmarks", runSeed},
	"config":  {"print every setting with its flag, environment variable and default, and the values in effect", runConfig},
	"version": {"print the version (also `kassa --version`, `kassa -v`)", runVersion},
}

// errUsage marks an error the user made in calling a command.
var errUsage = errors.New("usage")

// Main runs the kassa command line and returns the process exit code.
func Main(args []string, io IO) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 || isHelp(args[0]) && len(args) == 1 {
		usage(io.Stdout)
		return 0
	}
	name := args[0]
	switch {
	case name == "--version" || name == "-version" || name == "-v":
		name = "version"
	case isHelp(name): // kassa help serve: kassa serve --help
		name, args = args[1], []string{args[1], "--help"}
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(io.Stderr, "kassa: unknown command %q\n\n", name)
		usage(io.Stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], io); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(io.Stderr, "kassa %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// isHelp reports whether arg asks for help: -h, -help, --help or help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Kassa is a self-hosted checkout platform.\n\nUsage: kassa <command> [arguments] [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `kassa <command> --help` (or `kassa help <command>`) for what a command does and its flags.\n"+
		"Every setting can also come from a KASSA_* environment variable or kassa.yaml (see `kassa config`).")
}

func runVersion(_ context.Context, args []string, io IO) error {
	fs := newFlagSet("version", io, "Usage: kassa version\n\nPrints the version of this kassa binary (also `kassa --version` and `kassa -v`).\n")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(io.Stdout, "kassa", Version)
	return nil
}

// actionHelp answers a command of actions (bench, plugin, seed) called
// without one: with its usage on standard output when help was asked for,
// else on standard error with a usage error saying what is missing.
func actionHelp(args []string, io IO, text, missing string) error {
	if slices.ContainsFunc(args, isHelp) {
		fmt.Fprint(io.Stdout, text)
		return nil
	}
	fmt.Fprint(io.Stderr, text+"\n")
	return fmt.Errorf("%w: %s", errUsage, missing)
}

// newFlagSet returns the flag set of a command that reads no setting: its
// --help prints text, then its flags.
func newFlagSet(name string, io IO, text string) *flag.FlagSet {
	fs := flag.NewFlagSet("kassa "+name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	fs.Usage = func() { printUsage(fs, text, "Flags:") }
	return fs
}

// flagSet returns the flag set of a command with the flags of the
// settings it uses (by flag name; every setting when none is named), and
// the loader of the resulting Config, which reads every setting from the
// environment and kassa.yaml whatever the flags. Its --help prints text,
// then its flags.
func flagSet(name string, io IO, text string, settings ...string) (*flag.FlagSet, func() (config.Config, error)) {
	fs := flag.NewFlagSet("kassa "+name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	load := config.Flags(fs, settings...)
	fs.Usage = func() {
		printUsage(fs, text, "Flags (a setting may also come from the environment variable shown, or kassa.yaml; `kassa config` lists every setting):")
	}
	return fs, load
}

// printUsage writes a command's help: its text, then its flags as they are
// typed, with two dashes (the flag package shows one).
func printUsage(fs *flag.FlagSet, text, heading string) {
	w := fs.Output()
	fmt.Fprint(w, text)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", heading)
	fs.VisitAll(func(f *flag.Flag) {
		typ, help := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			help += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(help, "\n", "\n    \t"))
	})
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

// The settings each command offers as flags, by flag name: those it uses.
// Every command still reads every setting from the environment and
// kassa.yaml, so that one environment serves them all.
var (
	// databaseSettings: commands that open the database only (migrate).
	databaseSettings = []string{"data-dir", "database-url"}
	// offlineSettings: commands that run an offline instance beside the
	// server (user): the database, and its logs.
	offlineSettings = append(slices.Clone(databaseSettings), "log-level", "log-format")
	// pluginSettings: commands that run plugins (seed, plugin): they
	// read the plugin directory and the plugins' secrets.
	pluginSettings = append(slices.Clone(offlineSettings), "plugin-dir", "secret-key", "plugin-allow-private-networks")
)

func runServe(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("serve", io, "Usage: kassa serve [flags]\n\n"+
		"Runs the shop (storefront, admin, GraphQL API, webhooks) until SIGINT or SIGTERM, then drains\n"+
		"requests in flight and the event outbox. With --seed-demo an empty shop gets the demo shop first.\n")
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
	// The address is bound before anything says where the shop is or
	// issues a setup token: a taken port must not print the addresses of
	// another program, nor a token (which revokes the previous one) for a
	// server that will not serve.
	ln, err := listen(cfg.HTTPAddr, "--http-addr HOST:PORT or KASSA_HTTP_ADDR")
	if err != nil {
		return err
	}
	defer ln.Close() //nolint:errcheck // closed already when the shop has served
	if err := a.Start(ctx); err != nil {
		return err
	}
	if cfg.SeedDemo {
		if err := a.seedIfEmpty(ctx, io.Stderr); err != nil {
			return err
		}
	}
	base := strings.TrimSuffix(cfg.BaseURL(), "/")
	jsonLogs := cfg.LogFormat == "json"
	serveBanner(io.Stderr, a.Log, cfg.Production(), base, jsonLogs)
	if err := a.Accounts.AnnounceOwnerSetup(ctx, io.Stderr, base, jsonLogs); err != nil {
		return err
	}
	if err := a.ServeListener(ctx, ln); err != nil {
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
	fs, load := flagSet("migrate", io, "Usage: kassa migrate up|down|status [flags]\n\n"+
		"up applies every pending migration; down rolls back the most recent one (needs --yes); status lists them.\n"+
		"kassa serve, seed, user and plugin apply pending migrations by themselves.\n", databaseSettings...)
	yes := fs.Bool("yes", false, "confirm down: it drops the tables of the migration it rolls back, with their data")
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
			if err := m.RefuseNewer(ctx); err != nil {
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
			state, note := "pending", ""
			if s.Applied {
				state = "applied"
			}
			if s.Unknown {
				note = " (unknown to this kassa: applied by a newer version)"
			}
			fmt.Fprintf(io.Stdout, "%-8s %s%s\n", state, s.Name, note)
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
	fs, load := flagSet("config", io, "Usage: kassa config [flags]\n\n"+
		"Prints every setting with its flag, environment variable, kassa.yaml key and default, then the values\n"+
		"in effect here: from the flags given, the KASSA_* environment variables, kassa.yaml and the defaults,\n"+
		"in that order of precedence (passwords in URLs masked).\n")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	config.Reference(io.Stdout)
	fmt.Fprintf(io.Stdout, "\nIn effect: data dir %s, listen %s, public URL %s, database %s, nats %s, plugins %s, env %s\n",
		cfg.DataDir, cfg.HTTPAddr, cfg.BaseURL(), redactURL(cfg.Database()), orDefault(redactURLs(cfg.NATSURL), "embedded"), cfg.Plugins(), cfg.Env)
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// redactURLs hides the secrets in a comma-separated list of NATS URLs:
// passwords, and a user without a password, which NATS takes as a token
// (nats://TOKEN@host).
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil && u.User != nil {
			if _, hasPassword := u.User.Password(); !hasPassword {
				u.User = url.User("***")
				p = u.String()
			}
		}
		parts[i] = redactURL(p)
	}
	return strings.Join(parts, ",")
}

// redactURL hides the passwords in a database URL: the user's, and the
// password and sslpassword parameters that PostgreSQL also reads from the
// query.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		if strings.Contains(raw, "://") {
			return "(unreadable URL, not shown)" // it may hold a password we cannot find
		}
		return raw // a SQLite path
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	q := u.Query()
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "***")
			u.RawQuery = q.Encode()
		}
	}
	// url.URL escapes the asterisks; they are ours, not the user's.
	return strings.ReplaceAll(u.String(), "%2A%2A%2A", "***")
}

// serveBanner tells the operator where the shop answers: GraphiQL only
// in development, where it is served. In production over plain http it
// warns: session cookies then go without Secure and no HSTS is sent.
// With jsonLogs it prints no text: a collector reads that stream as JSON,
// and the "kassa serving" log line says where the shop answers.
func serveBanner(w io.Writer, log *slog.Logger, production bool, base string, jsonLogs bool) {
	if !jsonLogs {
		fmt.Fprintf(w, "\nKassa is serving:\n    storefront  %s/\n    admin       %s/admin/\n", base, base)
		if !production {
			fmt.Fprintf(w, "    GraphiQL    %s/graphql\n", base)
		}
	}
	if !production {
		return
	}
	if !strings.HasPrefix(base, "https://") {
		log.Warn("production without an https public URL: session cookies are sent without Secure and no HSTS is sent; set KASSA_PUBLIC_URL to the shop's https address",
			"public_url", base)
	}
}
