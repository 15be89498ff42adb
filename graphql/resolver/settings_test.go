package resolver_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/tax"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
)

// newSettingsServer returns a GraphQL server over the shop settings,
// shipping and tax on db, allowing everything: the permissions are
// tested against the real policy in graphql's access tests.
func newSettingsServer(t *testing.T, db *store.DB) (*graphql.Server, *eventstest.Outbox) {
	t.Helper()
	out := &eventstest.Outbox{}
	sh, err := shop.NewService(db, shop.Options{Authz: authz.AllowAll{}, Outbox: out, DefaultCurrency: money.CNY})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := shipping.NewService(db, shipping.Options{Authz: authz.AllowAll{}})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := tax.NewService(db, tax.Options{Authz: authz.AllowAll{}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := graphql.New(resolver.Services{Shop: sh, Shipping: sp, Tax: tx}, graphql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, out
}

// userErrors returns the "field CODE" lines of a payload's userErrors,
// fields joined by dots.
func userErrors(t *testing.T, r testkit.Result, payload string) []string {
	t.Helper()
	list, ok := testkit.Dig(r.Data, payload, "userErrors").([]any)
	if !ok {
		t.Fatalf("%s has no userErrors: %s %v", payload, r.Raw, r.Codes)
	}
	out := []string{}
	for _, e := range list {
		field := ""
		for i, p := range testkit.Dig(e, "field").([]any) {
			if i > 0 {
				field += "."
			}
			field += p.(string)
		}
		out = append(out, field+" "+testkit.Dig(e, "code").(string))
	}
	return out
}

const shopSettingsFields = `currencies defaultCurrency pricesIncludeTax paymentDeadlineSeconds reminderLeadSeconds
	orderNumberPrefix lineQuantityLimit unpaidOrdersPerBuyer`

func TestShopSettingsAPI(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		srv, out := newSettingsServer(t, db)
		ctx := catalogtest.Staff()

		r := testkit.ExecServer(t, ctx, srv, `{ shopSettings { `+shopSettingsFields+` updatedAt } }`, nil)
		want := testkit.DecodeJSON(t, `{"shopSettings": {"currencies": ["CNY"], "defaultCurrency": "CNY", "pricesIncludeTax": false,
			"paymentDeadlineSeconds": 1800, "reminderLeadSeconds": 600, "orderNumberPrefix": "#", "lineQuantityLimit": 100, "unpaidOrdersPerBuyer": 10, "updatedAt": null}}`)
		if diff := cmp.Diff(want, r.Data); diff != "" {
			t.Fatalf("defaults (-want +got):\n%s", diff)
		}

		const update = `mutation($input: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $input) {
			shopSettings { ` + shopSettingsFields + ` } userErrors { field code message } } }`
		for _, c := range []struct {
			name  string
			input map[string]any
			want  []string
		}{
			{"durations name the input's fields", map[string]any{"paymentDeadlineSeconds": 60, "reminderLeadSeconds": 0},
				[]string{"input.paymentDeadlineSeconds OUT_OF_RANGE", "input.reminderLeadSeconds OUT_OF_RANGE"}},
			{"reminder not before the deadline", map[string]any{"reminderLeadSeconds": 1800},
				[]string{"input.reminderLeadSeconds REMINDER_NOT_BEFORE_DEADLINE"}},
			{"currencies", map[string]any{"currencies": []any{"USD", "XYZ", "usd"}},
				[]string{"input.currencies.1 INVALID_CURRENCY", "input.currencies.2 DUPLICATE_CURRENCY"}},
			{"prefix and limit", map[string]any{"orderNumberPrefix": "ABCDEFGHIJK", "lineQuantityLimit": 0},
				[]string{"input.orderNumberPrefix TOO_LONG", "input.lineQuantityLimit OUT_OF_RANGE"}},
			{"unpaid orders per buyer", map[string]any{"unpaidOrdersPerBuyer": -1},
				[]string{"input.unpaidOrdersPerBuyer OUT_OF_RANGE"}},
			{"unpaid orders per buyer, too many", map[string]any{"unpaidOrdersPerBuyer": 1001},
				[]string{"input.unpaidOrdersPerBuyer OUT_OF_RANGE"}},
			{"storefront origins", map[string]any{"storefrontOrigins": []any{"https://shop.example.com/checkout", "https://a.example", "https://A.example:443"}},
				[]string{"input.storefrontOrigins.0 INVALID_ORIGIN", "input.storefrontOrigins.2 DUPLICATE_ORIGIN"}},
		} {
			r := testkit.ExecServer(t, ctx, srv, update, map[string]any{"input": c.input})
			if diff := cmp.Diff(c.want, userErrors(t, r, "shopSettingsUpdate")); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.name, diff)
			}
			if s := testkit.Dig(r.Data, "shopSettingsUpdate", "shopSettings"); s != nil {
				t.Errorf("%s: settings %v beside userErrors", c.name, s)
			}
		}
		if n := len(out.Events()); n != 0 {
			t.Fatalf("refused updates emitted %d events", n)
		}

		r = testkit.ExecServer(t, ctx, srv, update, map[string]any{"input": map[string]any{"currencies": []any{"usd", "CNY"}, "paymentDeadlineSeconds": 3600,
			"reminderLeadSeconds": 900, "orderNumberPrefix": "KS-", "lineQuantityLimit": 12, "unpaidOrdersPerBuyer": 3, "pricesIncludeTax": true}})
		want = testkit.DecodeJSON(t, `{"shopSettings": {"currencies": ["USD", "CNY"], "defaultCurrency": "USD", "pricesIncludeTax": true,
			"paymentDeadlineSeconds": 3600, "reminderLeadSeconds": 900, "orderNumberPrefix": "KS-", "lineQuantityLimit": 12, "unpaidOrdersPerBuyer": 3}, "userErrors": []}`)
		if diff := cmp.Diff(want, testkit.Dig(r.Data, "shopSettingsUpdate")); diff != "" {
			t.Fatalf("update (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{shop.SubjectSettingsUpdated}, out.Subjects()); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		// The payments' capture mode and storefront origins, as Origin
		// writes them.
		const payments = `mutation($input: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $input) {
			shopSettings { paymentCaptureMode storefrontOrigins } userErrors { field code } } }`
		r = testkit.ExecServer(t, ctx, srv, payments, map[string]any{"input": map[string]any{"paymentCaptureMode": "MANUAL",
			"storefrontOrigins": []any{"HTTPS://Headless.Example/", "http://localhost:3000"}}})
		want = testkit.DecodeJSON(t, `{"shopSettings": {"paymentCaptureMode": "MANUAL", "storefrontOrigins": ["https://headless.example", "http://localhost:3000"]}, "userErrors": []}`)
		if diff := cmp.Diff(want, testkit.Dig(r.Data, "shopSettingsUpdate")); diff != "" {
			t.Fatalf("payment settings (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, `{ shopSettings { lineQuantityLimit updatedAt } }`, nil)
		if testkit.Dig(r.Data, "shopSettings", "lineQuantityLimit") != float64(12) || testkit.Dig(r.Data, "shopSettings", "updatedAt") == nil {
			t.Errorf("read after the update: %s", r.Raw)
		}
	})
}

func TestShippingAPI(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		srv, _ := newSettingsServer(t, db)
		ctx := catalogtest.Staff()

		const zoneCreate = `mutation($input: ShippingZoneCreateInput!) { shippingZoneCreate(input: $input) {
			shippingZone { id name countries regions methods { id } } userErrors { field code } } }`
		r := testkit.ExecServer(t, ctx, srv, zoneCreate, map[string]any{"input": map[string]any{"name": " ", "countries": []any{"CN", "XX"}, "regions": []any{"G D"}}})
		if diff := cmp.Diff([]string{"input.name REQUIRED", "input.countries.1 INVALID_COUNTRY", "input.regions.0 INVALID_REGION"},
			userErrors(t, r, "shippingZoneCreate")); diff != "" {
			t.Errorf("bad zone (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, zoneCreate, map[string]any{"input": map[string]any{"name": "Guangdong", "countries": []any{"cn"}, "regions": []any{"gd"}}})
		zone, _ := testkit.Dig(r.Data, "shippingZoneCreate", "shippingZone", "id").(string)
		if diff := cmp.Diff(testkit.DecodeJSON(t, `{"id": "`+zone+`", "name": "Guangdong", "countries": ["CN"], "regions": ["GD"], "methods": []}`),
			testkit.Dig(r.Data, "shippingZoneCreate", "shippingZone")); diff != "" || zone == "" {
			t.Fatalf("zone (-want +got):\n%s", diff)
		}

		const zoneUpdate = `mutation($input: ShippingZoneUpdateInput!) { shippingZoneUpdate(input: $input) {
			shippingZone { name regions } userErrors { field code } } }`
		r = testkit.ExecServer(t, ctx, srv, zoneUpdate, map[string]any{"input": map[string]any{"id": "shz_missing", "name": "X"}})
		if diff := cmp.Diff([]string{"input.id SHIPPING_ZONE_NOT_FOUND"}, userErrors(t, r, "shippingZoneUpdate")); diff != "" {
			t.Errorf("unknown zone (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, zoneUpdate, map[string]any{"input": map[string]any{"id": zone, "name": "South", "regions": []any{}}})
		if diff := cmp.Diff(testkit.DecodeJSON(t, `{"name": "South", "regions": []}`), testkit.Dig(r.Data, "shippingZoneUpdate", "shippingZone")); diff != "" {
			t.Errorf("zone update (-want +got):\n%s", diff)
		}

		const methodCreate = `mutation($input: ShippingMethodCreateInput!) { shippingMethodCreate(input: $input) {
			shippingMethod { id zoneId name kind active position
				prices { currencyCode amount { amount currencyCode } freeOver { amount } bands { maxGrams price { amount currencyCode } } } }
			userErrors { field code } } }`
		r = testkit.ExecServer(t, ctx, srv, methodCreate, map[string]any{"input": map[string]any{"zoneId": zone, "name": "Freight", "kind": "WEIGHT_BANDS",
			"prices": []any{map[string]any{"currencyCode": "CNY", "amount": "1", "bands": []any{
				map[string]any{"maxGrams": 1000, "amount": "8"}, map[string]any{"amount": "12"}, map[string]any{"maxGrams": 2000, "amount": "x"}}}}}})
		if diff := cmp.Diff([]string{"input.prices.0.bands.2.amount INVALID_AMOUNT"}, userErrors(t, r, "shippingMethodCreate")); diff != "" {
			t.Errorf("bad amount (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, methodCreate, map[string]any{"input": map[string]any{"zoneId": zone, "name": "Freight", "kind": "WEIGHT_BANDS",
			"prices": []any{map[string]any{"currencyCode": "CNY", "amount": "1", "bands": []any{
				map[string]any{"amount": "12"}, map[string]any{"maxGrams": 1000, "amount": "8"}}}}}})
		if diff := cmp.Diff([]string{"input.prices.0.amount NOT_FOR_KIND", "input.prices.0.bands.0.maxGrams INVALID_BANDS"},
			userErrors(t, r, "shippingMethodCreate")); diff != "" {
			t.Errorf("bad bands (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, methodCreate, map[string]any{"input": map[string]any{"zoneId": "shz_missing", "name": "X", "kind": "FLAT",
			"prices": []any{map[string]any{"currencyCode": "CNY", "amount": "1"}}}})
		if diff := cmp.Diff([]string{"input.zoneId SHIPPING_ZONE_NOT_FOUND"}, userErrors(t, r, "shippingMethodCreate")); diff != "" {
			t.Errorf("unknown zone (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, methodCreate, map[string]any{"input": map[string]any{"zoneId": zone, "name": "Freight", "kind": "WEIGHT_BANDS",
			"prices": []any{map[string]any{"currencyCode": "CNY", "bands": []any{
				map[string]any{"maxGrams": 1000, "amount": "8"}, map[string]any{"amount": "12.5"}}}}}})
		method, _ := testkit.Dig(r.Data, "shippingMethodCreate", "shippingMethod", "id").(string)
		want := testkit.DecodeJSON(t, `{"id": "`+method+`", "zoneId": "`+zone+`", "name": "Freight", "kind": "WEIGHT_BANDS", "active": true, "position": 0,
			"prices": [{"currencyCode": "CNY", "amount": null, "freeOver": null, "bands": [
				{"maxGrams": 1000, "price": {"amount": "8.00", "currencyCode": "CNY"}},
				{"maxGrams": null, "price": {"amount": "12.50", "currencyCode": "CNY"}}]}]}`)
		if diff := cmp.Diff(want, testkit.Dig(r.Data, "shippingMethodCreate", "shippingMethod")); diff != "" {
			t.Fatalf("method (-want +got):\n%s", diff)
		}

		const methodUpdate = `mutation($input: ShippingMethodUpdateInput!) { shippingMethodUpdate(input: $input) {
			shippingMethod { kind active prices { amount { amount } freeOver { amount currencyCode } bands { maxGrams } } } userErrors { field code } } }`
		r = testkit.ExecServer(t, ctx, srv, methodUpdate, map[string]any{"input": map[string]any{"id": method, "kind": "FREE_OVER"}})
		if diff := cmp.Diff([]string{"input.prices.0.amount REQUIRED", "input.prices.0.bands NOT_FOR_KIND", "input.prices.0.freeOver REQUIRED"},
			userErrors(t, r, "shippingMethodUpdate")); diff != "" {
			t.Errorf("kind without prices (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, methodUpdate, map[string]any{"input": map[string]any{"id": method, "kind": "FREE_OVER", "active": false,
			"prices": []any{map[string]any{"currencyCode": "USD", "amount": "5", "freeOver": "50"}}}})
		want = testkit.DecodeJSON(t, `{"kind": "FREE_OVER", "active": false, "prices": [{"amount": {"amount": "5.00"}, "freeOver": {"amount": "50.00", "currencyCode": "USD"}, "bands": []}]}`)
		if diff := cmp.Diff(want, testkit.Dig(r.Data, "shippingMethodUpdate", "shippingMethod")); diff != "" {
			t.Errorf("method update (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, methodUpdate, map[string]any{"input": map[string]any{"id": "shm_missing", "name": "X"}})
		if diff := cmp.Diff([]string{"input.id SHIPPING_METHOD_NOT_FOUND"}, userErrors(t, r, "shippingMethodUpdate")); diff != "" {
			t.Errorf("unknown method (-want +got):\n%s", diff)
		}

		r = testkit.ExecServer(t, ctx, srv, `{ shippingZones { name methods { name } } }`, nil)
		if diff := cmp.Diff(testkit.DecodeJSON(t, `{"shippingZones": [{"name": "South", "methods": [{"name": "Freight"}]}]}`), r.Data); diff != "" {
			t.Errorf("zones (-want +got):\n%s", diff)
		}

		const methodDelete = `mutation($id: ID!) { shippingMethodDelete(input: {id: $id}) { deletedShippingMethodId userErrors { field code } } }`
		r = testkit.ExecServer(t, ctx, srv, methodDelete, map[string]any{"id": method})
		if got := testkit.Dig(r.Data, "shippingMethodDelete", "deletedShippingMethodId"); got != method {
			t.Errorf("method delete: %s", r.Raw)
		}
		r = testkit.ExecServer(t, ctx, srv, methodDelete, map[string]any{"id": method})
		if diff := cmp.Diff([]string{"input.id SHIPPING_METHOD_NOT_FOUND"}, userErrors(t, r, "shippingMethodDelete")); diff != "" ||
			testkit.Dig(r.Data, "shippingMethodDelete", "deletedShippingMethodId") != nil {
			t.Errorf("deleting twice: %s", r.Raw)
		}
		const zoneDelete = `mutation($id: ID!) { shippingZoneDelete(input: {id: $id}) { deletedShippingZoneId userErrors { field code } } }`
		if r = testkit.ExecServer(t, ctx, srv, zoneDelete, map[string]any{"id": zone}); testkit.Dig(r.Data, "shippingZoneDelete", "deletedShippingZoneId") != zone {
			t.Errorf("zone delete: %s", r.Raw)
		}
		r = testkit.ExecServer(t, ctx, srv, zoneDelete, map[string]any{"id": zone})
		if diff := cmp.Diff([]string{"input.id SHIPPING_ZONE_NOT_FOUND"}, userErrors(t, r, "shippingZoneDelete")); diff != "" {
			t.Errorf("deleting twice (-want +got):\n%s", diff)
		}
	})
}

func TestTaxAPI(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		srv, _ := newSettingsServer(t, db)
		ctx := catalogtest.Staff()

		const create = `mutation($input: TaxRateCreateInput!) { taxRateCreate(input: $input) {
			taxRate { id country region name basisPoints } userErrors { field code } } }`
		r := testkit.ExecServer(t, ctx, srv, create, map[string]any{"input": map[string]any{"country": "XX", "name": "", "basisPoints": 10001}})
		if diff := cmp.Diff([]string{"input.country INVALID_COUNTRY", "input.name REQUIRED", "input.basisPoints OUT_OF_RANGE"},
			userErrors(t, r, "taxRateCreate")); diff != "" {
			t.Errorf("bad rate (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, create, map[string]any{"input": map[string]any{"country": "cn", "region": "gd", "name": "VAT", "basisPoints": 1300}})
		id, _ := testkit.Dig(r.Data, "taxRateCreate", "taxRate", "id").(string)
		if diff := cmp.Diff(testkit.DecodeJSON(t, `{"id": "`+id+`", "country": "CN", "region": "GD", "name": "VAT", "basisPoints": 1300}`),
			testkit.Dig(r.Data, "taxRateCreate", "taxRate")); diff != "" || id == "" {
			t.Fatalf("rate (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, create, map[string]any{"input": map[string]any{"country": "CN", "region": "GD", "name": "Again", "basisPoints": 1}})
		if diff := cmp.Diff([]string{"input.region TAX_RATE_EXISTS"}, userErrors(t, r, "taxRateCreate")); diff != "" {
			t.Errorf("second rate for a place (-want +got):\n%s", diff)
		}

		const update = `mutation($input: TaxRateUpdateInput!) { taxRateUpdate(input: $input) { taxRate { region basisPoints } userErrors { field code } } }`
		r = testkit.ExecServer(t, ctx, srv, update, map[string]any{"input": map[string]any{"id": id, "region": "", "basisPoints": 900}})
		if diff := cmp.Diff(testkit.DecodeJSON(t, `{"region": "", "basisPoints": 900}`), testkit.Dig(r.Data, "taxRateUpdate", "taxRate")); diff != "" {
			t.Errorf("update (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, update, map[string]any{"input": map[string]any{"id": "txr_missing", "name": "X"}})
		if diff := cmp.Diff([]string{"input.id TAX_RATE_NOT_FOUND"}, userErrors(t, r, "taxRateUpdate")); diff != "" {
			t.Errorf("unknown rate (-want +got):\n%s", diff)
		}
		r = testkit.ExecServer(t, ctx, srv, `{ taxRates { country region basisPoints } }`, nil)
		if diff := cmp.Diff(testkit.DecodeJSON(t, `{"taxRates": [{"country": "CN", "region": "", "basisPoints": 900}]}`), r.Data); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
		const del = `mutation($id: ID!) { taxRateDelete(input: {id: $id}) { deletedTaxRateId userErrors { field code } } }`
		if r = testkit.ExecServer(t, ctx, srv, del, map[string]any{"id": id}); testkit.Dig(r.Data, "taxRateDelete", "deletedTaxRateId") != id {
			t.Errorf("delete: %s", r.Raw)
		}
		r = testkit.ExecServer(t, ctx, srv, del, map[string]any{"id": id})
		if diff := cmp.Diff([]string{"input.id TAX_RATE_NOT_FOUND"}, userErrors(t, r, "taxRateDelete")); diff != "" {
			t.Errorf("deleting twice (-want +got):\n%s", diff)
		}
	})
}

// TestSettingsCachePolicy: the public part of shopSettings is shared by
// the response cache and forgotten when the shop's settings change; the
// staff-only reads never are.
func TestSettingsCachePolicy(t *testing.T) {
	t.Parallel()
	got := resolver.Cache()
	if !slices.Contains(got.Fields, "shopSettings") {
		t.Errorf("Query.shopSettings is not shared by the response cache (fields %v)", got.Fields)
	}
	for _, f := range []string{"shippingZones", "taxRates"} {
		if slices.Contains(got.Fields, f) {
			t.Errorf("Query.%s needs settings read but is shared by the response cache", f)
		}
	}
	for _, s := range shop.CacheSubjects() {
		if !slices.Contains(got.Subjects, s) {
			t.Errorf("events %s no longer drop cached answers (subjects %v)", s, got.Subjects)
		}
	}
	if !natsMatch(shop.CacheSubjects(), shop.SubjectSettingsUpdated) {
		t.Errorf("%s is not among the shop's cache subjects %v", shop.SubjectSettingsUpdated, shop.CacheSubjects())
	}
}

// natsMatch reports whether subject matches one of the filters, with
// NATS wildcards: "*" one token, ">" the rest.
func natsMatch(filters []string, subject string) bool {
	for _, f := range filters {
		ft, st := strings.Split(f, "."), strings.Split(subject, ".")
		for i, tok := range ft {
			if tok == ">" {
				return len(st) > i
			}
			if i >= len(st) || (tok != "*" && tok != st[i]) {
				break
			}
			if i == len(ft)-1 && len(st) == len(ft) {
				return true
			}
		}
	}
	return false
}

// TestCountrySubdivisions: a country's subdivisions, as the storefront's
// address forms suggest them, for anyone (a guest here): names in the
// language asked for, the code any case, none for a country without
// subdivisions, INVALID_COUNTRY for a code that is none.
func TestCountrySubdivisions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		srv, _ := newSettingsServer(t, db)
		ctx := catalogtest.Anonymous()
		const q = `query($c: String!, $l: String) { countrySubdivisions(countryCode: $c, language: $l) { code name } }`
		list := func(c string, l any) []any {
			t.Helper()
			vars := map[string]any{"c": c}
			if l != nil {
				vars["l"] = l
			}
			r := testkit.ExecServer(t, ctx, srv, q, vars)
			if len(r.Codes) > 0 {
				t.Fatalf("%s %v: %v", c, l, r.Codes)
			}
			got, _ := testkit.Dig(r.Data, "countrySubdivisions").([]any)
			return got
		}
		for _, c := range []struct {
			country string
			lang    any
			n       int
			first   map[string]any
		}{
			{"CN", nil, 34, map[string]any{"code": "AH", "name": "Anhui"}},
			{"cn", "zh-CN", 34, map[string]any{"code": "AH", "name": "安徽省"}},
			{"US", "en", 57, map[string]any{"code": "AL", "name": "Alabama"}},
			{"CA", "garbage", 13, map[string]any{"code": "AB", "name": "Alberta"}},
			{"HK", nil, 0, nil},
		} {
			got := list(c.country, c.lang)
			if len(got) != c.n || (c.n > 0 && !cmp.Equal(got[0], c.first)) {
				t.Errorf("%s in %v: %d, first %v; want %d, first %v", c.country, c.lang, len(got), got, c.n, c.first)
			}
		}
		for _, bad := range []string{"XX", "", "CHN", strings.Repeat("C", 10000)} {
			r := testkit.ExecServer(t, ctx, srv, q, map[string]any{"c": bad})
			if !slices.Contains(r.Codes, "INVALID_COUNTRY") || len(r.Raw) > 0 && r.Raw != "null" {
				t.Errorf("country %.10q: codes %v, data %.80s", bad, r.Codes, r.Raw)
			}
		}
	})
}
