package tax

import "github.com/kassahq/kassa/core/kit/errs"

// The stable error codes of tax. Clients switch on them; never change a
// released one.
const (
	CodeRateNotFound   = "TAX_RATE_NOT_FOUND"
	CodeRequired       = "REQUIRED"
	CodeTooLong        = "TOO_LONG"
	CodeInvalidCountry = "INVALID_COUNTRY"
	CodeInvalidRegion  = "INVALID_REGION"
	CodeOutOfRange     = "OUT_OF_RANGE"
	// CodeTooMany: the shop already has MaxRates rates.
	CodeTooMany = "TOO_MANY"
	// CodeRateExists: the country (and region) already has a rate.
	CodeRateExists = "TAX_RATE_EXISTS"
)

func rateNotFound() *errs.Error { return errs.NotFound(CodeRateNotFound, "no such tax rate") }

func rateExists() *errs.Error {
	return errs.Conflict("region", CodeRateExists, "this country and region already have a tax rate")
}
