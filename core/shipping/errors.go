package shipping

import (
	"fmt"

	"github.com/kassahq/kassa/core/kit/errs"
)

// The stable error codes of shipping. Clients switch on them; never
// change a released one.
const (
	CodeZoneNotFound   = "SHIPPING_ZONE_NOT_FOUND"
	CodeMethodNotFound = "SHIPPING_METHOD_NOT_FOUND"
	// CodeMethodUnavailable: the method does not ship this parcel (another
	// zone, inactive, no price in the currency, too heavy).
	CodeMethodUnavailable = "SHIPPING_METHOD_UNAVAILABLE"

	CodeRequired          = "REQUIRED"
	CodeTooLong           = "TOO_LONG"
	CodeTooMany           = "TOO_MANY"
	CodeInvalidCountry    = "INVALID_COUNTRY"
	CodeDuplicateCountry  = "DUPLICATE_COUNTRY"
	CodeInvalidRegion     = "INVALID_REGION"
	CodeDuplicateRegion   = "DUPLICATE_REGION"
	CodeInvalidKind       = "INVALID_KIND"
	CodeInvalidCurrency   = "INVALID_CURRENCY"
	CodeDuplicateCurrency = "DUPLICATE_CURRENCY"
	CodeInvalidAmount     = "INVALID_AMOUNT"
	// CodeNotForKind: a price field the method's kind does not use.
	CodeNotForKind = "NOT_FOR_KIND"
	// CodeInvalidBands: weight bands out of order, not positive, or
	// open-ended before the last.
	CodeInvalidBands    = "INVALID_BANDS"
	CodeInvalidPosition = "INVALID_POSITION"
	CodeInvalidParcel   = "INVALID_PARCEL"
)

func zoneNotFound() *errs.Error { return errs.NotFound(CodeZoneNotFound, "no such shipping zone") }

func methodNotFound() *errs.Error {
	return errs.NotFound(CodeMethodNotFound, "no such shipping method")
}

// MethodUnavailableError says that a method chosen earlier does not ship
// a parcel now. It unwraps to an *errs.Error with CodeMethodUnavailable
// (errs.ErrConflict), so transports map it like every shipping error.
type MethodUnavailableError struct {
	MethodID string
	Country  string
	Region   string
	Currency string
}

// Error implements error.
func (e *MethodUnavailableError) Error() string {
	return fmt.Sprintf("shipping method %s does not ship to %s/%s in %s", e.MethodID, e.Country, e.Region, e.Currency)
}

// Unwrap returns the shipping error transports map to
// SHIPPING_METHOD_UNAVAILABLE.
func (e *MethodUnavailableError) Unwrap() error {
	return errs.Conflict("", CodeMethodUnavailable, "this shipping method is not available for this address and cart")
}
