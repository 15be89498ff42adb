// Package cart owns carts and their checkout: the lines a buyer picks,
// the email and addresses, the chosen shipping method, the totals
// calculation (ComputeTotals, ADR 0008) and the completion that places
// the order.
//
// A guest's cart is reached with the token Create returns once (the cart
// keeps its SHA-256); a signed-in buyer's cart is reached as that buyer.
// Every method takes a Ref naming the cart that way, and another buyer's
// cart is not found. Prices are never stored or taken from a client:
// every read prices the cart from the catalog, shipping, tax and the
// shop's settings, through ports core/app wires (Catalog, Rates,
// TaxRates, Settings, Placer).
//
//	svc, err := cart.NewService(db, cart.Options{Authz: az, Catalog: reader, Rates: rates,
//		TaxRates: taxRates, Settings: shopSvc, Keys: keys, Placer: orders})
//	created, err := svc.Create(ctx, "CNY")          // a guest: created.Token reaches the cart
//	ref := cart.Ref{Token: created.Token}
//	c, err := svc.AddLines(ctx, ref, []cart.LineInput{{VariantID: "var_…", Quantity: 2}})
//	email := "buyer@example.com"                   // set with the address; nil leaves the cart's (SetEmail sets it alone)
//	c, err = svc.SetShippingAddress(ctx, ref, order.Address{LastName: "Li", Line1: "1 Road", City: "Shenzhen", CountryCode: "CN"}, &email)
//	rates, err := svc.ShippingMethods(ctx, ref)
//	c, err = svc.SetShippingMethod(ctx, ref, rates[0].MethodID)
//	placed, err := svc.Complete(ctx, ref, idempotencyKey) // placed.Order, placed.AccessToken
//	for _, p := range errs.All(err) { /* p.Field ("lines.0.quantity"), p.Code */ }
//
// At sign-in, Merge takes the guest cart into the buyer's.
//
// A cart nobody changed for its lifetime expires (Options.GuestLifetime,
// BuyerLifetime: 10 and 30 days by default); a completed or merged cart
// is kept as long as checkout's idempotency keys. Every method treats an
// expired cart as one that does not exist, and Purge, run by the
// cart.purge worker, deletes expired carts with their lines:
//
//	n, err := svc.Purge(ctx) // as a worker.Periodic's round, on every instance
//
// The cart emits no events: the order's kassa.order.placed says that a
// cart was checked out, and nothing acts on a cart's expiry, which a
// script's carts would otherwise flood the event stream with.
package cart
