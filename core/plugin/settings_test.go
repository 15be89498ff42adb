package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

const plainSecret = "sk_test_TOPSECRET_4711"

func TestSettings(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if _, err := e.svc.Install(ctx(), gatewayBin, InstallOptions{}); err != nil {
			t.Fatal(err)
		}

		// Enabling needs valid settings ("mode" is required).
		_, err := e.svc.Enable(ctx(), testID)
		if code(err) != CodeMisconfigured || !strings.Contains(err.Error(), `missing required setting "mode"`) {
			t.Fatalf("enable unconfigured: %v", err)
		}

		for name, c := range map[string]struct {
			settings  string
			field     []string
			wantInMsg string
		}{
			"wrong type":       {`{"mode":"sandbox","max_amount":"ten"}`, []string{"settings", "max_amount"}, "want integer"},
			"not in enum":      {`{"mode":"production"}`, []string{"settings", "mode"}, "sandbox"},
			"unknown field":    {`{"mode":"sandbox","colour":"red"}`, []string{"settings", "colour"}, `unknown setting "colour"`},
			"missing":          {`{}`, []string{"settings", "mode"}, `missing required setting "mode"`},
			"secret too short": {`{"mode":"sandbox","api_key":"x"}`, []string{"settings", "api_key"}, "at least 4 characters"},
		} {
			_, err := e.svc.UpdateSettings(ctx(), testID, []byte(c.settings))
			all := errs.All(err)
			if len(all) == 0 || !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("%s: UpdateSettings = %v, want invalid", name, err)
			}
			if diff := cmp.Diff(c.field, all[0].Field); diff != "" || all[0].Code != CodeInvalidSettings {
				t.Errorf("%s: field/code %v %s (-want +got):\n%s", name, all[0].Field, all[0].Code, diff)
			}
			if !strings.Contains(all[0].Message, c.wantInMsg) {
				t.Errorf("%s: message %q does not contain %q", name, all[0].Message, c.wantInMsg)
			}
		}
		for _, bad := range []string{`[1]`, `"x"`, `{`, `{} {}`} {
			if _, err := e.svc.UpdateSettings(ctx(), testID, []byte(bad)); code(err) != CodeInvalidSettings {
				t.Errorf("settings %s: %v", bad, err)
			}
		}
		p, _ := e.svc.Get(ctx(), testID)
		if p.Revision != 1 || string(p.Settings) != "{}" {
			t.Fatalf("refused settings changed the plugin: revision %d settings %s", p.Revision, p.Settings)
		}

		// A secret is split off, sealed, reported as set, never returned.
		p, err = e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"sandbox","max_amount":100,"api_key":"`+plainSecret+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(p.Settings), plainSecret) || string(p.Settings) != `{"max_amount":100,"mode":"sandbox"}` {
			t.Fatalf("settings returned %s", p.Settings)
		}
		if diff := cmp.Diff([]SecretField{{Name: "api_key", Pointer: "/api_key", IsSet: true}}, p.SecretFields); diff != "" {
			t.Fatalf("secret fields (-want +got):\n%s", diff)
		}
		r, _ := e.svc.st.get(context.Background(), testID)
		if strings.Contains(r.Settings+r.Secrets, plainSecret) || r.Secrets == "" || r.SecretsKeyID != e.opts.Secrets.KeyID() {
			t.Fatalf("row stores the secret badly: settings %s secrets %q key %q", r.Settings, r.Secrets, r.SecretsKeyID)
		}

		// Omitting the secret keeps it; null clears it.
		p, err = e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"live"}`))
		if err != nil || !p.SecretFields[0].IsSet || string(p.Settings) != `{"mode":"live"}` {
			t.Fatalf("update without secret: %+v, %v", p, err)
		}
		full, err := e.svc.settingsOf(mustRow(t, e))
		if err != nil || full["api_key"] != plainSecret {
			t.Fatalf("kept secret = %v, %v", full["api_key"], err)
		}

		// A kept secret stays where it was sent: settings that change where
		// the plugin connects must name the secret again.
		for _, moved := range []string{
			`{"mode":"live","callback_url":"https://collector.example.net/"}`,
			`{"mode":"live","relays":["relay.example.net"]}`,
		} {
			_, err := e.svc.UpdateSettings(ctx(), testID, []byte(moved))
			all := errs.All(err)
			if len(all) != 1 || all[0].Code != CodeSecretRequired || strings.Join(all[0].Field, ".") != "settings.api_key" {
				t.Fatalf("%s without the secret: %v, want %s on settings.api_key", moved, err, CodeSecretRequired)
			}
			if r := mustRow(t, e); r.Revision != p.Revision || r.Settings != `{"mode":"live"}` {
				t.Fatalf("refused settings were saved: revision %d, %s", r.Revision, r.Settings)
			}
		}
		p, err = e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"live","logo_url":"https://cdn.example.net/logo.png"}`))
		if err != nil {
			t.Fatalf("a setting the plugin does not connect to, secret kept: %v", err)
		}
		p, err = e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"live","callback_url":"https://erp.example.com/in","api_key":"`+plainSecret+`"}`))
		if err != nil {
			t.Fatalf("a new address with the secret entered again: %v", err)
		}
		p, err = e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"live","callback_url":"https://erp.example.com/in"}`))
		if err != nil || !p.SecretFields[0].IsSet {
			t.Fatalf("the same address, secret kept: %+v, %v", p.SecretFields, err)
		}
		p, err = e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"live","api_key":null}`))
		if err != nil || p.SecretFields[0].IsSet {
			t.Fatalf("clear secret: %+v, %v", p.SecretFields, err)
		}
		if r := mustRow(t, e); r.Secrets != "" {
			t.Fatal("cleared secret still stored")
		}

		if p, err = e.svc.Enable(ctx(), testID); err != nil || !p.Enabled {
			t.Fatalf("enable: %+v, %v", p, err)
		}
		if p, err = e.svc.Disable(ctx(), testID); err != nil || p.Enabled || p.Health.Status != HealthStopped {
			t.Fatalf("disable: %+v, %v", p, err)
		}
		if !strings.Contains(e.logs.String(), "plugin settings updated") || strings.Contains(e.logs.String(), plainSecret) {
			t.Fatal("settings updates must be logged, without secret values")
		}
	})
}

func mustRow(t testing.TB, e *env) *row {
	t.Helper()
	r, err := e.svc.st.get(context.Background(), testID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSecretNotInDatabaseFile scans every file of a SQLite database (main
// file and write-ahead log) for the plaintext of a saved secret.
func TestSecretNotInDatabaseFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "kassa.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Migrated(t, db)
	e := newEnv(t, db)
	if _, err := e.svc.Install(ctx(), gatewayBin, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`{"mode":"sandbox","api_key":"` + plainSecret + `"}`,
		`{"mode":"live"}`, // rewrites the row, keeps the secret
	} {
		if _, err := e.svc.UpdateSettings(ctx(), testID, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if r := mustRow(t, e); r.Secrets == "" {
		t.Fatal("no secret stored: the scan would prove nothing")
	}
	if _, err := db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(FULL)"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	scanned := 0
	for _, en := range entries {
		if !strings.HasPrefix(en.Name(), "kassa.db") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		scanned++
		if bytes.Contains(b, []byte(plainSecret)) {
			t.Fatalf("%s contains the plaintext secret", en.Name())
		}
		if bytes.Contains(b, []byte(`"mode":"live"`)) {
			continue
		}
	}
	if scanned == 0 {
		t.Fatal("no database file found")
	}
	// The scan can see data: the non-secret setting is in the file.
	b, _ := os.ReadFile(filepath.Join(dir, "kassa.db"))
	if !bytes.Contains(b, []byte(`{"mode":"live"}`)) {
		t.Fatal("non-secret settings not found in the database file; the scan is not reading the data")
	}
	if strings.Contains(e.logs.String(), plainSecret) {
		t.Fatal("the secret reached the log")
	}
}

func TestSplitAndMergeNestedSecrets(t *testing.T) {
	t.Parallel()
	obj := map[string]any{"a": 1.0, "smtp": map[string]any{"host": "h", "pass/word": "p"}, "key": "k"}
	sec := splitSecrets(obj, []string{"/key", "/smtp/pass~1word", "/missing"})
	if diff := cmp.Diff(map[string]any{"/key": "k", "/smtp/pass~1word": "p"}, sec); diff != "" {
		t.Fatalf("secrets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"a": 1.0, "smtp": map[string]any{"host": "h"}}, obj); diff != "" {
		t.Fatalf("rest (-want +got):\n%s", diff)
	}
	mergeSecrets(obj, sec)
	b, _ := json.Marshal(obj)
	if string(b) != `{"a":1,"key":"k","smtp":{"host":"h","pass/word":"p"}}` {
		t.Fatalf("merged %s", b)
	}
}
