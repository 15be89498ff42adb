package plugintest

import (
	"strings"
	"testing"

	"github.com/kassahq/kassa/plugins/sdk"
)

// TestRefusal: an unknown setting counts as refused when an error points
// at it or names it on the settings as a whole; the message tells an
// acceptance from a refusal that does not say which setting.
func TestRefusal(t *testing.T) {
	tests := []struct {
		name string
		errs []sdk.ConfigError
		want string // "" = refused properly; else a part of the message
	}{
		{"on the field", []sdk.ConfigError{{Field: "/x_unknown", Code: "unknown_field", Message: "unknown"}}, ""},
		{"on the object, named", []sdk.ConfigError{{Field: "", Code: "additionalProperties", Message: "additional properties 'x_unknown' not allowed"}}, ""},
		{"accepted", nil, "was accepted"},
		{"refused elsewhere", []sdk.ConfigError{{Field: "/api_key", Code: "required", Message: "missing"}}, "was refused, but no error points at it"},
		{"on the object, unnamed", []sdk.ConfigError{{Field: "", Code: "invalid", Message: "bad settings"}}, "was refused, but no error points at it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := refusal(tt.errs, "x_unknown")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("refusal = %q, want %q", got, tt.want)
			}
		})
	}
}
