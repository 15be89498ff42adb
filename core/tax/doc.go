// Package tax owns the shop's tax rates, by country and optionally by
// region, in basis points (1300 is 13 %), and the tax arithmetic of a
// line.
//
// Staff manage rates through the Service (settings read and write). The
// cart looks up the rate of an address through Rates, which asks no
// permission (ADR 0006), and computes each line's tax with LineTax:
//
//	rates := tax.NewRates(db, tax.RatesOptions{})
//	r, err := rates.Rate(ctx, "CN", "GD") // the region's rate, else the country's, else zero
//	t := tax.LineTax(money.New(11300, money.CNY), r.BasisPoints, true) // 13.00 CNY of 113.00
package tax
