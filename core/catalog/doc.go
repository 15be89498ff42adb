// Package catalog owns what a shop sells: products with options (Size,
// Color), their variants with SKUs, prices per currency and stock, and the
// collections that group them.
//
// Every Service method asks the authorizer first, with the subject in the
// context: queries need read permission, mutations write permission, stock
// adjustments inventory write. Callers who may not write products (buyers)
// see ACTIVE products only.
//
//	svc, err := catalog.NewService(db, catalog.Options{
//		Authz: authorizer, Outbox: outbox, DefaultCurrency: money.CNY,
//	})
//	p, err := svc.CreateProduct(ctx, catalog.CreateProductInput{
//		Title:   "Oolong Tea",
//		Status:  catalog.StatusActive,
//		Options: []catalog.Option{{Name: "Weight", Values: []string{"100 g", "250 g"}}},
//		Variants: []catalog.VariantInput{{
//			SKU:               "TEA-OOLONG-100",
//			SelectedOptions:   []catalog.SelectedOption{{Name: "Weight", Value: "100 g"}},
//			Prices:            []catalog.PriceInput{{Currency: "CNY", Amount: "68.00"}},
//			InventoryQuantity: 40,
//		}, ...},
//	})
//	if errs := errs.All(err); errs != nil { /* every problem, with field paths */ }
//
// Field paths are relative to the method's input ("variants.0.sku",
// "title"; under the index for BulkCreateProducts); a transport adds its
// own envelope (GraphQL: input.variants.0.sku).
//
// Listings are keyset-paginated (ListProducts with a page.Request), and the
// batch getters (VariantsByProductIDs, PricesByVariantIDs, InventoryLevels,
// CollectionsByProductIDs) answer any number of ids with one query, for the
// GraphQL dataloaders; VariantGrid reads what a product grid shows of a
// page (variants, stock, the price in one currency) in one.
//
// Stock: InventoryLevel.OnHand is what the shop holds, Reserved what placed
// orders hold. Checkout reserves with a conditional UPDATE that never
// oversells; AdjustInventory changes on hand by hand and writes the ledger
// row (InventoryAdjustment) in the same transaction.
package catalog
