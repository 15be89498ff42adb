package resolver

import (
	"context"
	"errors"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/shipping"
)

// cartResolver resolves Cart over a cart the service priced: every field
// is a plain getter over it (ADR 0008, DESIGN.md
// "GraphQL conventions": the lines are a list, so their fields must not
// start goroutines). ref is how the caller reached the cart, for the
// shipping quote.
type cartResolver struct {
	svc   *cart.Service
	c     *cart.Cart
	ref   cart.Ref
	lines []*cartLineResolver
	// rates are the shipping methods, read by the resolver that made
	// this one (Query.cart); payloadCart reads its own.
	rates []*shippingRate
}

// newCart resolves c, reached by ref. A buyer's cart reached as their
// open cart is named by its id from then on, so a later field reads the
// same cart even if the buyer's open cart changes meanwhile.
func newCart(svc *cart.Service, c *cart.Cart, ref cart.Ref) *cartResolver {
	if c == nil {
		return nil
	}
	if ref.Token == "" {
		ref.ID = c.ID
	}
	r := &cartResolver{svc: svc, c: c, ref: ref, lines: make([]*cartLineResolver, len(c.Lines))}
	for i, l := range c.Lines {
		r.lines[i] = &cartLineResolver{l: l}
	}
	return r
}

func (r *cartResolver) ID() gql.ID                 { return gql.ID(r.c.ID) }
func (r *cartResolver) CurrencyCode() string       { return r.c.Currency.Code() }
func (r *cartResolver) Lines() []*cartLineResolver { return r.lines }

func (r *cartResolver) TotalQuantity() int32 {
	var n int64
	for _, l := range r.c.Lines {
		n += l.Quantity
	}
	return clampInt32(n)
}

func (r *cartResolver) Email() *string {
	if r.c.Email == "" {
		return nil
	}
	return &r.c.Email
}

func (r *cartResolver) ShippingAddress() *cartAddress { return newCartAddress(r.c.ShippingAddress) }
func (r *cartResolver) BillingAddress() *cartAddress  { return newCartAddress(r.c.BillingAddress) }

// ShippingMethods resolves Cart.shippingMethods over the quote the
// parent read (quoteOf): Query.cart reads it with the cart. Without a
// shipping address no method ships the cart, so the list is empty.
func (r *cartResolver) ShippingMethods() []*shippingRate { return r.rates }

// quoteOf reads the shipping methods of c, a cart the service priced:
// empty without a shipping address.
func quoteOf(ctx context.Context, svc *cart.Service, c *cart.Cart) ([]*shippingRate, error) {
	rates, err := svc.ShippingMethodsOf(ctx, c)
	var e *errs.Error
	if errors.As(err, &e) && e.Code == cart.CodeShippingAddressRequired {
		return []*shippingRate{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]*shippingRate, len(rates))
	for i := range rates {
		out[i] = &shippingRate{r: rates[i]}
	}
	return out, nil
}

// payloadCart resolves the Cart of a mutation's payload. Its shipping
// methods are read when asked for (rarely: a storefront reads the cart
// with Query.cart after changing it), with the caller's read
// permission on carts checked then, and a refusal or failure being
// the field's error as the schema has always answered it; its other
// fields are cartResolver's plain getters.
type payloadCart struct{ *cartResolver }

func payloadCartOf(r *cartResolver) *payloadCart {
	if r == nil {
		return nil
	}
	return &payloadCart{r}
}

// ShippingMethods quotes the cart's shipping for a payload.
func (r *payloadCart) ShippingMethods(ctx context.Context) ([]*shippingRate, error) {
	return quoteOf(ctx, r.svc, r.c)
}

func (r *cartResolver) ShippingMethodID() *gql.ID {
	if r.c.ShippingMethodID == "" {
		return nil
	}
	id := gql.ID(r.c.ShippingMethodID)
	return &id
}

func (r *cartResolver) ShippingMethod() *shippingRate {
	if r.c.ShippingRate == nil {
		return nil
	}
	return &shippingRate{r: *r.c.ShippingRate}
}

func (r *cartResolver) Subtotal() *moneyResolver      { return newMoney(r.c.Totals.Subtotal) }
func (r *cartResolver) Shipping() *moneyResolver      { return newMoney(r.c.Totals.Shipping) }
func (r *cartResolver) Tax() *moneyResolver           { return newMoney(r.c.Totals.Tax) }
func (r *cartResolver) TaxIncluded() bool             { return r.c.Totals.TaxIncluded }
func (r *cartResolver) Discounts() []*cartAdjustment  { return newCartAdjustments(r.c.Totals.Discounts) }
func (r *cartResolver) DiscountTotal() *moneyResolver { return newMoney(r.c.Totals.DiscountTotal) }
func (r *cartResolver) Total() *moneyResolver         { return newMoney(r.c.Totals.Total) }

func (r *cartResolver) CompletedAt() *catalogTime {
	if r.c.CompletedAt == nil {
		return nil
	}
	return &catalogTime{*r.c.CompletedAt}
}

func (r *cartResolver) CreatedAt() catalogTime { return catalogTime{r.c.CreatedAt} }
func (r *cartResolver) UpdatedAt() catalogTime { return catalogTime{r.c.UpdatedAt} }

