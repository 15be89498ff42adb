// Package config reads Kassa's settings. Each setting comes, in order of
// precedence, from a command-line flag, a KASSA_* environment variable, the
// optional kassa.yaml file, or its default. The comments on the fields of
// Config are the configuration reference: `kassa serve --help` prints them.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is every setting of a Kassa instance.
type Config struct {
	// Directory for the SQLite database, the embedded NATS store, installed
	// plugins and the generated secret key. Every command honours it.
	DataDir string `env:"KASSA_DATA_DIR" flag:"data-dir" yaml:"data_dir" default:"./data"`

	// Address the HTTP server listens on (storefront, admin, /graphql,
	// webhooks, /healthz, /readyz, /metrics).
	HTTPAddr string `env:"KASSA_HTTP_ADDR" flag:"http-addr" yaml:"http_addr" default:"127.0.0.1:8080"`

	// Public base URL of the shop as buyers and payment gateways reach it,
	// used in return and notify URLs. Defaults to http://HTTPAddr.
	PublicURL string `env:"KASSA_PUBLIC_URL" flag:"public-url" yaml:"public_url" defaultDoc:"http://HTTP_ADDR"`

	// The shop's name as buyers see it in emails and pages.
	StoreName string `env:"KASSA_STORE_NAME" flag:"store-name" yaml:"store_name" default:"Kassa Shop"`

	// Database to use: postgres://user@host/db for PostgreSQL; empty for
	// a SQLite file kassa.db in the data directory.
	DatabaseURL string `env:"KASSA_DATABASE_URL" flag:"database-url" yaml:"database_url" defaultDoc:"SQLite DATA_DIR/kassa.db"`

	// NATS server URL (nats://host:4222, comma-separated for a cluster);
	// empty runs an embedded NATS with JetStream in the data directory.
	NATSURL string `env:"KASSA_NATS_URL" flag:"nats-url" yaml:"nats_url" defaultDoc:"embedded"`

	// How many NATS servers keep a copy of Kassa's event stream when the
	// stream is created on an external cluster (1 for a single server, 3
	// for a three-node cluster). Ignored by the embedded NATS.
	NATSReplicas int `env:"KASSA_NATS_REPLICAS" flag:"nats-replicas" yaml:"nats_replicas" default:"1"`

	// Master key that encrypts secrets at rest (plugin credentials), 32
	// bytes in base64 or hex. Empty: a key is generated once into
	// DATA_DIR/secret.key (mode 0600). Keep a copy: without it stored
	// secrets cannot be read.
	SecretKey string `env:"KASSA_SECRET_KEY" flag:"secret-key" yaml:"secret_key" secret:"true" defaultDoc:"generated DATA_DIR/secret.key"`

	// development or production. Production turns off GraphiQL,
	// introspection for anonymous callers and development-only logging
	// (such as sign-in links written to the log).
	Env string `env:"KASSA_ENV" flag:"env" yaml:"env" default:"development"`

	// Log level: debug, info, warn or error.
	LogLevel string `env:"KASSA_LOG_LEVEL" flag:"log-level" yaml:"log_level" default:"info"`

	// Log format: text or json.
	LogFormat string `env:"KASSA_LOG_FORMAT" flag:"log-format" yaml:"log_format" default:"text"`

	// Directory holding plugin executables. Defaults to DATA_DIR/plugins.
	PluginDir string `env:"KASSA_PLUGIN_DIR" flag:"plugin-dir" yaml:"plugin_dir" defaultDoc:"DATA_DIR/plugins"`

	// Install, at start, every executable in the plugin directory that is
	// not installed yet (trust on first sight: its sha256 is pinned then,
	// and a later replacement is refused as always). Meant for container
	// images that ship their plugins; elsewhere install with
	// `kassa plugin install`.
	PluginAutoInstall bool `env:"KASSA_PLUGIN_AUTOINSTALL" flag:"plugin-autoinstall" yaml:"plugin_autoinstall" default:"false"`

	// Let plugins connect to loopback, link-local (including the cloud
	// metadata service), private (10/8, 172.16/12, 192.168/16, fc00::/7),
	// CGNAT and other non-public addresses: a webhook URL or SMTP server on
	// your own network. Off, such settings are refused when saved and such
	// connections when made, so that staff who configure plugins cannot use
	// them to reach your internal network. Only whoever runs the server
	// (the owner) can turn this on.
	PluginAllowPrivateNetworks bool `env:"KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS" flag:"plugin-allow-private-networks" yaml:"plugin_allow_private_networks" default:"false"`

	// How many GraphQL queries and mutations run at once; more wait their
	// turn in arrival order, each for 100 ms at most before it runs
	// anyway. 0 is 4 per CPU (the PostgreSQL pool's size); a number above
	// the connections the server takes (10000) lets every operation run
	// at once. Subscriptions never wait.
	GraphQLConcurrency int `env:"KASSA_GRAPHQL_CONCURRENCY" flag:"graphql-concurrency" yaml:"graphql_concurrency" default:"0" defaultDoc:"0 (4 per CPU)"`

	// How long a graceful shutdown waits for requests in flight and the
	// outbox to drain.
	ShutdownTimeout time.Duration `env:"KASSA_SHUTDOWN_TIMEOUT" flag:"shutdown-timeout" yaml:"shutdown_timeout" default:"15s"`

	// Trust the X-Forwarded-For and X-Forwarded-Proto headers of a reverse
	// proxy in front of Kassa (client addresses for sign-in throttling).
	// Kassa takes the last X-Forwarded-For address: the one your proxy
	// appended. Leave off when clients reach Kassa directly: they could
	// forge the headers.
	TrustProxy bool `env:"KASSA_TRUST_PROXY" flag:"trust-proxy" yaml:"trust_proxy" default:"false"`

	// Directory of a storefront theme: files there (templates/…,
	// static/…, i18n/…) replace the built-in ones of the same path.
	ThemeDir string `env:"KASSA_THEME_DIR" flag:"theme-dir" yaml:"theme_dir" defaultDoc:"none"`

	// How often the payment reconciler looks for payments and refunds
	// whose outcome Kassa does not know yet (a lost notification, a
	// timeout, a crash after the gateway was called).
	PaymentReconcileInterval time.Duration `env:"KASSA_PAYMENT_RECONCILE_INTERVAL" flag:"payment-reconcile-interval" yaml:"payment_reconcile_interval" default:"30s"`

	// How long after a payment or refund started without a known outcome
	// the reconciler first asks the gateway about it; later questions come
	// after 2, 5, 15 and then every 60 times this.
	PaymentRecheckAfter time.Duration `env:"KASSA_PAYMENT_RECHECK_AFTER" flag:"payment-recheck-after" yaml:"payment_recheck_after" default:"1m"`

	// How long a guest's cart lives after its last change (its lines,
	// email, address or shipping method; looking at it changes nothing),
	// in hours: 240h is ten days, as Shopify's storefront carts. After
	// that its token reaches nothing and the buyer starts a new cart; an
	// hourly purge deletes it with its lines. Anyone can create guest
	// carts, so this bounds how long a script's carts stay in your
	// database. At least 24h; give every instance the same value.
	GuestCartLifetime time.Duration `env:"KASSA_GUEST_CART_LIFETIME" flag:"guest-cart-lifetime" yaml:"guest_cart_lifetime" default:"240h"`

	// How long a signed-in buyer's cart lives after its last change, as
	// for guests: 720h is 30 days. Each buyer has one open cart, which
	// follows them across devices. At least 24h; give every instance the
	// same value. A checked-out cart is kept a day whatever these say,
	// while its checkout may be retried.
	BuyerCartLifetime time.Duration `env:"KASSA_BUYER_CART_LIFETIME" flag:"buyer-cart-lifetime" yaml:"buyer_cart_lifetime" default:"720h"`

	// Seed the demo shop when the database has no products (make run sets
	// it).
	SeedDemo bool `env:"KASSA_SEED_DEMO" flag:"seed-demo" yaml:"seed_demo" default:"false"`
}

