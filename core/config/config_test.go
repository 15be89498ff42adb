package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	yamlPath := filepath.Join(dir, "kassa.yaml")
	if err := os.WriteFile(yamlPath, []byte("http_addr: 127.0.0.1:9000\nlog_level: debug\nenv: production\nshutdown_timeout: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KASSA_HTTP_ADDR": "127.0.0.1:9100", "KASSA_ENV": "development"}
	flags := map[string]string{"http-addr": "127.0.0.1:9200"}

	tests := []struct {
		name     string
		path     string
		env      map[string]string
		flags    map[string]string
		wantAddr string
		wantEnv  string
	}{
		{"defaults", "", nil, nil, "127.0.0.1:8080", "development"},
		{"yaml over defaults", yamlPath, nil, nil, "127.0.0.1:9000", "production"},
		{"env over yaml", yamlPath, env, nil, "127.0.0.1:9100", "development"},
		{"flag over env", yamlPath, env, flags, "127.0.0.1:9200", "development"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.path, false, func(k string) string { return tt.env[k] }, tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTPAddr != tt.wantAddr || c.Env != tt.wantEnv {
				t.Fatalf("got addr %s env %s, want %s %s", c.HTTPAddr, c.Env, tt.wantAddr, tt.wantEnv)
			}
		})
	}

	c, err := Load(yamlPath, true, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ShutdownTimeout != 3*time.Second || c.LogLevel != "debug" || c.Database() != filepath.Join("data", "kassa.db") {
		t.Fatalf("yaml values not applied: %+v", c)
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	_ = os.WriteFile(unknown, []byte("htp_addr: x\n"), 0o600)
	empty := filepath.Join(dir, "empty.yaml")
	_ = os.WriteFile(empty, []byte("public_url:\n"), 0o600)
	list := filepath.Join(dir, "list.yaml")
	_ = os.WriteFile(list, []byte("data_dir: [/srv/a, /srv/b]\n"), 0o600)
	mapping := filepath.Join(dir, "mapping.yaml")
	_ = os.WriteFile(mapping, []byte("database_url:\n  host: db\n"), 0o600)
	tests := []struct {
		name  string
		path  string
		must  bool
		env   map[string]string
		wants string
	}{
		{"unknown yaml key", unknown, false, nil, "unknown setting"},
		{"missing required file", filepath.Join(dir, "nope.yaml"), true, nil, "no such file"},
		{"bad env value", "", false, map[string]string{"KASSA_ENV": "staging"}, "development or production"},
		{"bad duration", "", false, map[string]string{"KASSA_SHUTDOWN_TIMEOUT": "soon"}, "duration"},
		{"cart lifetime under a day", "", false, map[string]string{"KASSA_GUEST_CART_LIFETIME": "12h"}, "at least 24h"},
		{"yaml key without a value", empty, false, nil, "public_url has no value"},
		{"yaml list", list, false, nil, "data_dir must be a single value"},
		{"yaml mapping", mapping, false, nil, "database_url must be a single value"},
		{"public url without scheme", "", false, map[string]string{"KASSA_PUBLIC_URL": "shop.example.com"}, "KASSA_PUBLIC_URL"},
		{"public url of another scheme", "", false, map[string]string{"KASSA_PUBLIC_URL": "ftp://shop.example.com"}, "absolute http:// or https://"},
		{"public url with a path", "", false, map[string]string{"KASSA_PUBLIC_URL": "https://example.com/shop"}, "without a path"},
		{"public url with a query", "", false, map[string]string{"KASSA_PUBLIC_URL": "https://shop.example.com/?a=1"}, "without a path, query"},
		{"database url of another engine", "", false, map[string]string{"KASSA_DATABASE_URL": "mysql://root@db/kassa"}, `scheme "mysql" is not supported`},
		{"database url misspelt", "", false, map[string]string{"KASSA_DATABASE_URL": "postgress://db/kassa"}, "KASSA_DATABASE_URL"},
		{"database url as keyword=value", "", false, map[string]string{"KASSA_DATABASE_URL": "host=db user=kassa password=hunter2 dbname=kassa"}, "keyword=value form"},
		{"database url as keyword=value, dbname first", "", false, map[string]string{"KASSA_DATABASE_URL": "dbname=kassa sslmode=disable"}, "postgres://user:password@host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tt.path, tt.must, func(k string) string { return tt.env[k] }, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wants) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wants)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestLoadAcceptsURLs(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{
		{"KASSA_PUBLIC_URL": "https://shop.example.com"},
		{"KASSA_PUBLIC_URL": "http://127.0.0.1:8080/"},
		{"KASSA_PUBLIC_URL": "https://[::1]:8443"},
		{"KASSA_DATABASE_URL": "postgres://kassa:pw@db:5432/kassa?sslmode=verify-full"},
		{"KASSA_DATABASE_URL": "postgresql://db/kassa"},
		{"KASSA_DATABASE_URL": "/srv/kassa/kassa.db"},
		{"KASSA_DATABASE_URL": "sqlite:///srv/kassa/kassa.db"},
		{"KASSA_DATABASE_URL": "file:shop.db?mode=rwc"},
		{"KASSA_DATABASE_URL": "/srv/shop data/host=a.db"},
		{"KASSA_DATABASE_URL": "kassa=1.db"},
	} {
		if _, err := Load("", false, func(k string) string { return env[k] }, nil); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
}

func TestCheckEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		wants   string // "" for no error
	}{
		{"settings", []string{"KASSA_DATABASE_URL=postgres://db/k", "KASSA_ENV=production", "PATH=/bin"}, ""},
		{"not settings, not close to one", []string{"KASSA_TEST_POSTGRES_DSN=x", "KASSA_BENCH_API_KEY=k", "KASSA_BIN=bin", "KASSA_CONFIG=/etc/kassa.yaml"}, ""},
		{"what the plugin host passes", []string{"KASSA_PLUGIN_ID=payment.testpay", "KASSA_PLUGIN_DATA_DIR=/d", "KASSA_PLUGIN_LOG_LEVEL=info"}, ""},
		{"a letter left out", []string{"KASSA_DATABSE_URL=postgres://db/k"}, "KASSA_DATABSE_URL is not a setting; did you mean KASSA_DATABASE_URL?"},
		{"plural", []string{"KASSA_NATS_URLS=nats://a"}, "did you mean KASSA_NATS_URL?"},
		{"a letter left out at the end", []string{"KASSA_SECRET_KY=x"}, "did you mean KASSA_SECRET_KEY?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckEnv(tt.environ)
			if tt.wants == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wants) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wants)
			}
		})
	}
}