// cartLineResolver resolves CartLine: plain getters over a priced line.
type cartLineResolver struct{ l *cart.Line }

func (r *cartLineResolver) ID() gql.ID                { return gql.ID(r.l.ID) }
func (r *cartLineResolver) VariantID() gql.ID         { return gql.ID(r.l.VariantID) }
func (r *cartLineResolver) ProductID() string         { return r.l.ProductID }
func (r *cartLineResolver) SKU() string               { return r.l.SKU }
func (r *cartLineResolver) ProductTitle() string      { return r.l.ProductTitle }
func (r *cartLineResolver) VariantTitle() string      { return r.l.VariantTitle }
func (r *cartLineResolver) ProductHandle() string     { return r.l.ProductHandle }
func (r *cartLineResolver) Quantity() int32           { return clampInt32(r.l.Quantity) }
func (r *cartLineResolver) AvailableQuantity() int32  { return clampInt32(r.l.Available) }
func (r *cartLineResolver) UnitPrice() *moneyResolver { return newMoney(r.l.UnitPrice) }
func (r *cartLineResolver) Subtotal() *moneyResolver  { return newMoney(r.l.Subtotal) }
func (r *cartLineResolver) Discount() *moneyResolver  { return newMoney(r.l.Discount) }
func (r *cartLineResolver) Tax() *moneyResolver       { return newMoney(r.l.Tax) }
func (r *cartLineResolver) Total() *moneyResolver     { return newMoney(r.l.Total) }

func (r *cartLineResolver) SelectedOptions() []*selectedOption {
	rs := make([]selectedOption, len(r.l.SelectedOptions))
	out := make([]*selectedOption, len(rs))
	for i, o := range r.l.SelectedOptions {
		rs[i] = selectedOption{Name: o.Name, Value: o.Value}
		out[i] = &rs[i]
	}
	return out
}

func (r *cartLineResolver) Problem() *string {
	if r.l.Problem == "" {
		return nil
	}
	return &r.l.Problem
}

// shippingRate resolves ShippingRate.
type shippingRate struct{ r shipping.Rate }

func (r *shippingRate) MethodID() gql.ID      { return gql.ID(r.r.MethodID) }
func (r *shippingRate) Name() string          { return r.r.Name }
func (r *shippingRate) Price() *moneyResolver { return newMoney(r.r.Price) }

// cartAddress resolves Address over an address of a cart.
type cartAddress struct{ a *order.Address }

func newCartAddress(a *order.Address) *cartAddress {
	if a == nil {
		return nil
	}
	return &cartAddress{a: a}
}

func (r *cartAddress) FirstName() string   { return r.a.FirstName }
func (r *cartAddress) LastName() string    { return r.a.LastName }
func (r *cartAddress) Company() string     { return r.a.Company }
func (r *cartAddress) Line1() string       { return r.a.Line1 }
func (r *cartAddress) Line2() string       { return r.a.Line2 }
func (r *cartAddress) City() string        { return r.a.City }
func (r *cartAddress) Province() string    { return r.a.Province }
func (r *cartAddress) PostalCode() string  { return r.a.PostalCode }
func (r *cartAddress) CountryCode() string { return r.a.CountryCode }
func (r *cartAddress) Phone() string       { return r.a.Phone }

// cartAddressOf converts the address input of a cart mutation; the cart
// service trims and checks it.
func cartAddressOf(in addressInput) order.Address {
	return order.Address{FirstName: str(in.FirstName), LastName: str(in.LastName), Company: str(in.Company),
		Line1: in.Line1, Line2: str(in.Line2), City: in.City, Province: str(in.Province), PostalCode: str(in.PostalCode),
		CountryCode: in.CountryCode, Phone: str(in.Phone)}
}

// cartAdjustment resolves Adjustment.
type cartAdjustment struct{ a pricing.Adjustment }

func newCartAdjustments(as []pricing.Adjustment) []*cartAdjustment {
	out := make([]*cartAdjustment, len(as))
	for i := range as {
		out[i] = &cartAdjustment{a: as[i]}
	}
	return out
}

func (r *cartAdjustment) Kind() string           { return string(r.a.Kind) }
func (r *cartAdjustment) Code() string           { return r.a.Code }
func (r *cartAdjustment) Label() string          { return r.a.Label }
func (r *cartAdjustment) Amount() *moneyResolver { return newMoney(r.a.Amount) }

type cartCreatePayload struct {
	cart       *payloadCart
	token      *string
	userErrors []*userError
}

func (p *cartCreatePayload) Cart() *payloadCart       { return p.cart }
func (p *cartCreatePayload) Token() *string           { return p.token }
func (p *cartCreatePayload) UserErrors() []*userError { return p.userErrors }

type cartPayload struct {
	cart       *payloadCart
	userErrors []*userError
}

func (p *cartPayload) Cart() *payloadCart       { return p.cart }
func (p *cartPayload) UserErrors() []*userError { return p.userErrors }

type checkoutCompletePayload struct {
	order       *orderResolver
	accessToken *string
	userErrors  []*userError
}

func (p *checkoutCompletePayload) Order() *orderResolver    { return p.order }
func (p *checkoutCompletePayload) AccessToken() *string     { return p.accessToken }
func (p *checkoutCompletePayload) UserErrors() []*userError { return p.userErrors }