// Production reports whether Env is production.
func (c Config) Production() bool { return c.Env == "production" }

// Database returns the database URL, defaulting to DATA_DIR/kassa.db.
func (c Config) Database() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "kassa.db")
}

// Plugins returns the plugin directory, defaulting to DATA_DIR/plugins.
func (c Config) Plugins() string {
	if c.PluginDir != "" {
		return c.PluginDir
	}
	return filepath.Join(c.DataDir, "plugins")
}

// BaseURL returns PublicURL, defaulting to http://HTTPAddr.
func (c Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return "http://" + c.HTTPAddr
}

// Validate checks settings that have a fixed set of values.
func (c Config) Validate() error {
	var problems []string
	if c.Env != "development" && c.Env != "production" {
		problems = append(problems, fmt.Sprintf("env must be development or production, not %q", c.Env))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Sprintf("log level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		problems = append(problems, fmt.Sprintf("log format must be text or json, not %q", c.LogFormat))
	}
	if c.DataDir == "" {
		problems = append(problems, "data dir must not be empty")
	}
	if p := publicURLProblem(c.PublicURL); p != "" {
		problems = append(problems, p)
	}
	if p := databaseURLProblem(c.DatabaseURL); p != "" {
		problems = append(problems, p)
	}
	if c.PaymentReconcileInterval < time.Second || c.PaymentRecheckAfter < time.Second {
		problems = append(problems, "payment reconcile interval and recheck after must be at least 1s")
	}
	if c.GuestCartLifetime < 24*time.Hour || c.BuyerCartLifetime < 24*time.Hour {
		problems = append(problems, "guest and buyer cart lifetimes must be at least 24h")
	}
	if len(problems) > 0 {
		return errors.New("config: " + strings.Join(problems, "; "))
	}
	return nil
}

// publicURLProblem says what is wrong with a public URL, or "". Buyers'
// return links, gateways' notify URLs and the subscription origin check
// are built from it, so a value without scheme or host would fail only
// later, in front of a buyer.
func publicURLProblem(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("public URL (KASSA_PUBLIC_URL, --public-url) must be an absolute http:// or https:// address such as https://shop.example.com, not %q", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return fmt.Sprintf("public URL (KASSA_PUBLIC_URL, --public-url) must be the shop's scheme and host only, such as https://shop.example.com, without a path, query or user: Kassa serves at the root of its address; not %q", s)
	}
	return ""
}

// databaseURLProblem says what is wrong with a database URL, or "". Any
// value that is not a postgres:// URL is a SQLite file path, so a URL for
// another engine (mysql://…) or a misspelt scheme would otherwise start
// the shop on a new, empty SQLite file named after the URL.
func databaseURLProblem(s string) string {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		if pgKeywordDSN(s) {
			// Not quoted back: it may hold a password.
			return "database URL (KASSA_DATABASE_URL, --database-url) looks like PostgreSQL's keyword=value form (host=… dbname=…), which Kassa would take for a SQLite file name and print with its password; write it as postgres://user:password@host:5432/dbname instead"
		}
		return ""
	}
	// Lower case only: the store tells the engines apart by these exact
	// prefixes.
	switch scheme {
	case "postgres", "postgresql", "sqlite", "file":
		return ""
	}
	return fmt.Sprintf("database URL (KASSA_DATABASE_URL, --database-url) must start with postgres:// or postgresql://, or be a SQLite file path; the scheme %q is not supported", scheme)
}

