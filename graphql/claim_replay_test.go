package graphql_test

import (
	"context"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
)

// TestCheckoutReplayAfterClaim: once a buyer claims a guest order, the
// guest's cart token and idempotency key no longer read it by replaying
// the checkout, as its access token no longer does.
func TestCheckoutReplayAfterClaim(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		_, ref := s.readyCart(t, guest, s.tea100, 1)
		input := vars("input", with(ref, "idempotencyKey", "claimed-k1"))
		first := must(t, s.do(t, guest, checkoutOp, input))
		id, token := first.str("checkoutComplete", "order", "id"), first.str("checkoutComplete", "accessToken")
		if id == "" || token == "" {
			t.Fatalf("checkout: %s", testkit.EncodeJSON(t, first.Data))
		}
		// Before the claim a replay is the first answer, less nothing.
		if again := must(t, s.do(t, guest, checkoutOp, input)); again.str("checkoutComplete", "order", "id") != id {
			t.Fatalf("replay before the claim: %s", testkit.EncodeJSON(t, again.Data))
		}

		now := time.Now().UTC()
		if _, err := ta.DB.NewRaw("INSERT INTO customers (id, email, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			"cus_claimer", "buyer@example.com", now, now, now).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		buyer := authz.Subject{Kind: authz.KindCustomer, ID: "cus_claimer", Roles: []string{authz.RoleCustomer}}
		claimed := must(t, s.do(t, buyer, `mutation { customerClaimGuestOrders { claimedCount userErrors { code } } }`, nil))
		if testkit.EncodeJSON(t, claimed.Data) != `{"customerClaimGuestOrders":{"claimedCount":1,"userErrors":[]}}` {
			t.Fatalf("claim: %s", testkit.EncodeJSON(t, claimed.Data))
		}

		replay := must(t, s.do(t, guest, checkoutOp, input))
		if got := testkit.EncodeJSON(t, replay.Data); got != `{"checkoutComplete":{"accessToken":null,"order":null,"userErrors":[]}}` {
			t.Fatalf("the guest's replay after the claim: %s", got)
		}
		// The buyer reads it as theirs.
		mine := must(t, s.do(t, buyer, `query($id: ID!) { order(id: $id) { id customerId } }`, vars("id", id)))
		if mine.str("order", "customerId") != "cus_claimer" {
			t.Fatalf("the buyer's order: %s", testkit.EncodeJSON(t, mine.Data))
		}
	})
}
