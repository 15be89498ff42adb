package catalog

import (
	"errors"
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
	return errors.Join(errs.Conflict("input", "CONFLICT", "a concurrent change conflicts with this one"), err)
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
