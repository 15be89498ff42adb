package resolver

import (
	"reflect"
	"testing"
)

// TestCatalogListItemsAreSynchronous guards the hot path (DESIGN.md,
// GraphQL conventions): graph-gophers/graphql-go runs a field in a
// goroutine of its own when its resolver takes a context, takes arguments
// or returns an error, and then every item of every list above it too. The
// fields of products, variants, prices and options, which a product grid
// shows by the thousand, must be plain getters over what their parent
// loaded. Only the staff-only stock fields, which answer a refusal, and the
// paged connections below a list item may do more.
func TestCatalogListItemsAreSynchronous(t *testing.T) {
	t.Parallel()
	mayDoMore := map[string]bool{
		"variantResolver.Inventory":            true, // refused to buyers with an error
		"variantResolver.InventoryAdjustments": true, // a page of its own
		"collectionResolver.Products":          true, // a page of its own
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[*productConnection](),
		reflect.TypeFor[*productEdge](),
		reflect.TypeFor[*productResolver](),
		reflect.TypeFor[*optionResolver](),
		reflect.TypeFor[*variantResolver](),
		reflect.TypeFor[*catalogMoney](),
		reflect.TypeFor[*selectedOption](),
		reflect.TypeFor[*priceRangeResolver](),
		reflect.TypeFor[*collectionResolver](),
		reflect.TypeFor[*pageInfo](),
	} {
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			name := typ.Elem().Name() + "." + m.Name
			if mayDoMore[name] {
				continue
			}
			if m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
				t.Errorf("%s takes %d arguments and returns %d values: a field of list items must be a plain getter, func() T", name, m.Type.NumIn()-1, m.Type.NumOut())
			}
		}
	}
}
