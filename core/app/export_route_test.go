package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/testkit"
)

// TestExportOrdersRoute: staff holding order read download the orders as
// a CSV attachment, filtered by the query; buyers and anonymous callers
// are refused, and so are bad parameters, with the API's JSON errors.
func TestExportOrdersRoute(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	ctx := context.Background()
	as := func(s authz.Subject) context.Context { return authz.WithSubject(ctx, s) }
	system := as(authz.SystemSubject("test"))

	p, err := ta.Catalog.CreateProduct(system, catalog.CreateProductInput{Title: "Tea", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "TEA", InventoryQuantity: 10, Prices: []catalog.PriceInput{{Currency: "USD", Amount: "5.00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ta.Catalog.VariantsByProductIDs(system, []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	usd := func(n int64) money.Money { return money.New(n, money.USD) }
	var numbers []string
	for _, email := range []string{"first@example.com", "second@example.com"} {
		placed, err := ta.Orders.Place(as(authz.AnonymousSubject()), order.PlaceInput{
			CartID: "cart_" + email, Email: email, Currency: money.USD,
			ShippingAddress: order.Address{FirstName: "美玲", LastName: "陈", Line1: "中山路 8 号", City: "厦门", CountryCode: "CN"},
			Lines: []order.PlaceLine{{VariantID: vs[p.ID][0].ID, ProductID: p.ID, SKU: "TEA", ProductTitle: "Tea", Quantity: 2,
				UnitPrice: usd(500), Subtotal: usd(1000), Discount: usd(0), Tax: usd(0), Total: usd(1000)}},
			Totals: pricing.Totals{Subtotal: usd(1000), DiscountTotal: usd(0), Shipping: usd(0), Tax: usd(0), Total: usd(1000)},
		})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, placed.Order.Number)
	}

	_, staffKey, err := ta.Accounts.Service.CreateAPIKey(system, "bookkeeping", authz.RoleDeveloper)
	if err != nil {
		t.Fatal(err)
	}
	_, financeKey, err := ta.Accounts.Service.CreateAPIKey(system, "accounts", authz.RoleFinance)
	if err != nil {
		t.Fatal(err)
	}
	if err := ta.Accounts.Service.Register(as(authz.AnonymousSubject()), account.Registration{Email: "buyer@example.com", Password: "a long enough passphrase 42"}); err != nil {
		t.Fatal(err)
	}
	_, sess, err := ta.Accounts.Service.Login(as(authz.AnonymousSubject()), "buyer@example.com", "a long enough passphrase 42")
	if err != nil {
		t.Fatal(err)
	}

	get := func(bearer, query string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, ta.URL+app.ExportOrdersPath+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("read %s: %v", query, err)
		}
		return res, body
	}
	rows := func(t *testing.T, body []byte) [][]string {
		t.Helper()
		body, ok := bytes.CutPrefix(body, []byte("\xEF\xBB\xBF"))
		if !ok {
			t.Fatalf("no byte order mark: %q", body)
		}
		records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("not CSV: %v", err)
		}
		if strings.Join(records[0], ",") != strings.Join(order.ExportColumns, ",") {
			t.Errorf("header %v", records[0])
		}
		return records[1:]
	}

	t.Run("staff with order read", func(t *testing.T) {
		res, body := get(staffKey, "?tz=Asia/Shanghai")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="orders-`) || !strings.HasSuffix(cd, `.csv"`) {
			t.Errorf("Content-Disposition %q, want an attachment named orders-….csv", cd)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		got := rows(t, body)
		if len(got) != 2 || got[0][0] != numbers[1] || got[1][0] != numbers[0] {
			t.Fatalf("rows %v, want %v newest first", got, numbers)
		}
		if got[0][6] != "陈美玲" || !strings.HasSuffix(got[0][1], "+08:00") {
			t.Errorf("row %v: want the Chinese name intact and the Shanghai offset", got[0])
		}
		// The payments' columns come from the ledger for staff with
		// payment read, and stay empty for the others (the developer).
		col := slices.Index(order.ExportColumns, "Captured")
		if paid := got[0][col : col+3]; strings.Join(paid, "") != "" {
			t.Errorf("payment columns %q for a developer", paid)
		}
		res, body = get(financeKey, "")
		if got := rows(t, body); res.StatusCode != http.StatusOK || len(got) != 2 || strings.Join(got[0][col:col+3], " ") != "0.00 0.00 0.00" {
			t.Errorf("finance: %d, rows %v; want the unpaid orders' payment columns at 0.00", res.StatusCode, got)
		}
	})
	t.Run("a filter", func(t *testing.T) {
		res, body := get(staffKey, "?query=second%40example.com&status=OPEN&sortKey=NUMBER&ascending=true&createdFrom=2000-01-01")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, body)
		}
		if got := rows(t, body); len(got) != 1 || got[0][0] != numbers[1] {
			t.Errorf("rows %v, want only %s", got, numbers[1])
		}
		res, body = get(staffKey, "?status=CANCELLED")
		if got := rows(t, body); res.StatusCode != http.StatusOK || len(got) != 0 {
			t.Errorf("cancelled: %d, rows %v; want the header alone", res.StatusCode, got)
		}
	})

	refusals := []struct {
		name, bearer, query string
		status              int
		code                string
	}{
		{"anonymous", "", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"a buyer", sess.Token, "", http.StatusForbidden, "FORBIDDEN"},
		{"a bad status", staffKey, "?status=LOST", http.StatusBadRequest, order.CodeInvalidStatus},
		{"a misspelt parameter", staffKey, "?stauts=OPEN", http.StatusBadRequest, "UNKNOWN_PARAMETER"},
		{"a bad date", staffKey, "?createdFrom=yesterday", http.StatusBadRequest, "INVALID_PARAMETER"},
		{"a bad time zone", staffKey, "?tz=Mars/Olympus", http.StatusBadRequest, "INVALID_PARAMETER"},
		{"an unknown key", "kkey_not_a_real_key", "", http.StatusUnauthorized, ""},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(tc.bearer, tc.query)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if bytes.Contains(body, []byte("@example.com")) {
				t.Errorf("the refusal leaks orders: %s", body)
			}
			var env struct {
				Errors []struct {
					Extensions struct {
						Code string `json:"code"`
					} `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(body, &env); err != nil || len(env.Errors) != 1 {
				t.Fatalf("not the JSON error envelope (%v): %s", err, body)
			}
			if tc.code != "" && env.Errors[0].Extensions.Code != tc.code {
				t.Errorf("code %s, want %s", env.Errors[0].Extensions.Code, tc.code)
			}
		})
	}
}
