package plugin

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
)

func TestOutboundFields(t *testing.T) {
	t.Parallel()
	doc := `{"type":"object","properties":{
		"endpoints":{"type":"array","items":{"type":"object","properties":{
			"url":{"type":"string","format":"uri","x-kassa-outbound":true},
			"name":{"type":"string"}}}},
		"smtp":{"type":"string","x-kassa-outbound":true},
		"mirror":{"type":"string","format":"hostname"},
		"logo":{"type":"string","format":"uri","x-kassa-outbound":false},
		"by_name":{"type":"object","additionalProperties":{"type":"string","format":"uri"}}}}`
	var got []string
	for _, f := range outboundFields(doc) {
		got = append(got, strings.Join(f.pointer, "/")+map[bool]string{true: " url", false: " host"}[f.isURL])
	}
	want := []string{"by_name/* url", "endpoints/*/url url", "mirror host", "smtp host"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("outbound fields (-want +got):\n%s", d)
	}
}

func TestCheckOutbound(t *testing.T) {
	t.Parallel()
	const doc = `{"type":"object","properties":{
		"endpoints":{"type":"array","items":{"type":"object","properties":{"url":{"type":"string","format":"uri","x-kassa-outbound":true}}}},
		"host":{"type":"string","x-kassa-outbound":true}}}`
	tests := []struct {
		name     string
		settings map[string]any
		field    string // "" when accepted
		code     string
	}{
		{"public", map[string]any{"endpoints": []any{map[string]any{"url": "https://erp.example.com/in"}}, "host": "smtp.example.com:587"}, "", ""},
		{"loopback URL", map[string]any{"endpoints": []any{map[string]any{"url": "https://erp.example.com/"}, map[string]any{"url": "http://127.0.0.1:9/"}}}, "settings.endpoints.1.url", CodePrivateNetwork},
		{"metadata", map[string]any{"endpoints": []any{map[string]any{"url": "http://169.254.169.254/latest/meta-data/"}}}, "settings.endpoints.0.url", CodePrivateNetwork},
		{"decimal", map[string]any{"endpoints": []any{map[string]any{"url": "http://2130706433/"}}}, "settings.endpoints.0.url", CodePrivateNetwork},
		{"octal", map[string]any{"endpoints": []any{map[string]any{"url": "http://0177.0.0.1/"}}}, "settings.endpoints.0.url", CodePrivateNetwork},
		{"mapped IPv6", map[string]any{"endpoints": []any{map[string]any{"url": "http://[::ffff:192.168.0.1]/"}}}, "settings.endpoints.0.url", CodePrivateNetwork},
		{"not a URL", map[string]any{"endpoints": []any{map[string]any{"url": "erp.example.com/in"}}}, "settings.endpoints.0.url", CodeInvalidURL},
		{"gopher", map[string]any{"endpoints": []any{map[string]any{"url": "gopher://erp.example.com/"}}}, "settings.endpoints.0.url", CodeInvalidURL},
		{"localhost host with port", map[string]any{"host": "localhost:25"}, "settings.host", CodePrivateNetwork},
		{"private host", map[string]any{"host": "10.0.0.25"}, "settings.host", CodePrivateNetwork},
		{"IPv6 ULA host with port", map[string]any{"host": "[fd00::25]:587"}, "settings.host", CodePrivateNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkOutbound(doc, tt.settings, netguard.Policy{})
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			all := errs.All(err)
			if len(all) != 1 || strings.Join(all[0].Field, ".") != tt.field || all[0].Code != tt.code || !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("got %v, want %s on %s", err, tt.code, tt.field)
			}
			// The owner's switch lets private addresses through, never
			// malformed ones.
			err = checkOutbound(doc, tt.settings, netguard.Policy{AllowPrivate: true})
			if (err != nil) != (tt.code == CodeInvalidURL) {
				t.Fatalf("allowed private networks: %v", err)
			}
		})
	}
}

// TestSettingsRefusePrivateNetworks is the SSRF of issue 7 through the
// service: a loopback callback is refused and nothing is saved; with the
// owner's switch it is saved, and the switch reaches the plugin's
// Configure across the process boundary.
func TestSettingsRefusePrivateNetworks(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		e := sqliteEnv(t, func(o *Options) { o.AllowPrivateNetworks = allow })
		before := e.installEnabled(t, "")
		p, err := e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"sandbox","callback_url":"http://127.0.0.1:8080/cb","relays":["relay.example.com","10.1.2.3:25"]}`))
		if !allow {
			all := errs.All(err)
			if len(all) != 2 || all[0].Code != CodePrivateNetwork || strings.Join(all[0].Field, ".") != "settings.callback_url" ||
				strings.Join(all[1].Field, ".") != "settings.relays.1" {
				t.Fatalf("default policy: %v, want PRIVATE_NETWORK on callback_url and relays.1", err)
			}
			after, _ := e.svc.Get(ctx(), testID)
			if after.Revision != before.Revision {
				t.Fatalf("refused settings were saved: revision %d -> %d", before.Revision, after.Revision)
			}
		} else if err != nil || !strings.Contains(string(p.Settings), "127.0.0.1") {
			t.Fatalf("allowed: %v %s", err, p.Settings)
		}
		srv := httptest.NewServer(e.svc.HTTPHandler())
		res, err := http.Get(srv.URL + "/plugins/" + testID + "/network")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		srv.Close()
		if want := map[bool]string{false: "false", true: "true"}[allow]; string(b) != want {
			t.Fatalf("plugin saw allow_private_networks %q, want %s", b, want)
		}
	}
}
