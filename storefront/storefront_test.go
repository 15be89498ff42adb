package storefront

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kassahq/kassa/graphql"
)

// fakeGraphQL answers the status page's queries with a canned order,
// and its payment methods with methods.
type fakeGraphQL struct {
	order   map[string]any // nil: no order for the caller
	methods []any
	errors  []*graphql.Error
	got     []graphql.Request
}

func (f *fakeGraphQL) Exec(_ context.Context, req graphql.Request) *graphql.Response {
	f.got = append(f.got, req)
	if f.errors != nil {
		return &graphql.Response{Errors: f.errors}
	}
	data, _ := json.Marshal(map[string]any{"order": f.order})
	if req.OperationName == "StorefrontPaymentMethods" {
		data, _ = json.Marshal(map[string]any{"availablePaymentMethods": f.methods})
	}
	return &graphql.Response{Data: data}
}

func pendingOrder() map[string]any {
	return map[string]any{
		"id": "ord_1", "number": "#1001", "status": "OPEN", "paymentStatus": "PENDING",
		"paymentDeadline": "2026-12-05T13:00:00Z", "total": map[string]any{"amount": "128.00", "currencyCode": "CNY"},
		"payments": []any{map[string]any{"id": "pay_1", "state": "PENDING", "buyerMessage": nil,
			"action": map[string]any{"type": "REDIRECT", "url": "https://gateway.example/pay/1"}}},
	}
}

