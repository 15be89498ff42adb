package graphql_test

import (
	"encoding/json"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
)

// BenchmarkPlans runs documents through Server.Exec on SQLite as a guest,
// answered by a query plan and, behind @include(if: true), by
// graph-gophers' executor: what plans save on a grid and on a cart read.
//
//	go test ./graphql -run '^$' -bench Plans -benchmem
func BenchmarkPlans(b *testing.B) {
	ta := testkit.NewTestApp(b, testkit.SQLite)
	s := newCartShop(b, ta)
	guest := authz.AnonymousSubject()
	_, ref := s.readyCart(b, guest, s.tea100, 2)
	docs := []struct {
		name, query string
		vars        map[string]any
	}{
		{"grid", planCorpus[0].query, planCorpus[0].vars},
		{"cart", `query($token: String) { cart(token: $token) { id totalQuantity lines { id sku productTitle variantTitle quantity
  unitPrice { amount currencyCode } total { amount currencyCode } problem } shippingMethods { methodId name price { amount } }
  subtotal { amount } shipping { amount } tax { amount } total { amount currencyCode } } }`, map[string]any{"token": ref["token"]}},
	}
	for _, d := range docs {
		for _, mode := range []string{"plan", "executor"} {
			q := d.query
			if mode == "executor" {
				q = withoutPlan(b, q)
			}
			b.Run(d.name+"/"+mode, func(b *testing.B) {
				nonce := 0
				for b.Loop() {
					nonce++ // past the response cache
					r := ta.Exec(guest, q, withNonce(d.vars, nonce))
					if len(r.Errors) > 0 {
						out, _ := json.Marshal(r.Errors)
						b.Fatalf("%s", out)
					}
				}
			})
		}
	}
}
