// Package catalogtest helps tests that need a catalog: a role-aware fake
// authorizer, callers of each kind, and a small fixture shop.
//
//	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
//		svc := catalogtest.NewService(db)
//		shop := catalogtest.Seed(t, svc)
//		p, err := svc.GetProductByHandle(catalogtest.Anonymous(), shop.Tea.Handle)
//	})
package catalogtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// Authorizer is a stand-in for the Casbin policy until it exists: staff and
// system subjects may do everything, everybody else may read products and
// collections but not stock figures, and may write nothing.
type Authorizer struct{}

// Can implements authz.Authorizer.
func (Authorizer) Can(ctx context.Context, obj authz.Object, act authz.Action) error {
	sub := authz.SubjectFrom(ctx)
	switch {
	case sub.Kind == authz.KindStaff || sub.Kind == authz.KindSystem:
		return nil
	case act == authz.Read && obj != authz.Inventory:
		return nil
	case sub.Kind == authz.KindAnonymous:
		return errs.Unauthenticated("sign in required")
	}
	return errs.Forbidden("FORBIDDEN", fmt.Sprintf("%s may not %s %s", sub.Kind, act, obj))
}

// Staff returns a context whose caller is a shop owner.
func Staff() context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{
		Kind: authz.KindStaff, ID: "usr_owner", Roles: []string{"owner"}, Store: authz.DefaultStore,
	})
}

// Customer returns a context whose caller is a signed-in buyer.
func Customer() context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{
		Kind: authz.KindCustomer, ID: "cus_buyer", Roles: []string{"customer"}, Store: authz.DefaultStore,
	})
}

// Anonymous returns a context whose caller nobody signed in as.
func Anonymous() context.Context {
	return authz.WithSubject(context.Background(), authz.AnonymousSubject())
}

// NewService returns a catalog service on db with the fake authorizer, CNY
// as default currency, and an outbox that records its events for nobody
// (tests that check events build the service with their own
// eventstest.Outbox).
func NewService(db *store.DB) *catalog.Service {
	svc, err := catalog.NewService(db, catalog.Options{
		Authz: Authorizer{}, Outbox: &eventstest.Outbox{}, DefaultCurrency: money.CNY,
	})
	if err != nil {
		panic(err) // every required option is given: cannot happen
	}
	return svc
}

// Shop is the fixture Seed creates.
type Shop struct {
	// Tea is ACTIVE, option Weight (100 g, 250 g), two variants priced in
	// CNY and USD, stock 40 and 0.
	Tea catalog.Product
	// Shirt is ACTIVE, options Size (S, M, L) and Color (Red, Blue), three
	// variants priced in CNY only.
	Shirt catalog.Product
	// Mug is a DRAFT with one default variant.
	Mug catalog.Product
	// Cup is ACTIVE with one default variant and no price.
	Cup catalog.Product
	// Teaware is a collection with Cup, Mug and Tea, in that order.
	Teaware catalog.Collection
}

// Seed creates the fixture shop as staff, failing t on error.
func Seed(t testing.TB, svc *catalog.Service) Shop {
	t.Helper()
	ctx := Staff()
	must := func(p catalog.Product, err error) catalog.Product {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
		return p
	}
	var s Shop
	s.Tea = must(svc.CreateProduct(ctx, catalog.CreateProductInput{
		Title: "Oolong Tea", Status: catalog.StatusActive, Vendor: "Mountain Farm", Tags: []string{"tea"},
		Options: []catalog.Option{{Name: "Weight", Values: []string{"100 g", "250 g"}}},
		Variants: []catalog.VariantInput{
			{SKU: "TEA-100", SelectedOptions: []catalog.SelectedOption{{Name: "Weight", Value: "100 g"}},
				Prices:            []catalog.PriceInput{{Currency: "CNY", Amount: "68.00"}, {Currency: "USD", Amount: "9.50", CompareAtAmount: "12.00"}},
				InventoryQuantity: 40, WeightGrams: 120},
			{SKU: "TEA-250", SelectedOptions: []catalog.SelectedOption{{Name: "Weight", Value: "250 g"}},
				Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "148.00"}, {Currency: "USD", Amount: "20.00"}}},
		},
	}))
	tick()
	shirtVariants := []catalog.VariantInput{}
	for i, so := range [][2]string{{"S", "Red"}, {"M", "Red"}, {"L", "Blue"}} {
		shirtVariants = append(shirtVariants, catalog.VariantInput{
			SKU:               fmt.Sprintf("SHIRT-%s-%s", so[0], so[1]),
			SelectedOptions:   []catalog.SelectedOption{{Name: "Size", Value: so[0]}, {Name: "Color", Value: so[1]}},
			Prices:            []catalog.PriceInput{{Currency: "CNY", Amount: fmt.Sprintf("%d.00", 99+i)}},
			InventoryQuantity: int64(5 * (i + 1)),
		})
	}
	s.Shirt = must(svc.CreateProduct(ctx, catalog.CreateProductInput{
		Title: "Linen Shirt", Status: catalog.StatusActive, Vendor: "Kassa Apparel",
		Options:  []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}, {Name: "Color", Values: []string{"Red", "Blue"}}},
		Variants: shirtVariants,
	}))
	tick()
	s.Mug = must(svc.CreateProduct(ctx, catalog.CreateProductInput{
		Title: "Enamel Mug", Variants: []catalog.VariantInput{{SKU: "MUG-1",
			Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "45.00"}}, InventoryQuantity: 3}},
	}))
	tick()
	s.Cup = must(svc.CreateProduct(ctx, catalog.CreateProductInput{Title: "Tasting Cup", Status: catalog.StatusActive}))
	c, err := svc.CreateCollection(ctx, catalog.CollectionInput{
		Title: "Teaware", ProductIDs: []string{s.Cup.ID, s.Mug.ID, s.Tea.ID},
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	s.Teaware = c
	return s
}

// tick keeps creation times of fixtures distinct, so CREATED_AT order is
// the creation order on every engine.
func tick() { time.Sleep(2 * time.Millisecond) }
