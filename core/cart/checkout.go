package cart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/core/kit/email"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shipping"
)

// SetEmail sets the address the order's messages will go to.
func (s *Service) SetEmail(ctx context.Context, ref Ref, email string) (*Cart, error) {
	if err := s.mayWrite(ctx); err != nil {
		return nil, err
	}
	e, err := normalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, ref, write{columns: []string{"email"}, set: func(c *Cart) { c.Email = e }}, nil, nil)
}

// SetShippingAddress sets where the order goes. It decides the tax rate
// and the shipping methods offered; a method chosen before that no longer
// ships the cart is shown as unavailable (Cart.ShippingRate nil) until
// another is chosen.
//
// A non-nil email is set with the address, as SetEmail sets it (the same
// checks, the path "email"), in the same statement: a checkout's contact
// and address form is one request, and a problem with either writes
// neither. A nil email leaves the cart's as it is (a signed-in buyer's
// cart keeps their account's email unless they give another).
func (s *Service) SetShippingAddress(ctx context.Context, ref Ref, address order.Address, email *string) (*Cart, error) {
	return s.setAddress(ctx, ref, "shipping_address", func(c *Cart, a *order.Address) { c.ShippingAddress = a }, address, email)
}

// SetBillingAddress sets the address the order is billed to; without
// one, it is billed to the shipping address. A non-nil email is set
// with it, as SetShippingAddress sets it.
func (s *Service) SetBillingAddress(ctx context.Context, ref Ref, address order.Address, email *string) (*Cart, error) {
	return s.setAddress(ctx, ref, "billing_address", func(c *Cart, a *order.Address) { c.BillingAddress = a }, address, email)
}

// setAddress writes address to column (set puts it in the cart) and,
// when email is not nil, the email with it, in one write. Every problem
// of both is reported at once, and nothing is written then.
func (s *Service) setAddress(ctx context.Context, ref Ref, column string, set func(*Cart, *order.Address),
	address order.Address, email *string) (*Cart, error) {
	if err := s.mayWrite(ctx); err != nil {
		return nil, err
	}
	var v errs.Validator
	var e string
	columns := []string{column}
	if email != nil {
		var err error
		if e, err = normalizeEmail("email", *email); err != nil {
			for _, p := range errs.All(err) {
				v.Add(p)
			}
		}
		columns = append(columns, "email")
	}
	a, err := normalizeAddress(address)
	for _, p := range errs.All(err) {
		v.Add(p)
	}
	if err == nil && column == "shipping_address" {
		err := s.checkProvince(ctx, &a, "address")
		if err != nil && len(errs.All(err)) == 0 {
			return nil, err
		}
		for _, p := range errs.All(err) {
			v.Add(p)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.change(ctx, ref, write{columns: columns, set: func(c *Cart) {
		set(c, &a)
		if email != nil {
			c.Email = e
		}
	}}, nil, nil)
}

// ShippingMethods returns the shipping methods that ship the cart to its
// shipping address, with their prices for its lines (their subtotal and
// weight), cheapest first. It needs a shipping address
// (CodeShippingAddressRequired).
func (s *Service) ShippingMethods(ctx context.Context, ref Ref) ([]shipping.Rate, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Cart, authz.Own(authz.Read)); err != nil {
		return nil, err
	}
	c, err := s.reach(ctx, ref, true)
	if err != nil {
		return nil, err
	}
	if c.ShippingAddress == nil {
		return nil, addressRequired()
	}
	if _, err := s.price(ctx, c); err != nil {
		return nil, err
	}
	return slices.Clone(c.rates), nil
}

// ShippingMethodsOf is ShippingMethods of a cart this service returned
// priced (Get, Create and the changes), as it was priced: no second read
// of the cart when a caller shows the cart and its methods together. It
// needs a shipping address (CodeShippingAddressRequired).
func (s *Service) ShippingMethodsOf(ctx context.Context, c *Cart) ([]shipping.Rate, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Cart, authz.Own(authz.Read)); err != nil {
		return nil, err
	}
	if c.ShippingAddress == nil {
		return nil, addressRequired()
	}
	if !c.quoted {
		return nil, errors.New("cart: ShippingMethodsOf needs a cart the service priced")
	}
	return slices.Clone(c.rates), nil
}

