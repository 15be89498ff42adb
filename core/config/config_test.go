package config

import (
	"os"
	"path/filepath"
	"reflect"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tt.path, tt.must, func(k string) string { return tt.env[k] }, nil)
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
