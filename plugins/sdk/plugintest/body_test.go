package plugintest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFormatOf: the Content-Type Sign set decides; without one, the body's
// look.
func TestFormatOf(t *testing.T) {
	tests := []struct {
		name string
		ct   string
		body string
		want bodyFormat
	}{
		{"form by type", "application/x-www-form-urlencoded; charset=utf-8", "a=1&sign=x", formBody},
		{"json by type", "application/json", `{"a":1}`, jsonBody},
		{"json suffix", "application/vnd.gateway+json", `{"a":1}`, jsonBody},
		{"xml by type", "text/xml", "<xml><sign>x</sign></xml>", opaqueBody},
		{"type wins over look", "text/plain", "a=1&sign=x", opaqueBody},
		{"json by look", "", ` {"a":"b=c"}`, jsonBody},
		{"form by look", "", "a=1&sign=x", formBody},
		{"neither", "", "hello", opaqueBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.ct != "" {
				h["content-type"] = []string{tt.ct} // not canonical, as a Sign may write it
			}
			if got := formatOf(h, []byte(tt.body)); got != tt.want {
				t.Errorf("formatOf(%q, %q) = %d, want %d", tt.ct, tt.body, got, tt.want)
			}
		})
	}
}

// TestBodyFields: the fields the kit reads, by name or JSON Pointer.
func TestBodyFields(t *testing.T) {
	tests := []struct {
		name   string
		format bodyFormat
		body   string
		want   map[string][]string
	}{
		{"form", formBody, "notify_id=n1&sign=ab%2Bc%2F%3D%3D&sign_type=RSA2&sign=twice",
			map[string][]string{"notify_id": {"n1"}, "sign": {"ab+c/==", "twice"}, "sign_type": {"RSA2"}}},
		{"json, nested and escaped", jsonBody, `{"id":"e1","n":12,"ok":true,"auth":{"signature":"a\/b\u003d","a/b":"x"},"list":["p",{"sig":"q"}]}`,
			map[string][]string{"/id": {"e1"}, "/auth/signature": {"a/b="}, "/auth/a~1b": {"x"}, "/list/0": {"p"}, "/list/1/sig": {"q"}}},
		{"json, not an object", jsonBody, `"just a string"`, map[string][]string{"": {"just a string"}}},
		{"json, broken", jsonBody, `{"sign":"x"`, nil},
		{"opaque", opaqueBody, "<xml/>", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, bodyFields(tt.format, []byte(tt.body))); diff != "" {
				t.Errorf("bodyFields (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetField: a field's values change in place; every other byte stays
// as it was.
func TestSetField(t *testing.T) {
	half := func(v string) (string, bool) { return v[:len(v)/2], len(v) > 1 }
	tests := []struct {
		name      string
		format    bodyFormat
		body      string
		field     string
		want      string
		wantEdits []fieldEdit
	}{
		{"form", formBody, "a=%E6%B5%8B+x&sign=abcd%2B%2F%3D%3D&z=1", "sign",
			"a=%E6%B5%8B+x&sign=abcd&z=1", []fieldEdit{{"abcd+/==", "abcd"}}},
		{"form, every value", formBody, "sign=abcd&sign=wxyz", "sign", "sign=ab&sign=wx", []fieldEdit{{"abcd", "ab"}, {"wxyz", "wx"}}},
		{"form, no such field", formBody, "a=1", "sign", "a=1", nil},
		{"json", jsonBody, `{ "a" : "1", "auth": {"signature" : "ab<>&d", "t": 5} }`, "/auth/signature",
			`{ "a" : "1", "auth": {"signature" : "ab<", "t": 5} }`, []fieldEdit{{"ab<>&d", "ab<"}}},
		{"json, in an array", jsonBody, `["abcd","wxyz"]`, "/1", `["abcd","wx"]`, []fieldEdit{{"wxyz", "wx"}}},
		{"json, not a string", jsonBody, `{"sign":1234}`, "/sign", `{"sign":1234}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, edits := setField(tt.format, []byte(tt.body), tt.field, half)
			if string(got) != tt.want {
				t.Errorf("setField = %s, want %s", got, tt.want)
			}
			if diff := cmp.Diff(tt.wantEdits, edits, cmp.AllowUnexported(fieldEdit{})); diff != "" {
				t.Errorf("edits (-want +got):\n%s", diff)
			}
			if tt.format == jsonBody && !json.Valid(got) {
				t.Errorf("setField made invalid JSON: %s", got)
			}
		})
	}
}

// TestDropFields: the delivery without a signature keeps the rest of the
// body, and JSON stays JSON wherever the member was.
func TestDropFields(t *testing.T) {
	tests := []struct {
		name   string
		format bodyFormat
		body   string
		fields []string
		want   string
	}{
		{"form", formBody, "sign=x&a=1&sign=y&b=2", []string{"sign"}, "a=1&b=2"},
		{"form, two fields", formBody, "a=1&signature=x&signPubKeyCert=c", []string{"signature", "signPubKeyCert"}, "a=1"},
		{"json, first member", jsonBody, `{"sign": "x", "a": 1}`, []string{"/sign"}, `{"a": 1}`},
		{"json, middle member", jsonBody, `{"a":1,"sign":"x","b":2}`, []string{"/sign"}, `{"a":1,"b":2}`},
		{"json, last member", jsonBody, `{"a":1 , "sign":"x" }`, []string{"/sign"}, `{"a":1  }`},
		{"json, only member", jsonBody, `{"auth":{"sig":"x"},"a":1}`, []string{"/auth/sig"}, `{"auth":{},"a":1}`},
		{"json, two members", jsonBody, `{"auth":{"sig":"x","t":"1","mac":"y"}}`, []string{"/auth/sig", "/auth/mac"}, `{"auth":{"t":"1"}}`},
		{"json, array element stays", jsonBody, `{"sigs":["x"]}`, []string{"/sigs/0"}, `{"sigs":["x"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dropFields(tt.format, []byte(tt.body), tt.fields)
			if string(got) != tt.want {
				t.Errorf("dropFields = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSignatureField: the names the kit takes for a body signature when
// their values change between two signings.
func TestSignatureField(t *testing.T) {
	for _, name := range []string{"sign", "signature", "/auth/signature", "paySign", "hmacSignature", "SHASIGN", "CHECKSUMHASH", "sig", "x_mac", "/a~1sign"} {
		if !signatureField(name) {
			t.Errorf("signatureField(%q) = false, want true", name)
		}
	}
	for _, name := range []string{"sign_type", "signType", "signMethod", "signPubKeyCert", "notify_id", "/sign/id", "design_mode", "signed_at", "amount"} {
		if signatureField(name) {
			t.Errorf("signatureField(%q) = true, want false", name)
		}
	}
}
