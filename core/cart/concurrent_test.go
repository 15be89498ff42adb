package cart_test

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestConcurrentChangesOfOneCart: changes racing on one cart each see
// the lines as the change before left them (the cart is taken and its
// lines read under one lock, also when the one-statement take of
// PostgreSQL finds the cart changed under it): ten additions of one unit
// return the quantities 1 to 10, once each, and the cart ends with 10,
// while address and email changes run beside them.
func TestConcurrentChangesOfOneCart(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ref := f.newGuestCart(t, "CNY")
		const adds = 10
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen = map[int64]int{}
		)
		for i := range adds + 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch {
				case i >= adds && i%2 == 0:
					if _, err := f.svc.SetShippingAddress(guest(), ref, cnAddress(), nil); err != nil {
						t.Error(err)
					}
				case i >= adds:
					if _, err := f.svc.SetEmail(guest(), ref, "race@example.com"); err != nil {
						t.Error(err)
					}
				default:
					c, err := f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					seen[quantities(c)[f.tea100]]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		want := map[int64]int{}
		for q := int64(1); q <= adds; q++ {
			want[q] = 1
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("quantities the additions returned (-want +got):\n%s", diff)
		}
		got := mustCart(t)(f.svc.Get(guest(), ref))
		if q := quantities(got)[f.tea100]; q != adds || got.Email != "race@example.com" || got.ShippingAddress == nil {
			t.Errorf("cart ends with %d units, email %q, address %v; want %d, race@example.com, an address", q, got.Email, got.ShippingAddress, adds)
		}
	})
}