// SetShippingMethod chooses how the cart ships: one of the methods
// ShippingMethods offers (CodeShippingMethodUnavailable on methodId
// otherwise). It needs a shipping address.
func (s *Service) SetShippingMethod(ctx context.Context, ref Ref, methodID string) (*Cart, error) {
	if err := s.mayWrite(ctx); err != nil {
		return nil, err
	}
	if strings.TrimSpace(methodID) == "" {
		return nil, errs.Invalid("methodId", CodeRequired, "choose a shipping method")
	}
	// The choice is written with the lock and checked against the cart
	// as priced with it; a refusal rolls the write back.
	return s.change(ctx, ref, write{columns: []string{"shipping_method_id"}, set: func(c *Cart) { c.ShippingMethodID = methodID }}, nil,
		func(ctx context.Context, c *Cart, vs map[string]catalog.CheckoutVariant) error {
			if c.ShippingAddress == nil {
				return addressRequired()
			}
			if _, err := s.priceWith(ctx, c, vs); err != nil {
				return err
			}
			if c.ShippingRate == nil {
				return methodUnavailable("methodId")
			}
			return nil
		})
}

// Complete checks the cart out: in one transaction it prices the cart
// again from the catalog, shipping and tax, places the order
// (order.Place reserves the stock) and marks the cart completed, so the
// order, its stock, the completed cart and the idempotency key commit or
// roll back together.
//
// key is the client's idempotency key (1 to 255 printable ASCII
// characters). A retry with the same key by the same caller naming the
// cart the same way returns the order placed the first time, as it is
// now, access token included, without placing another; the same key for
// another cart is CodeKeyReused of core/idempotency. Keys are the
// caller's own (checkoutScope): another buyer's key of the same text is
// another key. A concurrent retry waits for the first and returns its
// order.
//
// The cart must have lines, an email address, a shipping address and a
// shipping method that ships it, and every line must be buyable as it is:
// all problems are reported at once, with the cart's paths ("email",
// "lines.2.quantity", "shippingMethodId"). Stock taken by another buyer
// meanwhile fails placement with a *catalog.InsufficientStockError
// (INSUFFICIENT_STOCK); nothing is kept then, and the buyer may change
// the cart and try again with another key.
func (s *Service) Complete(ctx context.Context, ref Ref, key string) (*order.Placed, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Cart, authz.Own(authz.Write)); err != nil {
		return nil, err
	}
	if s.placer == nil {
		return nil, errs.Unavailable(CodeCheckoutUnavailable, "checkout is not available on this instance")
	}
	if key == "" {
		return nil, errs.Invalid(idempotency.Field, CodeIdempotencyKeyRequired,
			"send an idempotency key (a new UUID for each checkout) so a retry cannot place the order twice")
	}
	// The order's id and guest token are chosen here, so the key's
	// answer is stored with its claim, before the order's writes lock
	// stock rows (nothing is written to the key after them); a retry
	// reads the order back by them.
	orderID := order.NewID()
	token, err := order.NewAccessToken()
	if err != nil {
		return nil, err
	}
	answer, err := json.Marshal(checkoutAnswer{OrderID: orderID, AccessToken: token})
	if err != nil {
		return nil, fmt.Errorf("cart: encode the checkout's answer: %w", err)
	}
	var placed *order.Placed
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		raw, ran, err := s.keys.DoAnswered(ctx, checkoutScope(ctx, ref), key, checkoutRequest(ctx, ref), answer, func(ctx context.Context) error {
			p, err := s.complete(ctx, ref, orderID, token)
			placed = p
			return err
		})
		if err != nil || ran {
			return err
		}
		// A retry: the order the first call placed, as it is now.
		var a checkoutAnswer
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("cart: read the stored checkout: %w", err)
		}
		if a.OrderID == "" && a.Order != nil { // stored whole, before checkoutAnswer
			a.OrderID = a.Order.ID
		}
		if err := s.reusedOnAnotherCart(ctx, ref); err != nil {
			return err
		}
		if placed, err = s.placer.PlacedAgain(ctx, a.OrderID, a.AccessToken); err != nil {
			return fmt.Errorf("cart: read the order of the stored checkout: %w", err)
		}
		placed.Replayed = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return placed, nil
}

