package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
)

// The stable error codes of the catalog. Clients switch on them; never
// change a released one.
const (
	CodeProductNotFound    = "PRODUCT_NOT_FOUND"
	CodeVariantNotFound    = "VARIANT_NOT_FOUND"
	CodeCollectionNotFound = "COLLECTION_NOT_FOUND"

	CodeRequired      = "REQUIRED"
	CodeTooLong       = "TOO_LONG"
	CodeTooMany       = "TOO_MANY"
	CodeInvalidHandle = "INVALID_HANDLE"
	CodeHandleTaken   = "HANDLE_TAKEN"
	CodeSKUTaken      = "SKU_TAKEN"
	// CodeInvalidSKU: a SKU holding an invisible character.
	CodeInvalidSKU    = "INVALID_SKU"
	CodeInvalidStatus = "INVALID_STATUS"

	CodeDuplicateOption      = "DUPLICATE_OPTION"
	CodeDuplicateOptionValue = "DUPLICATE_OPTION_VALUE"
	CodeUnknownOption        = "UNKNOWN_OPTION"
	CodeMissingOption        = "MISSING_OPTION"
	CodeUnknownOptionValue   = "UNKNOWN_OPTION_VALUE"
	CodeOptionsCountChanged  = "OPTIONS_COUNT_CHANGED"
	CodeOptionValueInUse     = "OPTION_VALUE_IN_USE"
	CodeDuplicateVariant     = "DUPLICATE_VARIANT"

	CodeInvalidCurrency   = "INVALID_CURRENCY"
	CodeDuplicateCurrency = "DUPLICATE_CURRENCY"
	CodeInvalidAmount     = "INVALID_AMOUNT"

	CodeInvalidQuantity   = "INVALID_QUANTITY"
	CodeInvalidReason     = "INVALID_REASON"
	CodeInsufficientStock = "INSUFFICIENT_STOCK"
	CodeInvalidWeight     = "INVALID_WEIGHT"

	// CodeNotReserved: a release or commit of Reservations asked for more
	// than is reserved, which only a bug in the caller can do.
	CodeNotReserved = "NOT_RESERVED"
	// CodeAlreadyApplied: this reference already reserved, released or
	// committed this variant's stock; the second time changes nothing.
	CodeAlreadyApplied = "ALREADY_APPLIED"
	// CodeReferenceRequired: a reservation names the order (or shipment)
	// that causes it.
	CodeReferenceRequired = "REFERENCE_REQUIRED"

	CodeInvalidSortKey = "INVALID_SORT_KEY"
	CodeInvalidCursor  = "INVALID_CURSOR"
)

func productNotFound(field string) *errs.Error {
	e := errs.NotFound(CodeProductNotFound, "no such product")
	if field != "" {
		e = e.WithField(strings.Split(field, ".")...)
	}
	return e
}

func variantNotFound(field string) *errs.Error {
	e := errs.NotFound(CodeVariantNotFound, "no such product variant")
	if field != "" {
		e = e.WithField(strings.Split(field, ".")...)
	}
	return e
}

func collectionNotFound(field string) *errs.Error {
	e := errs.NotFound(CodeCollectionNotFound, "no such collection")
	if field != "" {
		e = e.WithField(strings.Split(field, ".")...)
	}
	return e
}

// InsufficientStockError says which variant could not cover a
// reservation. It unwraps to an *errs.Error with CodeInsufficientStock
// (errs.ErrConflict), so transports map it like every catalog error, and
// callers that want the variant use errors.As.
type InsufficientStockError struct {
	// VariantID is the first variant (in id order) short of stock.
	VariantID string
	// Requested is the sum of every line of the request on VariantID.
	Requested int64
	// Available is on hand minus reserved when the request was refused.
	Available int64
	// Field is the path of the first line drawing on VariantID
	// ("lines.1.quantity").
	Field string
}

// Error implements error.
func (e *InsufficientStockError) Error() string {
	return fmt.Sprintf("variant %s: %d requested, %d available", e.VariantID, e.Requested, e.Available)
}

// Unwrap returns the catalog error the transports map to
// INSUFFICIENT_STOCK.
func (e *InsufficientStockError) Unwrap() error {
	return errs.Conflict(e.Field, CodeInsufficientStock,
		fmt.Sprintf("only %d left of variant %s", e.Available, e.VariantID))
}

// alreadyApplied refuses a second stock movement of one reference on one
// variant for the same reason.
func alreadyApplied(row *stockMovementRow) *errs.Error {
	return errs.Conflict("reference", CodeAlreadyApplied,
		fmt.Sprintf("%s already %s variant %s", row.Reference, row.Reason, row.VariantID))
}

// uniqueConflict turns a unique violation that slipped past validation (two
// writers racing for one handle or SKU) into the same conflict validation
// would have reported. Other errors are returned as they are.
func uniqueConflict(err error, handleField, skuField string) error {
	if !store.IsUniqueViolation(err) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "sku"):
		return errs.Conflict(skuField, CodeSKUTaken, "another variant has this SKU")
	case strings.Contains(msg, "handle"):
		return errs.Conflict(handleField, CodeHandleTaken, "this handle is taken")
	}
	return errors.Join(errs.Conflict("", "CONFLICT", "a concurrent change conflicts with this one"), err)
}

// sortProblems orders the problems of an errs.List by field path (indexes
// numerically), so clients and tests see them in a stable order whatever
// order the checks ran in.
func sortProblems(err error) error {
	var l errs.List
	if !errors.As(err, &l) {
		return err
	}
	slices.SortStableFunc(l, func(a, b *errs.Error) int {
		for i := 0; i < len(a.Field) && i < len(b.Field); i++ {
			x, xerr := strconv.Atoi(a.Field[i])
			y, yerr := strconv.Atoi(b.Field[i])
			switch {
			case xerr == nil && yerr == nil:
				if x != y {
					return x - y
				}
			case a.Field[i] != b.Field[i]:
				return strings.Compare(a.Field[i], b.Field[i])
			}
		}
		return len(a.Field) - len(b.Field)
	})
	return err
}
