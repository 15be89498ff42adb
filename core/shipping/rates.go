package shipping

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/memo"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// DefaultCacheFor is how long Rates answers a country's zones from
// memory when RatesOptions.CacheFor is zero.
const DefaultCacheFor = 10 * time.Second

// RatesOptions configure NewRates. No field is required.
type RatesOptions struct {
	// CacheFor is how long Quote keeps a country's zones and methods in
	// memory: every cart request quotes shipping, and staff change zones
	// rarely. A change through a Service holding these Rates
	// (Options.Rates) is seen at once; one made by another instance
	// sharing the database within CacheFor. Zero is DefaultCacheFor;
	// negative reads the zones every time.
	CacheFor time.Duration
	// Clock times the cache; nil is the system clock.
	Clock clock.Clock
}

// Rates prices parcels: the shipping side of the cart's port (ADR 0006).
//
// It asks no authorizer: buyers quote shipping through the cart without
// holding settings read, and what it answers (the names and prices of the
// methods that ship a parcel) is what every buyer sees at checkout. Only
// core/app builds it and hands it to the cart. Every method reads in the
// transaction carried by ctx, if any.
type Rates struct {
	store *shippingStore
	zones *memo.Cache[string, []*Zone]
}

// NewRates returns the shipping rates over db.
func NewRates(db *store.DB, opts RatesOptions) *Rates {
	ttl := opts.CacheFor
	if ttl == 0 {
		ttl = DefaultCacheFor
	}
	return &Rates{store: newShippingStore(db), zones: memo.New[string, []*Zone](ttl, opts.Clock)}
}

// Invalidate forgets the zones kept in memory. The Service holding these
// Rates calls it when it changes a zone or method.
func (r *Rates) Invalidate() { r.zones.Invalidate() }

// Quote returns what each method that ships p costs, cheapest first (then
// by the zone's name and the method's position). A method ships p when it
// is active, belongs to a zone covering p's country (and p's region when
// the zone lists regions), has a price in the currency of p.Subtotal, and,
// for weight bands, has a band for p's weight. Zones listing p's region
// win: when any covers p, zones covering the whole country are left out.
// No method ships p, or p has no valid country yet (a cart without an
// address): an empty list.
func (r *Rates) Quote(ctx context.Context, p Parcel) ([]Rate, error) {
	p, err := normParcel(p)
	if err != nil {
		return nil, err
	}
	if !country.Valid(p.Country) {
		// No zone lists it; and the store's filter must not see a
		// pattern character or an empty code, which would match every
		// zone.
		return []Rate{}, nil
	}
	load := func() ([]*Zone, error) { return r.store.Zones(ctx, p.Country) }
	var zones []*Zone
	if store.Touched(ctx, zonesKey{}) {
		// This transaction changed zones: its own view, not kept.
		zones, err = load()
	} else {
		zones, err = r.zones.Get(p.Country, load)
	}
	if err != nil {
		return nil, err
	}
	return quote(zones, p), nil
}

// Countries returns the ISO 3166-1 alpha-2 codes of the countries, sorted,
// that some active method prices in cur ships to (all of a country, or
// some of its regions): the countries a storefront's address form offers
// for a cart in cur. Every zone is read, and kept as Quote keeps a
// country's.
func (r *Rates) Countries(ctx context.Context, cur money.Currency) ([]string, error) {
	// "" is no country code (Quote's keys are valid codes): every zone.
	load := func() ([]*Zone, error) { return r.store.Zones(ctx, "") }
	var zones []*Zone
	var err error
	if store.Touched(ctx, zonesKey{}) {
		zones, err = load()
	} else {
		zones, err = r.zones.Get("", load)
	}
	if err != nil {
		return nil, err
	}
	return shippedCountries(zones, cur), nil
}

