package tax

import "time"

// MaxBasisPoints is the highest rate, 100 %.
const MaxBasisPoints = 10000

// MaxNameLength bounds a rate's name.
const MaxNameLength = 100

// MaxRates is the most rates a shop keeps: every country and the regions
// of a few, and a bound on the list staff read at once.
const MaxRates = 1000

// Rate is the tax rate of a country, or of a region of it.
type Rate struct {
	// ID is empty for the zero rate Rates.Rate answers where no rate is
	// set.
	ID string
	// Country is an ISO 3166-1 alpha-2 code, upper case.
	Country string
	// Region is an ISO 3166-2 subdivision code of Country without the
	// country prefix ("QC" in CA; "CA-QC" given on input is kept as "QC"),
	// upper case, as an address's province holds it, or empty for
	// the whole country.
	Region string
	// Name is what receipts call the tax ("VAT", "GST").
	Name string
	// BasisPoints is the rate in hundredths of a percent: 1300 is 13 %.
	BasisPoints int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RateInput creates a rate.
type RateInput struct {
	Country     string
	Region      string
	Name        string
	BasisPoints int64
}

// UpdateRateInput changes a rate; a nil field keeps its value.
type UpdateRateInput struct {
	Country     *string
	Region      *string
	Name        *string
	BasisPoints *int64
}
