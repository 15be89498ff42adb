// Package shipping owns where the shop ships and at what price: zones (a
// set of countries, optionally narrowed to regions within them) and the
// methods offered in each zone, priced per currency as a flat rate, a
// flat rate that is free from a subtotal threshold, or by weight bands.
//
// Staff manage zones and methods through the Service (settings read and
// write). The cart prices a parcel through Rates, which asks no
// permission (ADR 0006): buyers quote shipping without holding settings
// read, and only core/app hands a Rates to the cart.
//
//	rates := shipping.NewRates(db, shipping.RatesOptions{})
//	quotes, err := rates.Quote(ctx, shipping.Parcel{
//		Country:     "CN",
//		Region:      "GD",
//		Subtotal:    money.New(18800, money.CNY),
//		WeightGrams: 1200,
//	})
//	// quotes are the methods that fit, cheapest first
//	chosen, err := rates.Rate(ctx, parcel, quotes[0].MethodID)
//	var gone *shipping.MethodUnavailableError // the address or cart changed since
//	if errors.As(err, &gone) { ... }
package shipping