// pgKeywords are the connection parameters of PostgreSQL's keyword=value
// connection strings that start one ("host=db dbname=kassa ...").
var pgKeywords = []string{"host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service", "sslmode", "connect_timeout", "application_name"}

// pgKeywordDSN reports whether s starts as a PostgreSQL keyword=value
// connection string rather than a file path.
func pgKeywordDSN(s string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	key, _, ok := strings.Cut(first, "=")
	return ok && slices.Contains(pgKeywords, strings.ToLower(strings.TrimSpace(key)))
}

// Flags registers settings on fs as flags, the ones named (by flag name)
// or every setting when none is named, and returns a loader that, after
// fs.Parse, builds the Config from flags, environment, kassa.yaml and
// defaults. A command names the settings it uses, so that its --help
// lists only those; the loader still reads every setting from the
// environment and kassa.yaml. --config names the YAML file (default
// ./kassa.yaml when it exists; KASSA_CONFIG also works). Naming a setting
// that does not exist panics, as registering a flag twice does.
func Flags(fs *flag.FlagSet, names ...string) func() (Config, error) {
	configPath := fs.String("config", "", "path of a kassa.yaml settings file (env KASSA_CONFIG; default ./kassa.yaml if present)")
	t := reflect.TypeOf(Config{})
	for _, n := range names {
		if fieldByTag(t, "flag", n) < 0 {
			panic(fmt.Sprintf("config: no setting has the flag --%s", n))
		}
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("flag")
		if len(names) > 0 && !slices.Contains(names, name) {
			continue
		}
		usage := fmt.Sprintf("%s (env %s)", summaries[f.Name], f.Tag.Get("env"))
		if f.Type.Kind() == reflect.Bool {
			fs.Bool(name, f.Tag.Get("default") == "true", usage)
		} else {
			fs.String(name, f.Tag.Get("default"), usage)
		}
	}
	return func() (Config, error) {
		path := *configPath
		if path == "" {
			path = os.Getenv("KASSA_CONFIG")
		}
		explicit := path != ""
		if path == "" {
			path = "kassa.yaml"
		}
		if err := CheckEnv(os.Environ()); err != nil {
			return Config{}, err
		}
		set := map[string]string{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = f.Value.String() })
		for _, w := range exposedSecrets(set) {
			fmt.Fprintln(fs.Output(), "kassa: warning:", w)
		}
		return Load(path, explicit, os.Getenv, set)
	}
}