// shippedCountries is Countries on loaded zones.
func shippedCountries(zones []*Zone, cur money.Currency) []string {
	out := []string{}
	for _, z := range zones {
		if !slices.ContainsFunc(z.Methods, func(m *Method) bool { return m.Active && m.pricedIn(cur) }) {
			continue
		}
		for _, c := range z.Countries {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// pricedIn reports whether m has a price in cur.
func (m *Method) pricedIn(cur money.Currency) bool {
	return slices.ContainsFunc(m.Prices, func(p MethodPrice) bool { return p.Currency == cur })
}

// Regional reports whether a zone narrows country to regions, so that
// where in the country an address is decides its shipping: the cart then
// needs a province it can read (country.Subdivision).
func (r *Rates) Regional(ctx context.Context, cc string) (bool, error) {
	cc = strings.ToUpper(strings.TrimSpace(cc))
	if !country.Valid(cc) {
		return false, nil
	}
	load := func() ([]*Zone, error) { return r.store.Zones(ctx, cc) }
	var zones []*Zone
	var err error
	if store.Touched(ctx, zonesKey{}) {
		zones, err = load()
	} else {
		zones, err = r.zones.Get(cc, load)
	}
	if err != nil {
		return false, err
	}
	for _, z := range zones {
		if len(z.Regions) > 0 && slices.Contains(z.Countries, cc) {
			return true, nil
		}
	}
	return false, nil
}

// Rate returns what the method methodID costs for p, or a
// *MethodUnavailableError (SHIPPING_METHOD_UNAVAILABLE) when Quote would
// not offer it: the cart checks the buyer's choice with it again at
// checkout.
func (r *Rates) Rate(ctx context.Context, p Parcel, methodID string) (Rate, error) {
	rates, err := r.Quote(ctx, p)
	if err != nil {
		return Rate{}, err
	}
	for _, rt := range rates {
		if rt.MethodID == methodID {
			return rt, nil
		}
	}
	return Rate{}, &MethodUnavailableError{MethodID: methodID, Country: p.Country, Region: p.Region,
		Currency: p.Subtotal.Currency().Code()}
}

// normParcel checks p and puts its codes in the stored case: the region
// as its subdivision code, read once here rather than for every zone.
func normParcel(p Parcel) (Parcel, error) {
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
	p.Region = subdivision(p.Region, p.Country)
	switch {
	case p.Subtotal.Currency().IsZero():
		return p, errs.Invalid("subtotal", CodeInvalidParcel, "a parcel's subtotal has a currency")
	case p.WeightGrams < 0:
		return p, errs.Invalid("weightGrams", CodeInvalidParcel, "a parcel's weight cannot be negative")
	}
	return p, nil
}

// covers reports whether z ships to p, and whether by its regions.
func (z *Zone) covers(p Parcel) (ok, byRegion bool) {
	if !slices.Contains(z.Countries, p.Country) {
		return false, false
	}
	if len(z.Regions) == 0 {
		return true, false
	}
	// Zones saved before regions lost their prefix may still say
	// "CA-QC"; the parcel's region is a code already (normParcel).
	if p.Region != "" && slices.ContainsFunc(z.Regions, func(r string) bool { return subdivision(r, p.Country) == p.Region }) {
		return true, true
	}
	return false, false
}

// quote is Quote on loaded zones.
func quote(zones []*Zone, p Parcel) []Rate {
	var regional, national []*Zone
	for _, z := range zones {
		switch ok, byRegion := z.covers(p); {
		case ok && byRegion:
			regional = append(regional, z)
		case ok:
			national = append(national, z)
		}
	}
	if len(regional) > 0 {
		national = regional
	}
	// Zones come by name and methods by position, so a stable sort by
	// price keeps that order between equal prices.
	out := []Rate{}
	for _, z := range national {
		for _, m := range z.Methods {
			if price, ok := m.price(p); ok {
				out = append(out, Rate{MethodID: m.ID, Name: m.Name, Price: price})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Rate) int { return cmp.Compare(a.Price.Amount(), b.Price.Amount()) })
	return out
}

// price returns what m costs for p, and false when m does not ship it.
func (m *Method) price(p Parcel) (money.Money, bool) {
	if !m.Active {
		return money.Money{}, false
	}
	cur := p.Subtotal.Currency()
	i := slices.IndexFunc(m.Prices, func(mp MethodPrice) bool { return mp.Currency == cur })
	if i < 0 {
		return money.Money{}, false
	}
	mp := m.Prices[i]
	switch m.Kind {
	case KindFlat:
		return mp.Amount, true
	case KindFreeOver:
		if p.Subtotal.Amount() >= mp.FreeOver.Amount() {
			return money.Zero(cur), true
		}
		return mp.Amount, true
	case KindWeightBands:
		for _, b := range mp.Bands {
			if b.MaxGrams == nil || p.WeightGrams <= *b.MaxGrams {
				return b.Price, true
			}
		}
	}
	return money.Money{}, false
}