// reusedOnAnotherCart refuses a key sent again by a buyer naming their
// open cart (an empty Ref) when that cart now holds lines. The key was
// bound to "the buyer's open cart", and the cart it checked out is
// completed, so no open cart is the one it placed: a retry of a lost
// answer finds none, or a new empty one, and gets the order back; an
// open cart with lines is another checkout sent with an old key, which
// is refused rather than answered with the old order while the new cart
// stays open.
func (s *Service) reusedOnAnotherCart(ctx context.Context, ref Ref) error {
	if ref.ID != "" || ref.Token != "" {
		return nil // bound to the cart named: checkoutRequest tells carts apart
	}
	c, err := s.store.OpenByCustomer(ctx, customerOf(ctx), true, s.now())
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return nil
	case err != nil:
		return err
	case len(c.Lines) > 0:
		return errs.Conflict(idempotency.Field, idempotency.CodeKeyReused,
			"this idempotency key already placed an order from another cart; send a new key for this one")
	}
	return nil
}

// checkoutAnswer is what Complete's idempotency key stores: the order
// it places and, for a guest, the access token it is read with.
type checkoutAnswer struct {
	OrderID     string `json:"orderId"`
	AccessToken string `json:"accessToken,omitempty"`
	// Order is set in the answers stored before checkoutAnswer (the
	// whole order.Placed, its AccessToken read into AccessToken); they
	// expire within a day of the upgrade.
	Order *struct{ ID string } `json:"Order,omitempty"`
}

// checkoutScope is the scope of Complete's key: the caller's own keys
// (idempotency.OwnerOf), the signed-in buyer's or, for a guest, those of
// the cart token they name, so that two buyers sending the same key never
// meet (no IDEMPOTENCY_KEY_REUSED across buyers); staff and API keys
// share the shop's.
func checkoutScope(ctx context.Context, ref Ref) string {
	return idempotency.Owned(CheckoutScope, idempotency.OwnerOf(ctx, ref.Token))
}

// checkoutRequest is what Complete's idempotency key is bound to: the
// cart as the caller names it and the caller's credential for it (the
// token's hash, or the signed-in buyer). A retry is recognized, and
// answered, only for the same caller naming the same cart; it needs no
// cart lookup, so a buyer naming their open cart (an empty Ref) gets the
// order back although that cart is no longer open.
func checkoutRequest(ctx context.Context, ref Ref) []byte {
	cred := "customer:" + customerOf(ctx)
	if ref.Token != "" {
		cred = "token:" + hashToken(ref.Token)
	}
	return []byte("cart:" + ref.ID + "\n" + cred)
}