// exposedSecrets warns of secrets given as flags (by flag name in set):
// the master key, and a password in the database or NATS URL. Any user of
// the machine reads a command line (ps, /proc/PID/cmdline), and shell
// history keeps it; the environment and kassa.yaml do not show.
func exposedSecrets(set map[string]string) []string {
	t := reflect.TypeOf(Config{})
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		val, ok := set[f.Tag.Get("flag")]
		if !ok || val == "" {
			continue
		}
		if f.Tag.Get("secret") != "true" && !urlHasPassword(val) {
			continue
		}
		out = append(out, fmt.Sprintf("--%s puts a secret on the command line, where every user of this machine can read it (ps); pass it in %s or kassa.yaml instead",
			f.Tag.Get("flag"), f.Tag.Get("env")))
	}
	return out
}

// urlHasPassword reports whether any of the comma-separated URLs in s
// carries a password, as user:password@ or a password parameter.
func urlHasPassword(s string) bool {
	for _, part := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if _, ok := u.User.Password(); ok {
			return true
		}
		if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
			return true
		}
	}
	return false
}

// otherKassaEnv are KASSA_* variables that are not settings but are
// close to one: the plugin host sets them for plugins.
var otherKassaEnv = []string{"KASSA_CONFIG", "KASSA_PLUGIN_ID", "KASSA_PLUGIN_DATA_DIR", "KASSA_PLUGIN_LOG_LEVEL"}

// CheckEnv refuses a KASSA_* variable in environ (NAME=value entries, as
// os.Environ returns) that is not a setting but differs from one by a
// letter or two: a misspelt KASSA_DATABASE_URL would otherwise start
// the shop on an empty SQLite database, silently. Other KASSA_* names
// (those of scripts and tests) pass.
func CheckEnv(environ []string) error {
	t := reflect.TypeOf(Config{})
	var problems []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "KASSA_") || slices.Contains(otherKassaEnv, name) || fieldByTag(t, "env", name) >= 0 {
			continue
		}
		for i := 0; i < t.NumField(); i++ {
			if want := t.Field(i).Tag.Get("env"); editDistance(name, want) <= 2 {
				problems = append(problems, fmt.Sprintf("%s is not a setting; did you mean %s?", name, want))
				break
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New("config: environment: " + strings.Join(problems, "; "))
	}
	return nil
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Load builds a Config: defaults, then the YAML file at path (an error if
// it must exist and does not), then environment variables read through
// getenv, then the flag values in flags (by flag name).
func Load(path string, mustExist bool, getenv func(string) string, flags map[string]string) (Config, error) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if d := t.Field(i).Tag.Get("default"); d != "" {
			if err := setField(v.Field(i), d); err != nil {
				return c, fmt.Errorf("config: default of %s: %w", t.Field(i).Name, err)
			}
		}
	}
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			raw := map[string]any{}
			dec := yaml.NewDecoder(strings.NewReader(string(data)))
			if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
				return c, fmt.Errorf("config: %s: %w", path, err)
			}
			for key, val := range raw {
				idx := fieldByTag(t, "yaml", key)
				if idx < 0 {
					return c, fmt.Errorf("config: %s: unknown setting %q", path, key)
				}
				// fmt.Sprint would turn these into "<nil>" or "[a b]" and
				// store that as the value.
				switch val.(type) {
				case nil:
					return c, fmt.Errorf("config: %s: %s has no value; give it one or remove the line", path, key)
				case map[string]any, []any:
					return c, fmt.Errorf("config: %s: %s must be a single value, not a list or a mapping", path, key)
				}
				if err := setField(v.Field(idx), fmt.Sprint(val)); err != nil {
					return c, fmt.Errorf("config: %s: %s: %w", path, key, err)
				}
			}
		case errors.Is(err, os.ErrNotExist) && !mustExist:
		default:
			return c, fmt.Errorf("config: %w", err)
		}
	}
	for i := 0; i < t.NumField(); i++ {
		if val := getenv(t.Field(i).Tag.Get("env")); val != "" {
			if err := setField(v.Field(i), val); err != nil {
				return c, fmt.Errorf("config: %s: %w", t.Field(i).Tag.Get("env"), err)
			}
		}
	}
	for name, val := range flags {
		idx := fieldByTag(t, "flag", name)
		if idx < 0 {
			continue // a command's own flag
		}
		if err := setField(v.Field(idx), val); err != nil {
			return c, fmt.Errorf("config: --%s: %w", name, err)
		}
	}
	return c, c.Validate()
}

