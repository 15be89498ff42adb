package tax

import (
	"context"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/memo"
	"github.com/kassahq/kassa/core/store"
)

// DefaultCacheFor is how long Rates answers a place's rates from memory
// when RatesOptions.CacheFor is zero.
const DefaultCacheFor = 10 * time.Second

// RatesOptions configure NewRates. No field is required.
type RatesOptions struct {
	// CacheFor is how long Rate keeps a country's and region's rates in
	// memory: every cart request with an address looks its rate up, and
	// staff change rates rarely. A change through a Service holding these
	// Rates (Options.Rates) is seen at once; one made by another instance
	// sharing the database within CacheFor. Zero is DefaultCacheFor;
	// negative reads the rates every time.
	CacheFor time.Duration
	// Clock times the cache; nil is the system clock.
	Clock clock.Clock
}

// Rates looks up the rate of an address: the tax side of the cart's port
// (ADR 0006).
//
// It asks no authorizer: the cart prices a buyer's cart with it, and a
// buyer holds no settings permission; the rate of an address is shown to
// every buyer at checkout anyway. Only core/app builds it and hands it to
// the cart. It reads in the transaction carried by ctx, if any.
type Rates struct {
	store *taxStore
	rates *memo.Cache[[2]string, []*Rate]
	// regional remembers per country whether a rate names a region.
	regional *memo.Cache[string, bool]
}

// NewRates returns the tax rate lookup over db.
func NewRates(db *store.DB, opts RatesOptions) *Rates {
	ttl := opts.CacheFor
	if ttl == 0 {
		ttl = DefaultCacheFor
	}
	return &Rates{store: newTaxStore(db), rates: memo.New[[2]string, []*Rate](ttl, opts.Clock),
		regional: memo.New[string, bool](ttl, opts.Clock)}
}

// Invalidate forgets the rates kept in memory. The Service holding these
// Rates calls it when it changes a rate.
func (r *Rates) Invalidate() {
	r.rates.Invalidate()
	r.regional.Invalidate()
}

// Regional reports whether a rate of country names a region, so that
// where in the country an address is decides its tax: the cart then
// needs a province it can read (country.Subdivision).
func (r *Rates) Regional(ctx context.Context, country string) (bool, error) {
	country = strings.ToUpper(strings.TrimSpace(country))
	load := func() (bool, error) { return r.store.HasRegions(ctx, country) }
	if store.Touched(ctx, ratesKey{}) {
		return load()
	}
	return r.regional.Get(country, load)
}

// Rate returns the rate of a country and region: the region's rate when
// one is set, else the country's, else a zero rate (ID empty,
// BasisPoints 0) for the country and region asked. The region is an
// address's province: a subdivision code with or without its country
// prefix ("QC" or "CA-QC" in CA), in any case.
func (r *Rates) Rate(ctx context.Context, country, region string) (Rate, error) {
	country = strings.ToUpper(strings.TrimSpace(country))
	region = subdivision(region, country)
	load := func() ([]*Rate, error) { return r.store.RatesFor(ctx, country, region) }
	var rates []*Rate
	var err error
	if store.Touched(ctx, ratesKey{}) {
		// This transaction changed rates: its own view, not kept.
		rates, err = load()
	} else {
		rates, err = r.rates.Get([2]string{country, region}, load)
	}
	if err != nil {
		return Rate{}, err
	}
	var best *Rate
	for _, x := range rates {
		// A rate saved before regions lost their prefix may say "CA-QC".
		if best == nil || (x.Region != "" && subdivision(x.Region, country) == region) {
			best = x
		}
	}
	if best == nil {
		return Rate{Country: country, Region: region}, nil
	}
	return *best, nil
}
