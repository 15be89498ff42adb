package cart

import (
	"fmt"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shipping"
)

// The stable error codes of carts. Clients switch on them; never change a
// released one.
const (
	// CodeCartNotFound: no such cart, or not one the caller may reach
	// (another buyer's cart does not exist for a buyer).
	CodeCartNotFound = "CART_NOT_FOUND"
	// CodeCartExists: the signed-in buyer already has an open cart.
	CodeCartExists = "CART_EXISTS"
	// CodeCartCompleted: the cart placed its order and changes no more.
	CodeCartCompleted = "CART_COMPLETED"
	// CodeCartEmpty: checkout of a cart without lines.
	CodeCartEmpty = "CART_EMPTY"
	// CodeTooManyLines: more than MaxLines lines in the cart or in one
	// call.
	CodeTooManyLines = "TOO_MANY_LINES"
	// CodeLineNotFound: a line id that is not one of this cart's lines.
	CodeLineNotFound = "LINE_NOT_FOUND"

	// CodeVariantNotFound: no such variant, or its product is not
	// published.
	CodeVariantNotFound = "VARIANT_NOT_FOUND"
	// CodeVariantArchived: the variant or its product is archived: no
	// longer sold.
	CodeVariantArchived = "VARIANT_ARCHIVED"
	// CodeVariantUnavailable: the variant has no price in the cart's
	// currency.
	CodeVariantUnavailable = "VARIANT_UNAVAILABLE"
	// CodeInsufficientStock: more units than can still be bought. The
	// catalog's code, which order placement answers too.
	CodeInsufficientStock = catalog.CodeInsufficientStock
	// CodeQuantityOverLimit: more units on one line than the shop's line
	// quantity limit.
	CodeQuantityOverLimit = "QUANTITY_OVER_LIMIT"
	CodeInvalidQuantity   = "INVALID_QUANTITY"
	// CodeAmountTooLarge: the cart's money does not fit in the 64-bit
	// minor units it is computed in. Prices are bounded by
	// money.MaxPrice so that no cart reaches it; a price set before that
	// bound still can.
	CodeAmountTooLarge = "AMOUNT_TOO_LARGE"

	CodeInvalidCurrency = "INVALID_CURRENCY"
	// CodeCurrencyNotSupported: a currency the shop does not sell in,
	// given to Create, or the currency of a cart the shop no longer
	// sells in (field "currencyCode"), which neither takes units nor
	// checks out.
	CodeCurrencyNotSupported = "CURRENCY_NOT_SUPPORTED"
	CodeInvalidEmail         = "INVALID_EMAIL"
	CodeInvalidCountry       = "INVALID_COUNTRY"
	// CodeInvalidProvince: the address's province names none of its
	// country's states or provinces, where the shop's tax rates or
	// shipping zones depend on it (field "address.province").
	CodeInvalidProvince = "INVALID_PROVINCE"
	// CodeProvinceRequired: the address has no province, where the shop's
	// tax rates or shipping zones depend on it.
	CodeProvinceRequired = "PROVINCE_REQUIRED"
	CodeRequired         = "REQUIRED"
	CodeTooLong          = "TOO_LONG"

	// CodeEmailRequired: checkout of a cart without an email address.
	CodeEmailRequired = "EMAIL_REQUIRED"
	// CodeShippingAddressRequired: shipping quoted, chosen or checked out
	// before the cart has a shipping address.
	CodeShippingAddressRequired = "SHIPPING_ADDRESS_REQUIRED"
	// CodeShippingMethodRequired: checkout before a shipping method was
	// chosen.
	CodeShippingMethodRequired = "SHIPPING_METHOD_REQUIRED"
	// CodeShippingMethodUnavailable: the method does not ship this cart
	// (another zone, too heavy, no price in the currency, inactive).
	// Shipping's own code.
	CodeShippingMethodUnavailable = shipping.CodeMethodUnavailable
	// CodeCheckoutUnavailable: the instance has no order service to place
	// orders with.
	CodeCheckoutUnavailable = "CHECKOUT_UNAVAILABLE"
	// CodeIdempotencyKeyRequired: checkout completion sent no idempotency
	// key, in its input or its header (field "idempotencyKey"). A key
	// given but malformed is idempotency's INVALID_IDEMPOTENCY_KEY.
	CodeIdempotencyKeyRequired = "IDEMPOTENCY_KEY_REQUIRED"
)

func cartNotFound() *errs.Error { return errs.NotFound(CodeCartNotFound, "no such cart") }

func cartCompleted() *errs.Error {
	return errs.Conflict("", CodeCartCompleted, "this cart has been checked out and can no longer change")
}

func tooManyLines(field string) *errs.Error {
	return errs.Invalid(field, CodeTooManyLines, fmt.Sprintf("a cart holds at most %d lines", MaxLines))
}

func insufficientStock(field string, available int64) *errs.Error {
	if available == 0 {
		return errs.Conflict(field, CodeInsufficientStock, "this item is sold out")
	}
	return errs.Conflict(field, CodeInsufficientStock, fmt.Sprintf("only %d left", available))
}

func overLimit(field string, limit int64) *errs.Error {
	return errs.Invalid(field, CodeQuantityOverLimit, fmt.Sprintf("at most %d of one item per order", limit))
}

// currencyNotSold is the problem of a cart in cur once the shop no
// longer sells in it. Its currency is fixed, so the buyer starts another
// cart (Create retires a buyer's open cart in cur).
func currencyNotSold(cur money.Currency) *errs.Error {
	return errs.Conflict("currencyCode", CodeCurrencyNotSupported,
		"the shop no longer sells in "+cur.Code()+"; start a new cart in a currency it sells in")
}

func amountTooLarge() *errs.Error {
	return errs.Conflict("lines", CodeAmountTooLarge, "the cart's total is too large; lower a quantity or remove a line")
}

func methodUnavailable(field string) *errs.Error {
	return errs.Conflict(field, CodeShippingMethodUnavailable, "this shipping method is not available for this address and cart")
}

func cartExists() *errs.Error {
	return errs.Conflict("", CodeCartExists, "you already have a cart; add to it or check it out")
}
