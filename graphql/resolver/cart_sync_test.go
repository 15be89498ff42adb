package resolver

import (
	"reflect"
	"testing"
)

// TestCartFieldsAreSynchronous guards the checkout's hot path as
// TestCatalogListItemsAreSynchronous guards the grid's: every field of a
// cart read with Query.cart, its lines, shipping methods, addresses and
// money included, is a plain getter over what Query.cart loaded, so that
// graph-gophers/graphql-go starts no goroutine per field. Only a
// mutation payload's cart reads its shipping methods when asked
// (payloadCart).
func TestCartFieldsAreSynchronous(t *testing.T) {
	t.Parallel()
	for _, typ := range []reflect.Type{
		reflect.TypeFor[*cartResolver](),
		reflect.TypeFor[*cartLineResolver](),
		reflect.TypeFor[*shippingRate](),
		reflect.TypeFor[*cartAddress](),
		reflect.TypeFor[*cartAdjustment](),
		reflect.TypeFor[*moneyResolver](),
	} {
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
				t.Errorf("%s.%s takes %d arguments and returns %d values: a field of the cart must be a plain getter, func() T",
					typ.Elem().Name(), m.Name, m.Type.NumIn()-1, m.Type.NumOut())
			}
		}
	}
	p := reflect.TypeFor[*payloadCart]()
	if m, ok := p.MethodByName("ShippingMethods"); !ok || m.Type.NumIn() != 2 {
		t.Errorf("payloadCart.ShippingMethods must read the quote with the caller's context")
	}
}
