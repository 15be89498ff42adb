package tax

import (
	"context"
	"strings"

	"github.com/kassahq/kassa/core/store"
)

// RatesOptions configure NewRates. No field is required yet; the struct
// keeps the constructor's shape the same as every other's.
type RatesOptions struct{}

// Rates looks up the rate of an address: the tax side of the cart's port
// (ADR 0006).
//
// It asks no authorizer: the cart prices a buyer's cart with it, and a
// buyer holds no settings permission; the rate of an address is shown to
// every buyer at checkout anyway. Only core/app builds it and hands it to
// the cart. It reads in the transaction carried by ctx, if any.
type Rates struct {
	store *taxStore
}

// NewRates returns the tax rate lookup over db.
func NewRates(db *store.DB, _ RatesOptions) *Rates {
	return &Rates{store: newTaxStore(db)}
}

// Rate returns the rate of a country and region: the region's rate when
// one is set, else the country's, else a zero rate (ID empty,
// BasisPoints 0) for the country and region asked.
func (r *Rates) Rate(ctx context.Context, country, region string) (Rate, error) {
	country = strings.ToUpper(strings.TrimSpace(country))
	region = normRegion(region)
	rates, err := r.store.RatesFor(ctx, country, region)
	if err != nil {
		return Rate{}, err
	}
	var best *Rate
	for _, x := range rates {
		if best == nil || (x.Region != "" && x.Region == region) {
			best = x
		}
	}
	if best == nil {
		return Rate{Country: country, Region: region}, nil
	}
	return *best, nil
}
