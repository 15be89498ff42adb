package storefront

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/graphql"
)

// addressGraphQL answers the checkout's cart (one line, shipping to
// country; none: no address yet) and the address book's buyer (one
// address, adr_1, in country).
type addressGraphQL struct{ country string }

func (f addressGraphQL) Exec(_ context.Context, req graphql.Request) *graphql.Response {
	m := map[string]any{"amount": "48.00", "currencyCode": "CNY"}
	var addr any
	if f.country != "" {
		addr = map[string]any{"line1": "1 Main Street", "city": "Springfield", "province": "", "countryCode": f.country}
	}
	var data any = map[string]any{}
	switch req.OperationName {
	case "StorefrontCart":
		data = map[string]any{"cart": map[string]any{"id": "cart_1", "currencyCode": "CNY", "totalQuantity": 1, "email": "fang@example.com",
			"lines":           []any{map[string]any{"id": "line_1", "variantId": "var_1", "productTitle": "Tea", "quantity": 1, "subtotal": m}},
			"shippingAddress": addr, "shippingMethods": []any{}, "subtotal": m, "shipping": m, "tax": m, "discountTotal": m, "total": m}}
	case "StorefrontAccountMe":
		data = map[string]any{"me": map[string]any{"id": "cus_1", "email": "fang@example.com",
			"addresses": []any{map[string]any{"id": "adr_1", "line1": "1 Main Street", "city": "Springfield", "countryCode": f.country}}}}
	}
	b, _ := json.Marshal(data)
	return &graphql.Response{Data: b}
}

var (
	datalistRE      = regexp.MustCompile(`<datalist id="f-province-list" data-country="([A-Z]*)">(.*?)</datalist>`)
	optionRE        = regexp.MustCompile(`<option value="([^"]*)"></option>`)
	provinceInputRE = regexp.MustCompile(`<input id="f-province" [^>]*>`)
)

// provinceSuggested reads the province field of a page: the country its
// datalist is of, its options, and whether the input points at it.
func provinceSuggested(t *testing.T, body string) (of string, options []string, listed bool) {
	t.Helper()
	d := datalistRE.FindStringSubmatch(body)
	in := provinceInputRE.FindString(body)
	if d == nil || in == "" {
		t.Fatalf("no province field with its datalist:\n%s", body)
	}
	for _, o := range optionRE.FindAllStringSubmatch(d[2], -1) {
		options = append(options, o[1])
	}
	return d[1], options, strings.Contains(in, ` list="f-province-list"`)
}

