package shipping

import (
	"time"

	"github.com/kassahq/kassa/core/money"
)

// Limits on what staff enter. Every list has one, so a huge input is
// refused as a whole (TOO_MANY) rather than answered entry by entry.
const (
	MaxNameLength   = 100
	MaxRegionLength = 20
	// MaxCountries is more than there are ISO 3166-1 codes.
	MaxCountries = 250
	MaxRegions   = 500
	// MaxPrices is the most currencies one method is priced in.
	MaxPrices = 20
	MaxBands  = 20
	// MaxBandGrams is the heaviest end of a weight band (1000 t): a
	// bound far above any parcel that keeps weights within 32 bits.
	MaxBandGrams     = 1_000_000_000
	MaxZones         = 500
	MaxMethodsInZone = 50
	// MaxPosition bounds a method's position in its zone, so the next
	// method's (the last one's plus one) stays far inside an Int.
	MaxPosition = 10000
)

// Zone is a part of the world the shop ships to: some countries, or some
// regions of them.
type Zone struct {
	ID   string
	Name string
	// Countries are ISO 3166-1 alpha-2 codes, upper case.
	Countries []string
	// Regions narrow the zone to these regions of its countries: ISO
	// 3166-2 subdivision codes without the country prefix, upper case,
	// as an address's province holds them ("GD", "QC"; "CN-GD" given on
	// input is kept as "GD"); empty covers the whole countries. A parcel to a listed region is priced by this zone
	// rather than by a zone covering its whole country.
	Regions []string
	// Methods are the zone's methods in position order.
	Methods   []*Method
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MethodKind says how a method is priced.
type MethodKind string

// The kinds of method.
const (
	// KindFlat costs the price's Amount whatever the parcel.
	KindFlat MethodKind = "FLAT"
	// KindFreeOver costs Amount below the FreeOver subtotal and nothing
	// from it on.
	KindFreeOver MethodKind = "FREE_OVER"
	// KindWeightBands costs the price of the first band whose MaxGrams
	// the parcel's weight does not exceed.
	KindWeightBands MethodKind = "WEIGHT_BANDS"
)

// Valid reports whether k is a known kind.
func (k MethodKind) Valid() bool {
	switch k {
	case KindFlat, KindFreeOver, KindWeightBands:
		return true
	}
	return false
}

// Method is a way to ship offered in a zone.
type Method struct {
	ID     string
	ZoneID string
	Name   string
	Kind   MethodKind
	// Prices are the method's prices, one per currency, ordered by
	// currency code. A parcel in a currency without a price is not offered
	// the method.
	Prices []MethodPrice
	// Active methods are offered; inactive ones are kept for later.
	Active bool
	// Position orders the methods of a zone, from 0.
	Position  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MethodPrice is a method's price in one currency. Which fields are set
// depends on the method's kind.
type MethodPrice struct {
	Currency money.Currency
	// Amount is the price of a FLAT method, and of a FREE_OVER method
	// below the threshold.
	Amount money.Money
	// FreeOver is the subtotal from which a FREE_OVER method is free.
	FreeOver money.Money
	// Bands are the weight bands of a WEIGHT_BANDS method, by ascending
	// MaxGrams; the last may be open-ended.
	Bands []WeightBand
}

// WeightBand prices the parcels up to a weight.
type WeightBand struct {
	// MaxGrams is the heaviest parcel of the band, inclusive; nil makes
	// the band open-ended (only the last band may be).
	MaxGrams *int64
	Price    money.Money
}

// ZoneInput creates a zone.
type ZoneInput struct {
	Name string
	// Countries are ISO 3166-1 alpha-2 codes; at least one.
	Countries []string
	// Regions are optional subdivision codes within Countries ("GD" or
	// "CN-GD"; kept as "GD").
	Regions []string
}

// UpdateZoneInput changes a zone; a nil field keeps its value.
type UpdateZoneInput struct {
	Name      *string
	Countries *[]string
	Regions   *[]string
}

// MethodInput creates a method.
type MethodInput struct {
	ZoneID string
	Name   string
	Kind   MethodKind
	// Prices are one per currency; at least one.
	Prices []MethodPriceInput
	// Active defaults to true.
	Active *bool
	// Position defaults to after the zone's last method.
	Position *int
}

// UpdateMethodInput changes a method; a nil field keeps its value. A new
// Kind is checked against the prices in force after the update.
type UpdateMethodInput struct {
	Name     *string
	Kind     *MethodKind
	Prices   *[]MethodPriceInput
	Active   *bool
	Position *int
}

// MethodPriceInput is a price as staff enter it: decimal amounts
// ("12.50") in Currency. Set Amount for FLAT, Amount and FreeOver for
// FREE_OVER, Bands for WEIGHT_BANDS, and nothing else. Problems with
// Currency are reported as "prices.N.currencyCode", the name the
// catalog's prices and the API give it.
type MethodPriceInput struct {
	Currency string
	Amount   string
	FreeOver string
	Bands    []WeightBandInput
}

// WeightBandInput is a weight band as staff enter it.
type WeightBandInput struct {
	// MaxGrams is nil for an open-ended last band.
	MaxGrams *int64
	Amount   string
}

// Parcel is what the cart ships: where to, its subtotal (whose currency
// is the currency of the quote) and its weight.
type Parcel struct {
	// Country is the ISO 3166-1 alpha-2 code of the shipping address.
	Country string
	// Region is the address's region (province, state): a subdivision
	// code with or without the country prefix ("QC", "CA-QC"); may be
	// empty.
	Region      string
	Subtotal    money.Money
	WeightGrams int64
}

// Rate is what one method costs for one parcel.
type Rate struct {
	MethodID string
	Name     string
	Price    money.Money
}
