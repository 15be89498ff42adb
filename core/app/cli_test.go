package app

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestParseArgsInterspersed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantPos  []string
		wantFlag string
	}{
		{"flags first", []string{"--data-dir", "x", "up"}, []string{"up"}, "x"},
		{"flags after", []string{"up", "--data-dir", "y"}, []string{"up"}, "y"},
		{"between", []string{"seed", "--data-dir", "z", "demo"}, []string{"seed", "demo"}, "z"},
		{"double dash", []string{"a", "--", "--data-dir"}, []string{"a", "--data-dir"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			dir := fs.String("data-dir", "", "")
			pos, err := parseArgs(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pos, tt.wantPos) || *dir != tt.wantFlag {
				t.Fatalf("got %q %q, want %q %q", pos, *dir, tt.wantPos, tt.wantFlag)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://kassa:hunter2@db:5432/kassa":                            "postgres://kassa:***@db:5432/kassa",
		"postgres://kassa@db/kassa?sslmode=require&password=hunter2":        "postgres://kassa@db/kassa?password=***&sslmode=require",
		"postgres://kassa@db/kassa?sslpassword=keypass&sslmode=verify-full": "postgres://kassa@db/kassa?sslmode=verify-full&sslpassword=***",
		"postgres://kassa@db/kassa":                                         "postgres://kassa@db/kassa",
		"postgres://kassa:pw@db:port/kassa":                                 "(unreadable URL, not shown)",
		"data/kassa.db":                                                     "data/kassa.db",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%s) = %s, want %s", in, got, want)
		}
	}
	if got := redactURLs("nats://a:pw1@n1:4222,nats://b:pw2@n2:4222"); got != "nats://a:***@n1:4222,nats://b:***@n2:4222" {
		t.Fatalf("redactURLs = %s", got)
	}
	if got := redactURLs("nats://s3cr3t-token@n1:4222, nats://n2:4222"); got != "nats://***@n1:4222,nats://n2:4222" {
		t.Fatalf("redactURLs of a token = %s", got)
	}
}

// The serve banner lists GraphiQL only where it is served, and warns of
// a production shop on plain http (an outside review: cookies then go
// without Secure, and nothing said so).
func TestServeBanner(t *testing.T) {
	for _, c := range []struct {
		name       string
		production bool
		base       string
		graphiql   bool
		warned     bool
	}{
		{"development", false, "http://127.0.0.1:8080", true, false},
		{"production over http", true, "http://shop.example", false, true},
		{"production over https", true, "https://shop.example", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, logs bytes.Buffer
			serveBanner(&out, slog.New(slog.NewTextHandler(&logs, nil)), c.production, c.base, false)
			if got := strings.Contains(out.String(), "GraphiQL"); got != c.graphiql {
				t.Errorf("GraphiQL listed %v, want %v:\n%s", got, c.graphiql, out.String())
			}
			if got := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "https public URL"); got != c.warned {
				t.Errorf("warned %v, want %v: %s", got, c.warned, logs.String())
			}
		})
	}
}

// runMain runs the command line as a user would and returns its exit code
// and what it wrote to standard output and standard error.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

