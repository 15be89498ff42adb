package money_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/money"
)

func TestMarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    money.Money
		want string
	}{
		{money.New(1234, money.USD), `{"amount":"12.34","currencyCode":"USD"}`},
		{money.New(-5, money.EUR), `{"amount":"-0.05","currencyCode":"EUR"}`},
		{money.New(1200, money.JPY), `{"amount":"1200","currencyCode":"JPY"}`},
		{money.New(1, money.KWD), `{"amount":"0.001","currencyCode":"KWD"}`},
		{money.New(math.MinInt64, money.USD), `{"amount":"-92233720368547758.08","currencyCode":"USD"}`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("json.Marshal(%v) = %s, want %s", tt.m, got, tt.want)
			}
		})
	}
}

func TestMarshalJSONZeroMoney(t *testing.T) {
	t.Parallel()
	if _, err := json.Marshal(money.Money{}); !errors.Is(err, money.ErrUnknownCurrency) {
		t.Errorf("json.Marshal(Money{}) error = %v, want ErrUnknownCurrency", err)
	}
	// An optional amount is a pointer, and nil is null.
	got, err := json.Marshal(struct {
		Discount *money.Money `json:"discount"`
	}{})
	if err != nil || string(got) != `{"discount":null}` {
		t.Errorf("nil *Money marshals to %s, %v", got, err)
	}
}

func TestUnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want money.Money
	}{
		{name: "canonical", in: `{"amount":"12.34","currencyCode":"USD"}`, want: usd(1234)},
		{name: "fields in any order", in: `{"currencyCode":"EUR","amount":"-0.05"}`, want: money.New(-5, money.EUR)},
		{name: "whitespace", in: " {\n \"amount\" : \"1200\" ,\t\"currencyCode\":\"JPY\" }\n", want: money.New(1200, money.JPY)},
		{name: "lower-case code", in: `{"amount":"1.5","currencyCode":"kwd"}`, want: money.New(1500, money.KWD)},
		{name: "escaped name", in: `{"\u0061mount":"1","currencyCode":"USD"}`, want: usd(100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got money.Money
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("json.Unmarshal(%s): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("json.Unmarshal(%s) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestUnmarshalJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{name: "number amount", in: `{"amount":12.34,"currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "integer amount", in: `{"amount":1234,"currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "null amount", in: `{"amount":null,"currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "object amount", in: `{"amount":{},"currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "missing amount", in: `{"currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "missing currency", in: `{"amount":"1.00"}`, wantErr: money.ErrInvalidAmount},
		{name: "empty object", in: `{}`, wantErr: money.ErrInvalidAmount},
		{name: "unknown field", in: `{"amount":"1.00","currencyCode":"USD","minor":100}`, wantErr: money.ErrInvalidAmount},
		{name: "field case differs", in: `{"Amount":"1.00","currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "old field name", in: `{"amount":"1.00","currency":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "duplicate field", in: `{"amount":"1.00","amount":"2.00","currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "array", in: `["1.00","USD"]`, wantErr: money.ErrInvalidAmount},
		{name: "string", in: `"1.00 USD"`, wantErr: money.ErrInvalidAmount},
		{name: "too many fraction digits", in: `{"amount":"1.001","currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "bad amount", in: `{"amount":"1e3","currencyCode":"USD"}`, wantErr: money.ErrInvalidAmount},
		{name: "out of range", in: `{"amount":"92233720368547758.08","currencyCode":"USD"}`, wantErr: money.ErrOverflow},
		{name: "unknown currency", in: `{"amount":"1.00","currencyCode":"ABC"}`, wantErr: money.ErrUnknownCurrency},
		{name: "empty currency", in: `{"amount":"1.00","currencyCode":""}`, wantErr: money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := usd(42)
			err := json.Unmarshal([]byte(tt.in), &got)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("json.Unmarshal(%s) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != usd(42) {
				t.Errorf("failed json.Unmarshal(%s) changed the value to %v", tt.in, got)
			}
		})
	}
}

// TestUnmarshalJSONDirect calls UnmarshalJSON without encoding/json, which
// would otherwise have rejected malformed or trailing data first.
func TestUnmarshalJSONDirect(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"amount":"1.00","currencyCode":"USD"} {}`,
		`{"amount":"1.00","currencyCode":"USD"`,
		`{"amount":"1.00",`,
		``,
	} {
		var m money.Money
		if err := m.UnmarshalJSON([]byte(in)); !errors.Is(err, money.ErrInvalidAmount) {
			t.Errorf("UnmarshalJSON(%q) error = %v, want ErrInvalidAmount", in, err)
		}
	}
}

func TestUnmarshalJSONNull(t *testing.T) {
	t.Parallel()
	var order struct {
		Total    money.Money  `json:"total"`
		Discount *money.Money `json:"discount"`
	}
	order.Total = usd(42)
	if err := json.Unmarshal([]byte(`{"total":null,"discount":null}`), &order); err != nil {
		t.Fatal(err)
	}
	if order.Total != usd(42) || order.Discount != nil {
		t.Errorf("null changed the fields: total %v, discount %v", order.Total, order.Discount)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	type line struct {
		Price money.Money   `json:"price"`
		Parts []money.Money `json:"parts"`
	}
	want := line{Price: money.New(-1234, money.BHD), Parts: usds(1, 2, 3)}
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got line
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s): %v", data, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip through %s (-want +got):\n%s", data, diff)
	}
}
