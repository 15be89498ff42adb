package order_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// readCSV checks the byte order mark and CRLF line ends of an export and
// returns its records.
func readCSV(t *testing.T, raw []byte) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(raw, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatalf("the export does not start with a UTF-8 byte order mark: %q", raw[:min(len(raw), 8)])
	}
	if !bytes.HasSuffix(body, []byte("\r\n")) || bytes.Count(body, []byte("\n")) != bytes.Count(body, []byte("\r\n")) {
		t.Errorf("rows do not all end with CRLF:\n%q", body)
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = len(order.ExportColumns)
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not valid CSV: %v\n%s", err, body)
	}
	if diff := cmp.Diff(order.ExportColumns, records[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	return records[1:]
}

// TestExportCSV: every column of every order, Chinese text that comes
// back as it went in, RFC 4180 quoting, and formulas neutralized.
func TestExportCSV(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()

		// A buyer in Hangzhou, shipped in two parcels.
		in := f.input("cart_cn", "", "wang@example.com", line{f.tea, 2, 1250}, line{f.cup, 1, 800})
		in.ShippingAddress = order.Address{FirstName: "小明", LastName: "王", Line1: "西湖区文三路 1 号", Line2: "2 单元", City: "杭州",
			Province: "浙江", PostalCode: "310000", CountryCode: "CN", Phone: "+8613800000000"}
		in.BillingAddress = in.ShippingAddress
		cn := f.place(t, guest(), in)
		f.pay(t, cn.Order.ID, order.PaymentPaid)
		f.ship(t, cn, 1, 1)
		if _, err := f.svc.Ship(staff(authz.RoleFulfillment), order.ShipInput{OrderID: cn.Order.ID, Carrier: "SF",
			TrackingNumber: "SF456", Lines: []order.ShipLine{{LineID: cn.Lines[0].ID, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.NewUpdate().Table("orders").Set("payment_method = ?", "payment.alipay").Where("id = ?", cn.Order.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		// A buyer whose details try to run formulas and break the quoting.
		in = f.input("cart_evil", "", "=cmd@example.com", line{f.tea, 1, 500})
		in.BillingAddress = order.Address{FirstName: "=HYPERLINK(\"http://evil.example\",\"x\")", LastName: "Doe", CountryCode: "DE"}
		in.ShippingAddress = order.Address{FirstName: "+Eve", LastName: "O'Neil", Company: "-2+3", Line1: "He said \"hi\", twice",
			Line2: "line\nbreak", City: "\tBerlin", PostalCode: "10115", CountryCode: "DE"}
		evil := f.place(t, guest(), in)
		if _, err := db.NewUpdate().Table("orders").Set("payment_method = ?", "@SUM(A1)").Where("id = ?", evil.Order.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		// An order in yen, which has no minor unit.
		jpy := func(n int64) money.Money { return money.New(n, money.JPY) }
		yen := f.place(t, guest(), order.PlaceInput{CartID: "cart_yen", Email: "yen@example.com", Currency: money.JPY,
			ShippingAddress: testAddress, BillingAddress: order.Address{CountryCode: "JP"},
			Lines: []order.PlaceLine{{VariantID: f.cup.id, ProductID: f.cup.productID, ProductTitle: "Cup", Quantity: 3,
				UnitPrice: jpy(400), Subtotal: jpy(1200), Discount: jpy(0), Tax: jpy(109), Total: jpy(1200)}},
			Totals: pricing.Totals{Subtotal: jpy(1200), DiscountTotal: jpy(0), Shipping: jpy(500), Tax: jpy(109), TaxIncluded: true, Total: jpy(1700)}})

		// The payments' columns come from the ledger, which the app
		// hands in; the yen order took nothing.
		payments := func(_ context.Context, ids []string) (map[string]order.ExportPayment, error) {
			if len(ids) != 3 {
				t.Errorf("payments of %d orders, want the batch's 3", len(ids))
			}
			return map[string]order.ExportPayment{cn.Order.ID: {Captured: 4300, Refunded: 1250}, evil.Order.ID: {}}, nil
		}
		var buf bytes.Buffer
		n, err := f.svc.Export(staff(authz.RoleDeveloper), &buf, order.Filter{}, order.ExportOptions{Location: time.FixedZone("CST", 8*3600), Payments: payments})
		if err != nil || n != 3 {
			t.Fatalf("exported %d orders (%v), want 3", n, err)
		}
		at := func(p *order.Placed) string {
			return p.Order.CreatedAt.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
		}
		want := [][]string{
			{yen.Order.Number, at(yen), "OPEN", "PENDING", "UNFULFILLED", "yen@example.com", "Lin Wei",
				"Lin Wei", "1 Tea Road, 310000 Hangzhou", "CN", "JPY", "1200", "500", "109", "", "true", "0", "1700", "0", "0", "0", "", "1", "3", ""},
			{evil.Order.Number, at(evil), "OPEN", "PENDING", "UNFULFILLED", "'=cmd@example.com", "'=HYPERLINK(\"http://evil.example\",\"x\") Doe",
				"'+Eve O'Neil", "'-2+3, He said \"hi\", twice, line\nbreak, 10115 \tBerlin", "DE", "CNY", "5.00", "10.00", "0.28", "6", "true", "0.00", "15.00",
				"0.00", "0.00", "0.00", "'@SUM(A1)", "1", "1", ""},
			{cn.Order.Number, at(cn), "OPEN", "PAID", "FULFILLED", "wang@example.com", "王小明",
				"王小明", "西湖区文三路 1 号, 2 单元, 310000 杭州, 浙江", "CN", "CNY", "33.00", "10.00", "1.86", "6", "true", "0.00", "43.00",
				"43.00", "12.50", "30.50", "payment.alipay", "2", "3", "SF123; SF456"},
		}
		if diff := cmp.Diff(want, readCSV(t, buf.Bytes())); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		raw := buf.String()
		for _, quoted := range []string{`"'-2+3, He said ""hi"", twice, line` + "\r\n" + `break, 10115 ` + "\t" + `Berlin"`, `"'=HYPERLINK(""http://evil.example"",""x"") Doe"`} {
			if !strings.Contains(raw, quoted) {
				t.Errorf("the export lacks the RFC 4180 quoted field %q:\n%s", quoted, raw)
			}
		}
		if strings.Contains(raw, "+8613800000000") {
			t.Error("the export holds the buyer's phone number")
		}

		// Staff who may not read payments get the columns empty; the
		// export itself goes on.
		buf.Reset()
		forbidden := func(context.Context, []string) (map[string]order.ExportPayment, error) {
			return nil, errs.Forbidden("FORBIDDEN", "payment read")
		}
		if _, err := f.svc.Export(staff(authz.RoleFulfillment), &buf, order.Filter{}, order.ExportOptions{Payments: forbidden}); err != nil {
			t.Fatal(err)
		}
		col := slices.Index(order.ExportColumns, "Captured")
		for _, r := range readCSV(t, buf.Bytes()) {
			if got := r[col : col+3]; strings.Join(got, "") != "" {
				t.Errorf("payment columns for staff without payment read: %q", got)
			}
		}
	})
}

// flushRecorder is an export target that counts its flushes and runs a
// function at each.
type flushRecorder struct {
	bytes.Buffer
	flushes int
	onFlush func()
}

func (w *flushRecorder) Flush() error {
	w.flushes++
	if w.onFlush != nil {
		w.onFlush()
	}
	return nil
}

// TestExportBatches: orders are read and flushed batch by batch; orders
// placed while the export runs neither shift nor repeat its rows; the
// filter and its order apply.
func TestExportBatches(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		mug := f.variant(t, "Mug", "MUG", 100)
		var numbers []string
		for i := range 7 {
			p := f.place(t, guest(), f.input("cart_"+itoa(int64(i)), "", "batch@example.com", line{mug, 1, 100}))
			numbers = append(numbers, p.Order.Number)
		}
		f.cancel(t, f.place(t, guest(), f.input("cart_cancelled", "", "batch@example.com", line{mug, 1, 100})))
		w := &flushRecorder{}
		placed := 0
		w.onFlush = func() {
			placed++
			f.place(t, guest(), f.input("cart_during_"+itoa(int64(placed)), "", "batch@example.com", line{mug, 1, 100}))
		}
		n, err := f.svc.Export(staff(authz.RoleSupport), w, order.Filter{Status: order.Open},
			order.ExportOptions{BatchSize: 3})
		if err != nil || n != 7 {
			t.Fatalf("exported %d (%v), want 7", n, err)
		}
		if w.flushes != 3 {
			t.Errorf("%d flushes, want one per batch (3)", w.flushes)
		}
		var got []string
		for _, r := range readCSV(t, w.Bytes()) {
			got = append(got, r[0])
		}
		// Newest first, the filter's default order.
		want := make([]string, len(numbers))
		for i, num := range numbers {
			want[len(numbers)-1-i] = num
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("order numbers (-want +got):\n%s", diff)
		}

		// Ascending by number, everything open.
		var buf bytes.Buffer
		if _, err := f.svc.Export(staff(authz.RoleSupport), &buf, order.Filter{Status: order.Open, SortKey: order.SortNumber, Ascending: true},
			order.ExportOptions{BatchSize: 4}); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, buf.Bytes())
		if len(rows) != 7+placed || rows[0][0] != numbers[0] {
			t.Errorf("%d rows starting with %s, want %d starting with %s", len(rows), rows[0][0], 7+placed, numbers[0])
		}
	})
}

// TestExportRefusals: a caller without order read, and a bad filter, are
// refused before the first byte.
func TestExportRefusals(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.place(t, guest(), f.input("cart_1", "", "one@example.com", line{f.tea, 1, 500}))
		tests := []struct {
			name   string
			ctx    context.Context
			filter order.Filter
			want   string
		}{
			{"a buyer", buyer("cus_1"), order.Filter{}, "FORBIDDEN"},
			{"a guest", guest(), order.Filter{}, "UNAUTHENTICATED"},
			{"a bad filter", staff(authz.RoleSupport), order.Filter{PaymentStatus: "SOMEWHAT"}, order.CodeInvalidStatus},
			{"a bad range", staff(authz.RoleSupport), order.Filter{CreatedFrom: start, CreatedTo: start.Add(-time.Hour)}, order.CodeInvalidDateRange},
		}
		for _, tc := range tests {
			var buf bytes.Buffer
			n, err := f.svc.Export(tc.ctx, &buf, tc.filter, order.ExportOptions{})
			if got := codeOf(err); got != tc.want {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
			}
			if n != 0 || buf.Len() != 0 {
				t.Errorf("%s: %d orders, %d bytes written", tc.name, n, buf.Len())
			}
		}
	})
}