func newTestHandler(t *testing.T, gql Executor, theme string) *Handler {
	t.Helper()
	h, err := New(Options{GraphQL: gql, ThemeDir: theme})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestOrderStatusPage(t *testing.T) {
	declined := pendingOrder()
	declined["payments"] = []any{map[string]any{"id": "pay_1", "state": "FAILED", "buyerMessage": "Your card was declined.", "action": nil}}
	paid := pendingOrder()
	paid["paymentStatus"] = "PAID"
	evil := pendingOrder()
	evil["payments"].([]any)[0].(map[string]any)["action"] = map[string]any{"type": "REDIRECT", "url": "javascript:alert(1)"}
	bank := pendingOrder()
	bank["payments"].([]any)[0].(map[string]any)["action"] = map[string]any{"type": "INSTRUCTIONS", "instructions": "IBAN DE89 <b>3704</b>"}
	partly := pendingOrder()
	partly["paymentStatus"] = "PARTIALLY_PAID"
	partly["amountPaid"] = map[string]any{"amount": "100.00", "currencyCode": "CNY"}
	partly["amountOutstanding"] = map[string]any{"amount": "28.00", "currencyCode": "CNY"}
	partly["payments"] = []any{map[string]any{"id": "pay_1", "state": "CAPTURED", "buyerMessage": nil, "action": nil}}
	held := pendingOrder()
	for k, v := range partly {
		held[k] = v
	}
	held["payments"] = []any{partly["payments"].([]any)[0], map[string]any{"id": "pay_2", "state": "AUTHORIZED", "buyerMessage": nil, "action": nil}}
	testpay := []any{map[string]any{"gatewayId": "payment.testpay", "name": "Test payments", "description": "Test cards decide.", "actions": []any{"REDIRECT"}}}
	tests := []struct {
		name      string
		order     map[string]any
		methods   []any
		errors    []*graphql.Error
		target    string
		header    []string
		status    int
		want      []string
		wantNot   []string
		operation string
	}{
		{name: "guest, pending, English", order: pendingOrder(), target: "/orders/ord_1/status?token=tok", status: 200,
			want:      []string{`<html lang="en">`, "Order #1001", "Waiting for your payment", "¥128.00", `href="https://gateway.example/pay/1"`, "/static/order-status.js", `data-live="true"`},
			operation: "StorefrontOrderStatusByToken"},
		{name: "signed-in buyer by id", order: pendingOrder(), target: "/orders/ord_1/status", status: 200,
			want: []string{"Waiting for your payment"}, operation: "StorefrontOrderStatus"},
		{name: "Chinese from Accept-Language", order: pendingOrder(), target: "/orders/ord_1/status?token=tok",
			header: []string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5"}, status: 200,
			want: []string{`<html lang="zh-CN">`, "订单 #1001", "等待付款", ">English<"}},
		{name: "?lang wins over the browser", order: pendingOrder(), target: "/orders/ord_1/status?token=tok&lang=zh",
			header: []string{"Accept-Language", "en"}, status: 200, want: []string{"等待付款"}},
		{name: "paid is not live", order: paid, target: "/orders/ord_1/status?token=tok", status: 200,
			want: []string{"Paid. Thank you!", `data-live="false"`}, wantNot: []string{"order-status.js", "gateway.example"}},
		{name: "decline shows the buyer message", order: declined, target: "/orders/ord_1/status?token=tok", status: 200,
			want: []string{"Your card was declined.", "No money was taken"}},
		{name: "bank transfer instructions escaped", order: bank, target: "/orders/ord_1/status?token=tok", status: 200,
			want: []string{"Bank transfer instructions", "IBAN DE89 &lt;b&gt;3704&lt;/b&gt;"}},
		{name: "a javascript: link is not rendered", order: evil, target: "/orders/ord_1/status?token=tok", status: 200,
			wantNot: []string{"javascript:", "Continue to the payment page"}},
		{name: "partly paid offers the rest", order: partly, methods: testpay, target: "/orders/ord_1/status?token=tok", status: 200,
			want: []string{"Partly paid", "¥128.00", "Paid", "¥100.00", "Still to pay", "¥28.00", `action="/orders/ord_1/pay"`,
				`name="token" value="tok"`, `value="payment.testpay" checked`, "Pay ¥28.00", `data-live="true"`, `data-money="¥"`}},
		{name: "partly paid, in Chinese", order: partly, methods: testpay, target: "/orders/ord_1/status?token=tok&lang=zh-CN", status: 200,
			want: []string{"部分付款", "已付", "待付", "支付余款", "请支付剩余的 ¥28.00", "支付 ¥28.00"}},
		{name: "partly paid, the rest held for staff", order: held, methods: testpay, target: "/orders/ord_1/status?token=tok", status: 200,
			want: []string{"Still to pay", "¥28.00"}, wantNot: []string{"rest-form", "payment.testpay"}},
		{name: "token of another order", order: pendingOrder(), target: "/orders/ord_2/status?token=tok", status: 404,
			want: []string{"Order not found"}, wantNot: []string{"#1001"}},
		{name: "no order for the caller", order: nil, target: "/orders/ord_1/status", status: 404, want: []string{"Order not found"}},
		{name: "control characters", order: pendingOrder(), target: "/orders/ord_1/status?token=a%00b", status: 404},
		{name: "huge token", order: pendingOrder(), target: "/orders/ord_1/status?token=" + strings.Repeat("a", 5000), status: 404},
		{name: "not found error", errors: []*graphql.Error{{Message: "no", Extensions: map[string]any{"code": "ORDER_NOT_FOUND"}}},
			target: "/orders/ord_1/status?token=tok", status: 404},
		{name: "internal error", errors: []*graphql.Error{{Message: "db down", Extensions: map[string]any{"code": "INTERNAL"}}},
			target: "/orders/ord_1/status?token=tok", status: 503, want: []string{"Please try again"}, wantNot: []string{"db down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gql := &fakeGraphQL{order: tt.order, methods: tt.methods, errors: tt.errors}
			rec := get(newTestHandler(t, gql, ""), tt.target, tt.header...)
			body := rec.Body.String()
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("page has %q:\n%s", w, body)
				}
			}
			if tt.operation != "" && (len(gql.got) != 1 || gql.got[0].OperationName != tt.operation) {
				t.Errorf("ran %+v, want one %s", gql.got, tt.operation)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

func TestLanguageChoiceIsRemembered(t *testing.T) {
	h := newTestHandler(t, &fakeGraphQL{order: pendingOrder()}, "")
	rec := get(h, "/orders/ord_1/status?token=tok&lang=zh-CN")
	var ck *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == langCookie {
			ck = c
		}
	}
	if ck == nil || ck.Value != "zh-CN" || !ck.HttpOnly {
		t.Fatalf("cookie %+v, want kassa_lang=zh-CN, HttpOnly", ck)
	}
	rec = get(h, "/orders/ord_1/status?token=tok", "Cookie", langCookie+"=zh-CN", "Accept-Language", "en")
	if !strings.Contains(rec.Body.String(), "等待付款") {
		t.Fatal("the remembered language was not used")
	}
	// A language Kassa does not have falls back to English, and is not
	// remembered.
	rec = get(h, "/orders/ord_1/status?token=tok&lang=fr")
	if len(rec.Result().Cookies()) != 0 || !strings.Contains(rec.Body.String(), `lang="en"`) {
		t.Fatalf("lang=fr: cookies %v", rec.Result().Cookies())
	}
}

func TestThemeOverridesFiles(t *testing.T) {
	theme := t.TempDir()
	if err := os.MkdirAll(filepath.Join(theme, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(theme, "static", "kassa.css"), []byte("body{color:red}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(theme, "i18n"), 0o755); err != nil {
		t.Fatal(err)
	}
	en, _ := fs.ReadFile(embedded, "i18n/en.json")
	var m map[string]string
	_ = json.Unmarshal(en, &m)
	m["payment.status.PENDING"] = "Awaiting your transfer"
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(theme, "i18n", "en.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	h := newTestHandler(t, &fakeGraphQL{order: pendingOrder()}, theme)
	if rec := get(h, "/static/kassa.css"); rec.Body.String() != "body{color:red}" {
		t.Fatalf("theme css not served: %q", rec.Body.String())
	}
	if rec := get(h, "/static/order-status.js"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "EventSource") {
		t.Fatalf("embedded script not served under a theme: %d", rec.Code)
	}
	if rec := get(h, "/orders/ord_1/status?token=tok"); !strings.Contains(rec.Body.String(), "Awaiting your transfer") {
		t.Fatal("theme catalog not used")
	}
	if rec := get(h, "/static/"); rec.Code != 404 {
		t.Fatalf("directory listing answered %d", rec.Code)
	}
	if _, err := New(Options{GraphQL: &fakeGraphQL{}, ThemeDir: filepath.Join(theme, "missing")}); err == nil {
		t.Fatal("a missing theme directory was accepted")
	}
	if err := os.MkdirAll(filepath.Join(theme, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(theme, "templates", "order_status.html"), []byte(`{{define "content"}}{{.Nope}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{GraphQL: &fakeGraphQL{}, ThemeDir: theme}); err == nil {
		t.Fatal("a broken theme template was accepted at start")
	}
}

// TestCatalogsMatch: every message exists in both languages.
func TestCatalogsMatch(t *testing.T) {
	cat, err := loadCatalogs(embedded)
	if err != nil {
		t.Fatal(err)
	}
	for key := range cat["en"] {
		if cat["zh-CN"][key] == "" {
			t.Errorf("zh-CN lacks %q", key)
		}
	}
	for key := range cat["zh-CN"] {
		if cat["en"][key] == "" {
			t.Errorf("en lacks %q", key)
		}
	}
	for _, s := range paymentStatuses {
		if cat["en"]["payment.status."+s] == "" {
			t.Errorf("no text for payment status %s", s)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for in, want := range map[money]string{
		{"128.00", "CNY"}: "¥128.00", {"-5.00", "USD"}: "-$5.00", {"12.30", "CHF"}: "CHF 12.30", {"1200", "JPY"}: "¥1200",
	} {
		if got := formatMoney(in); got != want {
			t.Errorf("formatMoney(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestCatalogFiles: each part of the storefront keeps its messages in
// i18n/<area>.<lang>.json, merged per language; a key defined twice or a
// file of an unknown language fails the start.
func TestCatalogFiles(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string // an error containing it; "" = loads
	}{
		{"merged", fstest.MapFS{"i18n/en.json": {Data: []byte(`{"a":"A"}`)}, "i18n/cart.en.json": {Data: []byte(`{"b":"B"}`)},
			"i18n/zh-CN.json": {Data: []byte(`{"a":"甲"}`)}}, ""},
		{"duplicate", fstest.MapFS{"i18n/en.json": {Data: []byte(`{"a":"A"}`)}, "i18n/cart.en.json": {Data: []byte(`{"a":"B"}`)}}, `key "a" is defined twice`},
		{"unknown language", fstest.MapFS{"i18n/en.json": {Data: []byte(`{"a":"A"}`)}, "i18n/cart.fr.json": {Data: []byte(`{}`)}}, `no language "fr"`},
		{"broken", fstest.MapFS{"i18n/en.json": {Data: []byte(`{"a":`)}}, "en.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadCatalogs(tt.files)
			if tt.want == "" {
				if err != nil || c.message("en", "b") != "B" || c.message("zh-CN", "a") != "甲" || c.message("zh-CN", "b") != "B" {
					t.Fatalf("loadCatalogs = %v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