// Every command, and every action of those that have actions, answers
// --help with what it does and the flags it takes, and only those: an
// outside review found `bench --help` refused as an unknown benchmark,
// `config --help` and `healthcheck --help` without a word of what they
// do, every command listing all of serve's settings, `kassa --version`
// an unknown command, and `kassa seed` silent about `seed orders`.
func TestHelp(t *testing.T) {
	t.Parallel()
	everySetting := []string{"--data-dir", "--http-addr", "--graphql-concurrency", "--seed-demo", "--trust-proxy"}
	tests := []struct {
		name     string
		args     []string
		code     int
		want     []string
		wantNot  []string
		toStdout bool
	}{
		{"kassa", []string{"--help"}, 0, []string{"serve", "bench", "healthcheck", "kassa help <command>"}, nil, true},
		{"--version", []string{"--version"}, 0, []string{"kassa " + Version}, nil, true},
		{"-v", []string{"-v"}, 0, []string{"kassa " + Version}, nil, true},
		{"version", []string{"version"}, 0, []string{"kassa " + Version}, nil, true},
		{"serve", []string{"serve", "--help"}, 0, append([]string{"Runs the shop"}, everySetting...), nil, false},
		{"help serve", []string{"help", "serve"}, 0, append([]string{"Runs the shop"}, everySetting...), nil, false},
		{"config", []string{"config", "--help"}, 0, append([]string{"Prints every setting"}, everySetting...), nil, false},
		{"healthcheck", []string{"healthcheck", "--help"}, 0, []string{"Requests /readyz", "--http-addr"}, []string{"--data-dir", "--graphql-concurrency"}, false},
		{"migrate", []string{"migrate", "--help"}, 0, []string{"up applies every pending migration", "--database-url", "--data-dir", "--yes"},
			[]string{"--graphql-concurrency", "--http-addr", "--seed-demo"}, false},
		{"user", []string{"user", "--help"}, 0, []string{"Creates a shop owner", "--email", "--data-dir"}, []string{"--graphql-concurrency", "--http-addr"}, false},
		{"user create-owner", []string{"user", "create-owner", "--help"}, 0, []string{"Creates a shop owner"}, nil, false},
		{"seed", []string{"seed", "--help"}, 0, []string{"demo [--products N]", "orders --count N"}, nil, true},
		{"seed without an action", []string{"seed"}, 2, []string{"demo [--products N]", "orders --count N", "name what to seed"}, nil, false},
		{"seed demo", []string{"seed", "demo", "--help"}, 0, []string{"Creates the demo shop", "--products", "--plugin-dir"}, []string{"--graphql-concurrency", "--count"}, false},
		{"seed orders", []string{"seed", "orders", "--help"}, 0, []string{"Adds N orders", "--count"}, []string{"--graphql-concurrency", "--products"}, false},
		{"seed something else", []string{"seed", "customers"}, 2, []string{"unknown seed action", "orders --count N"}, nil, false},
		{"plugin", []string{"plugin", "--help"}, 0, []string{"install PATH...", "dev DIR", "trigger EVENT"}, nil, true},
		{"plugin install", []string{"plugin", "install", "--help"}, 0, []string{"--replace", "--quiet", "--plugin-dir"}, []string{"--graphql-concurrency", "--http-addr"}, false},
		{"plugin dev", []string{"plugin", "dev", "--help"}, 0, []string{"Builds the plugin in DIR", "--addr", "--poll"}, nil, false},
		{"plugin trigger", []string{"plugin", "trigger", "--help"}, 0, []string{"signed exactly as its gateway signs them", "--payment", "--shop-url", "--http-addr"},
			[]string{"--graphql-concurrency", "--seed-demo"}, false},
		{"bench", []string{"bench", "--help"}, 0, []string{"products", "pages", "checkout-cart", "checkout", "startup"}, nil, true},
		{"bench without a benchmark", []string{"bench"}, 2, []string{"checkout-cart", "name a benchmark"}, nil, false},
		{"bench products", []string{"bench", "products", "--help"}, 0, []string{"Loads /graphql", "--url", "--uncached"}, []string{"--data-dir", "--config"}, false},
		{"bench pages", []string{"bench", "pages", "--help"}, 0, []string{"Loads storefront pages", "--path"}, []string{"--data-dir", "--config"}, false},
		{"bench checkout-cart", []string{"bench", "checkout-cart", "--help"}, 0, []string{"Guests check out carts", "--api-key"}, []string{"--data-dir", "--config"}, false},
		{"bench checkout", []string{"bench", "checkout", "--help"}, 0, []string{"Guests check out and pay", "--gateway"}, []string{"--data-dir", "--config"}, false},
		{"bench startup", []string{"bench", "startup", "--help"}, 0, []string{"time from process start", "--runs", "--data-dir", "--database-url"},
			[]string{"--graphql-concurrency", "--http-addr"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(tt.args...)
			help := errOut
			if tt.toStdout {
				help = out
			}
			if code != tt.code {
				t.Fatalf("kassa %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(help, w) {
					t.Errorf("kassa %s: the help lacks %q:\n%s", strings.Join(tt.args, " "), w, help)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(help, w+" ") || strings.Contains(help, w+"\n") {
					t.Errorf("kassa %s: the help offers %s, which the command does not use:\n%s", strings.Join(tt.args, " "), w, help)
				}
			}
		})
	}
	// No command is left without a description of what it does.
	for name := range commands {
		code, out, errOut := runMain(name, "--help")
		if code != 0 || !strings.Contains(out+errOut, "Usage: kassa "+name) {
			t.Errorf("kassa %s --help: exit %d, no usage line:\n%s%s", name, code, out, errOut)
		}
	}
}
