package storefront

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/graphql"
)

// contactGraphQL records the operations the checkout runs and answers
// the address update without problems.
type contactGraphQL struct{ got []graphql.Request }

func (f *contactGraphQL) Exec(_ context.Context, req graphql.Request) *graphql.Response {
	f.got = append(f.got, req)
	data, _ := json.Marshal(map[string]any{"cartShippingAddressUpdate": map[string]any{"userErrors": []any{}}})
	return &graphql.Response{Data: data}
}

// TestContactIsOneOperation: the contact and address form is sent as one
// operation, the email with the address, so a problem with either sets
// neither and the buyer waits for one round trip, not two.
func TestContactIsOneOperation(t *testing.T) {
	f := &contactGraphQL{}
	h := newTestHandler(t, f, "")
	form := url.Values{"step": {"contact"}, "email": {"wang.fang@example.com"}, "lastName": {"王"}, "line1": {"文三路1号"}, "city": {"杭州市"},
		"postalCode": {"310012"}, "countryCode": {"CN"}, "phone": {""}}
	r := httptest.NewRequest(http.MethodPost, "/checkout", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: cartCookie, Value: "guest-cart-token"})
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.checkoutStep(rec, r)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/checkout#shipping" {
		t.Fatalf("answer %d to %q, want 303 to /checkout#shipping", rec.Code, rec.Header().Get("Location"))
	}
	if len(f.got) != 1 || f.got[0].OperationName != "StorefrontCartShippingAddressUpdate" {
		names := make([]string, len(f.got))
		for i, req := range f.got {
			names[i] = req.OperationName
		}
		t.Fatalf("operations %v, want StorefrontCartShippingAddressUpdate alone", names)
	}
	want := map[string]any{"input": map[string]any{"token": "guest-cart-token", "email": "wang.fang@example.com",
		"address": map[string]any{"lastName": "王", "line1": "文三路1号", "city": "杭州市", "postalCode": "310012", "countryCode": "CN"}}}
	if diff := cmp.Diff(want, f.got[0].Variables); diff != "" {
		t.Fatalf("variables (-want +got):\n%s", diff)
	}
}