// complete is Complete's work, inside the idempotency key's
// transaction: it places order orderID, read by token if a guest's.
func (s *Service) complete(ctx context.Context, ref Ref, orderID, token string) (*order.Placed, error) {
	// The cart is marked completed by the order it will place with its
	// lock, in the same statement: whatever fails below rolls it back.
	now := s.now()
	c, err := s.take(ctx, ref, &Cart{CompletedAt: &now, OrderID: orderID, UpdatedAt: now}, "completed_at", "order_id")
	if err != nil {
		return nil, err
	}
	q, err := s.price(ctx, c)
	if err != nil {
		return nil, err
	}
	var v errs.Validator
	if len(c.Lines) == 0 {
		v.Add(errs.Conflict("lines", CodeCartEmpty, "the cart is empty"))
	}
	if c.Email == "" {
		v.Add(errs.Conflict("email", CodeEmailRequired, "enter an email address"))
	}
	if c.ShippingAddress == nil {
		v.Add(errs.Conflict("shippingAddress", CodeShippingAddressRequired, "enter a shipping address"))
	}
	if c.ShippingMethodID == "" {
		v.Add(errs.Conflict("shippingMethodId", CodeShippingMethodRequired, "choose a shipping method"))
	}
	for _, p := range q.problems {
		v.Add(p)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	in := order.PlaceInput{
		OrderID:            orderID,
		AccessToken:        token,
		CartID:             c.ID,
		Email:              c.Email,
		Currency:           c.Currency,
		ShippingAddress:    *c.ShippingAddress,
		BillingAddress:     *c.ShippingAddress,
		ShippingMethodID:   c.ShippingRate.MethodID,
		ShippingMethodName: c.ShippingRate.Name,
		Totals:             c.Totals,
	}
	if c.CustomerID != nil {
		in.CustomerID = *c.CustomerID
	}
	if c.BillingAddress != nil {
		in.BillingAddress = *c.BillingAddress
	}
	for _, l := range c.Lines {
		in.Lines = append(in.Lines, order.PlaceLine{
			VariantID: l.VariantID, ProductID: l.ProductID, SKU: l.SKU,
			ProductTitle: l.ProductTitle, VariantTitle: l.VariantTitle,
			WeightGrams: l.WeightGrams, Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, Subtotal: l.Subtotal, Discount: l.Discount, Tax: l.Tax, Total: l.Total,
		})
	}
	// A failure fails Complete, whose transaction then rolls back.
	return s.placer.Place(order.RollsBackOnError(ctx), in)
}

func addressRequired() *errs.Error {
	return errs.Conflict("", CodeShippingAddressRequired, "enter a shipping address first")
}

// normalizeEmail trims and lower-cases an address and checks its form
// (package email).
func normalizeEmail(field, address string) (string, error) {
	e, err := email.Normalize(address)
	switch {
	case errors.Is(err, email.ErrTooLong):
		return "", errs.Invalid(field, CodeInvalidEmail, "the email address is too long")
	case err != nil:
		return "", errs.Invalid(field, CodeInvalidEmail, "enter a valid email address")
	}
	return e, nil
}

// normalizeAddress trims an address, upper-cases its country code and
// checks it as the address book does (a street, a city, an ISO 3166-1
// country, no field longer than maxText) and, as a parcel or an invoice
// goes to it, a recipient: a first or last name, or a company. Paths are "address.city".
func normalizeAddress(in order.Address) (order.Address, error) {
	t := strings.TrimSpace
	a := order.Address{
		FirstName: t(in.FirstName), LastName: t(in.LastName), Company: t(in.Company),
		Line1: t(in.Line1), Line2: t(in.Line2), City: t(in.City), Province: t(in.Province),
		PostalCode: t(in.PostalCode), CountryCode: strings.ToUpper(t(in.CountryCode)), Phone: t(in.Phone),
	}
	var v errs.Validator
	for _, f := range []struct{ field, value string }{
		{"firstName", a.FirstName}, {"lastName", a.LastName}, {"company", a.Company}, {"line1", a.Line1},
		{"line2", a.Line2}, {"city", a.City}, {"province", a.Province}, {"postalCode", a.PostalCode}, {"phone", a.Phone},
	} {
		v.Check(utf8.RuneCountInString(f.value) <= maxText, "address."+f.field, CodeTooLong, fmt.Sprintf("use at most %d characters", maxText))
	}
	// A carrier needs someone to hand the parcel to, an invoice someone
	// to bill: one name will do (many buyers write theirs in a single
	// field), or a company's.
	v.Check(a.FirstName != "" || a.LastName != "" || a.Company != "", "address.lastName", CodeRequired,
		"the recipient's name (or company) is required")
	v.Check(a.Line1 != "", "address.line1", CodeRequired, "the street address is required")
	v.Check(a.City != "", "address.city", CodeRequired, "the city is required")
	v.Check(country.Valid(a.CountryCode), "address.countryCode", CodeInvalidCountry,
		"the country is an ISO 3166-1 alpha-2 code such as CN or US")
	return a, v.Err()
}