func fieldByTag(t reflect.Type, tag, name string) int {
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get(tag) == name {
			return i
		}
	}
	return -1
}

func setField(f reflect.Value, s string) error {
	switch f.Interface().(type) {
	case string:
		f.SetString(s)
	case bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.SetBool(b)
	case int:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number", s)
		}
		f.SetInt(int64(n))
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 15s", s)
		}
		f.SetInt(int64(d))
	default:
		return fmt.Errorf("unsupported setting type %s", f.Type())
	}
	return nil
}

// summaries are the one-line help texts of the settings.
var summaries = map[string]string{
	"DataDir":                    "directory for the SQLite database, NATS store, plugins and secret key",
	"HTTPAddr":                   "address to listen on",
	"PublicURL":                  "public base URL of the shop (return and notify URLs)",
	"DatabaseURL":                "postgres://... for PostgreSQL; empty for SQLite in the data dir",
	"NATSURL":                    "external NATS URL; empty runs an embedded NATS",
	"SecretKey":                  "master key for secrets at rest (32 bytes, base64 or hex); empty generates DATA_DIR/secret.key",
	"Env":                        "development or production",
	"LogLevel":                   "debug, info, warn or error",
	"LogFormat":                  "text or json",
	"PluginDir":                  "directory of plugin executables (default DATA_DIR/plugins)",
	"ShutdownTimeout":            "graceful shutdown limit",
	"GraphQLConcurrency":         "GraphQL operations run at once, the others in line (0: 4 per CPU)",
	"ThemeDir":                   "storefront theme directory overriding built-in templates and static files",
	"PaymentReconcileInterval":   "how often the reconciler looks for payments of unknown outcome",
	"PaymentRecheckAfter":        "when the gateway is first asked about a payment of unknown outcome",
	"GuestCartLifetime":          "how long a guest's cart lives after its last change (240h: 10 days)",
	"BuyerCartLifetime":          "how long a signed-in buyer's cart lives after its last change (720h: 30 days)",
	"SeedDemo":                   "seed the demo shop when the catalog is empty",
	"TrustProxy":                 "trust X-Forwarded-For from a reverse proxy in front",
	"StoreName":                  "the shop's name in emails and pages",
	"PluginAutoInstall":          "install new executables found in the plugin dir at start (container images)",
	"PluginAllowPrivateNetworks": "let plugins connect to loopback, link-local and private addresses",
	"NATSReplicas":               "copies of the event stream on an external NATS cluster",
}

// Reference writes a table of every setting: flag, environment variable,
// YAML key and default. A default that depends on other settings (the
// plugin directory is DATA_DIR/plugins) or whose value needs saying (0
// GraphQL operations at once is 4 per CPU) is shown as its defaultDoc tag
// says, not as the empty or zero value the field starts with.
func Reference(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAG\tENV\tYAML\tDEFAULT")
	t := reflect.TypeOf(Config{})
	rows := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		def := f.Tag.Get("defaultDoc")
		if def == "" {
			def = f.Tag.Get("default")
		}
		rows = append(rows, fmt.Sprintf("--%s\t%s\t%s\t%s", f.Tag.Get("flag"), f.Tag.Get("env"), f.Tag.Get("yaml"), def))
	}
	sort.Strings(rows)
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	tw.Flush()
}