// TestProvinceSuggestions: the checkout and the address book's form
// suggest the chosen country's subdivisions in the province field, drawn
// by the server (no JavaScript needed): Chinese names for China on a
// Chinese page, English names elsewhere, names escaped, none for a
// country without subdivisions; the country is the saved address's, the
// default's, or the one a refused form was sent with. The pages load
// province.js, which follows the country select, as a file: the
// Content-Security-Policy allows no inline script.
func TestProvinceSuggestions(t *testing.T) {
	buyer := func(r *http.Request) *http.Request {
		return r.WithContext(authz.WithSubject(r.Context(), authz.Subject{Kind: authz.KindCustomer, ID: "cus_1", Session: "ses_1"}))
	}
	guest := func(r *http.Request) *http.Request {
		r.AddCookie(&http.Cookie{Name: cartCookie, Value: "guest-cart-token"})
		return r
	}
	// refused is a form post without line1 (refused before GraphQL
	// sees it) from a buyer who chose country, served by h's handler
	// behind the form check.
	refused := func(path, country string) func(h *Handler, r *http.Request) *httptest.ResponseRecorder {
		return func(h *Handler, r *http.Request) *httptest.ResponseRecorder {
			form := url.Values{"step": {"contact"}, "email": {"fang@example.com"}, "city": {"Springfield"},
				"province": {"somewhere"}, "countryCode": {country}}
			post := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode())).WithContext(r.Context())
			post.Header = r.Header.Clone()
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := post.ParseForm(); err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			if path == "/checkout" {
				h.checkoutStep(rec, post)
			} else {
				h.saveAddress(rec, post)
			}
			return rec
		}
	}
	tests := []struct {
		name, path, lang, country string
		as                        func(*http.Request) *http.Request
		// post, when set, sends a form instead of getting path.
		post   func(*Handler, *http.Request) *httptest.ResponseRecorder
		status int
		// of is the country suggested; first the first options; has
		// some more; hasNot options that must not be there.
		of                string
		first, has, hasNo []string
		n                 int
	}{
		{"checkout, the default country on a Chinese page", "/checkout", "zh-CN", "", guest, nil, 200,
			"CN", []string{"安徽省", "北京市", "重庆市"}, []string{"浙江省", "广西壮族自治区"}, []string{"Zhejiang"}, 34},
		{"checkout, China on an English page", "/checkout", "en", "CN", guest, nil, 200,
			"CN", []string{"Anhui", "Beijing"}, []string{"Zhejiang"}, []string{"浙江省"}, 34},
		{"checkout, the US address on an English page", "/checkout", "en", "US", guest, nil, 200,
			"US", []string{"Alabama", "Alaska", "American Samoa"}, []string{"California", "New York"}, nil, 57},
		{"checkout, the US address on a Chinese page: English names", "/checkout", "zh-CN", "US", guest, nil, 200,
			"US", []string{"Alabama"}, []string{"California"}, nil, 57},
		{"checkout, Hong Kong has none", "/checkout", "en", "HK", guest, nil, 200, "HK", nil, nil, nil, 0},
		{"checkout, a refused form shows the country it was sent with", "/checkout", "zh-CN", "CN", guest, refused("/checkout", "US"), 422,
			"US", []string{"Alabama"}, []string{"California"}, []string{"浙江省"}, 57},
		{"checkout, a refused form with an unknown country", "/checkout", "en", "CN", guest, refused("/checkout", "XX"), 422,
			"XX", nil, nil, nil, 0},
		{"a new address, the default country on a Chinese page", "/account/addresses/new", "zh-CN", "", buyer, nil, 200,
			"CN", []string{"安徽省", "北京市"}, []string{"浙江省"}, nil, 34},
		{"a US address being changed, English page", "/account/addresses/adr_1", "en", "US", buyer, nil, 200,
			"US", []string{"Alabama", "Alaska"}, []string{"California"}, nil, 57},
		{"a French address: names escaped", "/account/addresses/adr_1", "en", "FR", buyer, nil, 200,
			"FR", []string{"Ain", "Aisne"}, []string{"Côte-d&#39;Or", "Île-de-France"}, []string{"Côte-d'Or"}, 122},
		{"a Hong Kong address has none", "/account/addresses/adr_1", "zh-CN", "HK", buyer, nil, 200, "HK", nil, nil, nil, 0},
		{"the address book, a refused form", "/account/addresses/new", "en", "", buyer, refused("/account/addresses/new", "US"), 422,
			"US", []string{"Alabama"}, []string{"California"}, nil, 57},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler(t, addressGraphQL{country: tt.country}, "")
			r := tt.as(httptest.NewRequest(http.MethodGet, tt.path, nil))
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tt.lang})
			var rec *httptest.ResponseRecorder
			if tt.post != nil {
				rec = tt.post(h, r)
			} else {
				rec = httptest.NewRecorder()
				h.ServeHTTP(rec, r)
			}
			body := rec.Body.String()
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tt.status, body)
			}
			of, options, listed := provinceSuggested(t, body)
			if of != tt.of || len(options) != tt.n || listed != (tt.n > 0) {
				t.Fatalf("suggestions of %q, %d options, input pointing at them %v; want %q, %d:\n%s", of, len(options), listed, tt.of, tt.n, body)
			}
			if diff := cmp.Diff(tt.first, options[:len(tt.first)]); diff != "" {
				t.Errorf("first options (-want +got):\n%s", diff)
			}
			for _, s := range tt.has {
				if !strings.Contains(body, `<option value="`+s+`">`) {
					t.Errorf("no option %q", s)
				}
			}
			for _, s := range tt.hasNo {
				if strings.Contains(body, `<option value="`+s+`">`) {
					t.Errorf("option %q", s)
				}
			}
			if !strings.Contains(body, `<script src="/static/province.js" defer></script>`) {
				t.Error("the page does not load province.js")
			}
			if strings.Count(body, "<script") != strings.Count(body, "<script src=") {
				t.Error("an inline script, which the Content-Security-Policy blocks")
			}
			if !strings.Contains(body, `<label for="f-province">`+map[string]string{"en": "Province / state", "zh-CN": "省份 / 州"}[tt.lang]+"</label>") {
				t.Errorf("the province field lost its label")
			}
		})
	}
}

// TestSubdivisionList: GET /subdivisions/{country} is what province.js
// reads when the country changes: the suggestions a page in ?lang= would
// draw, cacheable, [] for a country without subdivisions, 404 for no
// country.
func TestSubdivisionList(t *testing.T) {
	h := newTestHandler(t, addressGraphQL{}, "")
	tests := []struct {
		target string
		status int
		want   []country.SubdivisionName
	}{
		{"/subdivisions/CN?lang=zh-CN", 200, country.Subdivisions("CN", "zh-CN")},
		{"/subdivisions/CN?lang=zh", 200, country.Subdivisions("CN", "zh-CN")},
		{"/subdivisions/CN?lang=en", 200, country.Subdivisions("CN", "en")},
		{"/subdivisions/CN", 200, country.Subdivisions("CN", "en")},
		{"/subdivisions/CN?lang=fr", 200, country.Subdivisions("CN", "en")},
		{"/subdivisions/US?lang=zh-CN", 200, country.Subdivisions("US", "en")},
		{"/subdivisions/HK?lang=en", 200, []country.SubdivisionName{}},
		{"/subdivisions/XX", 404, nil},
		{"/subdivisions/cn", 404, nil},
		{"/subdivisions/%3Cb%3E", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := get(h, tt.target, "Accept-Language", "zh-CN")
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				return
			}
			if rec.Header().Get("Content-Type") != "application/json; charset=utf-8" || rec.Header().Get("Cache-Control") != "public, max-age=86400" {
				t.Errorf("headers %v", rec.Header())
			}
			var got []country.SubdivisionName
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got == nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("list (-want +got):\n%s", diff)
			}
		})
	}
	// province.js reads each entry's name.
	if body := get(h, "/subdivisions/CN?lang=zh-CN").Body.String(); !strings.HasPrefix(body, `[{"code":"AH","name":"安徽省"},{"code":"BJ","name":"北京市"},`) {
		t.Errorf("the list as province.js reads it: %.80s", body)
	}
	if rec := get(h, "/static/province.js"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "/subdivisions/") {
		t.Fatalf("province.js: %d", rec.Code)
	}
}