func TestEverySettingDocumented(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	Reference(&b)
	for _, key := range []string{"KASSA_DATA_DIR", "KASSA_HTTP_ADDR", "KASSA_DATABASE_URL", "KASSA_NATS_URL", "KASSA_SECRET_KEY", "KASSA_ENV"} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("reference lacks %s", key)
		}
	}
}

// TestReadmeListsEverySetting keeps the README's configuration table true
// to the code.
func TestReadmeListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	Reference(&b)
	for _, line := range strings.Split(b.String(), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		flagName, env := fields[0], fields[1]
		if !strings.Contains(string(readme), "`"+env+"`") || !strings.Contains(string(readme), "`"+flagName+"`") {
			t.Errorf("README.md does not document %s / %s", env, flagName)
		}
	}
	typ := reflect.TypeOf(Config{})
	for i := 0; i < typ.NumField(); i++ {
		if summaries[typ.Field(i).Name] == "" {
			t.Errorf("setting %s has no help summary", typ.Field(i).Name)
		}
	}
}

// A command registers the flags of the settings it uses; the others still
// come from the environment (an outside review: `kassa migrate --help`
// listed --graphql-concurrency).
func TestFlagsOfSomeSettings(t *testing.T) {
	t.Setenv("KASSA_HTTP_ADDR", "127.0.0.1:9300")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	load := Flags(fs, "data-dir", "database-url")
	var got []string
	fs.VisitAll(func(f *flag.Flag) { got = append(got, f.Name) })
	if want := []string{"config", "data-dir", "database-url"}; !slices.Equal(got, want) {
		t.Fatalf("flags %v, want %v", got, want)
	}
	if err := fs.Parse([]string{"--data-dir", "/srv/x"}); err != nil {
		t.Fatal(err)
	}
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/x" || c.HTTPAddr != "127.0.0.1:9300" {
		t.Fatalf("data dir %q, http addr %q: want the flag's and the environment's", c.DataDir, c.HTTPAddr)
	}
	if err := fs.Parse([]string{"--graphql-concurrency", "5"}); err == nil {
		t.Fatal("a setting the command does not use was accepted as a flag")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("naming a setting that does not exist did not panic")
		}
	}()
	Flags(flag.NewFlagSet("t", flag.ContinueOnError), "no-such-setting")
}

// TestFlagsWarnOfSecrets: a master key or a URL password given as a flag
// is visible to every user of the machine; the loader says so, and points
// to the environment variable. Other flags, and URLs without a password,
// pass in silence.
func TestFlagsWarnOfSecrets(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		wants []string // "" for no warning
	}{
		{[]string{"--secret-key", "c2VjcmV0"}, []string{"--secret-key puts a secret on the command line", "KASSA_SECRET_KEY"}},
		{[]string{"--database-url", "postgres://kassa:pw@db/kassa"}, []string{"--database-url", "KASSA_DATABASE_URL"}},
		{[]string{"--database-url", "postgres://kassa@db/kassa?password=pw"}, []string{"--database-url"}},
		{[]string{"--nats-url", "nats://n1:4222,nats://u:pw@n2:4222"}, []string{"--nats-url", "KASSA_NATS_URL"}},
		{[]string{"--database-url", "postgres://kassa@db/kassa", "--data-dir", "/srv/k"}, nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var out strings.Builder
		fs.SetOutput(&out)
		load := Flags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if _, err := load(); err != nil {
			t.Fatal(err)
		}
		if tt.wants == nil && out.Len() > 0 {
			t.Errorf("%v: warned %q", tt.args, out.String())
		}
		for _, w := range tt.wants {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output %q, want it to mention %q", tt.args, out.String(), w)
			}
		}
	}
}

// The reference shows the defaults that follow from other settings as
// they do, not as the empty string the field starts with (an outside
// review: --plugin-dir showed no default).
func TestReferenceShowsDerivedDefaults(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	Reference(&b)
	for flagName, want := range map[string]string{
		"--plugin-dir":          "DATA_DIR/plugins",
		"--database-url":        "SQLite DATA_DIR/kassa.db",
		"--public-url":          "http://HTTP_ADDR",
		"--nats-url":            "embedded",
		"--secret-key":          "generated DATA_DIR/secret.key",
		"--graphql-concurrency": "0 (4 per CPU)",
		"--data-dir":            "./data",
	} {
		found := false
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(line, flagName+" ") {
				found = true
				if !strings.HasSuffix(strings.TrimSpace(line), want) {
					t.Errorf("%s: %q, want the default %q", flagName, line, want)
				}
			}
		}
		if !found {
			t.Errorf("%s missing from the reference", flagName)
		}
	}
}
