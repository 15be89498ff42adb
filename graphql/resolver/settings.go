package resolver

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/tax"
)

// settingsOperations lists the operations of the shop settings, shipping
// and tax with the permission each needs (shop.Service, shipping.Service
// and tax.Service enforce them). shopSettings is open to everyone; its
// staff-only fields need settings read (shop.Service.CanReadPrivate).
var settingsOperations = map[string]Permission{
	"Query.shopSettings": public,

	"Query.countrySubdivisions": public,
	"Query.shippingCountries":   public,
	"Query.shippingZones":       {authz.Settings, authz.Read},
	"Query.taxRates":            {authz.Settings, authz.Read},

	"Mutation.shopSettingsUpdate":   {authz.Settings, authz.Write},
	"Mutation.shippingZoneCreate":   {authz.Settings, authz.Write},
	"Mutation.shippingZoneUpdate":   {authz.Settings, authz.Write},
	"Mutation.shippingZoneDelete":   {authz.Settings, authz.Write},
	"Mutation.shippingMethodCreate": {authz.Settings, authz.Write},
	"Mutation.shippingMethodUpdate": {authz.Settings, authz.Write},
	"Mutation.shippingMethodDelete": {authz.Settings, authz.Write},
	"Mutation.taxRateCreate":        {authz.Settings, authz.Write},
	"Mutation.taxRateUpdate":        {authz.Settings, authz.Write},
	"Mutation.taxRateDelete":        {authz.Settings, authz.Write},
}

// settingsCache: the public part of shopSettings answers every guest and
// buyer alike (its staff-only fields refuse them with an error, and
// answers with errors are never cached), until the shop says its settings
// changed.
var settingsCache = CachePolicy{
	Fields:   []string{"shopSettings"},
	Subjects: shop.CacheSubjects(),
}

// settingsRoot resolves the settings, shipping and tax operations.
type settingsRoot struct {
	shop     *shop.Service
	shipping *shipping.Service
	tax      *tax.Service
}

// ---- reference data ----

// countrySubdivision resolves CountrySubdivision.
type countrySubdivision struct{ s country.SubdivisionName }

func (c countrySubdivision) Code() string { return c.s.Code }
func (c countrySubdivision) Name() string { return c.s.Name }

// CountrySubdivisions resolves Query.countrySubdivisions: reference data,
// the same lists the storefront's address forms suggest.
func (r *settingsRoot) CountrySubdivisions(args struct {
	CountryCode string
	// Language is a pointer without a schema default: graph-gophers
	// gives an argument with a default null, not the default, when a
	// variable standing for it is left out.
	Language *string
}) ([]countrySubdivision, error) {
	code := strings.ToUpper(strings.TrimSpace(args.CountryCode))
	if !country.Valid(code) {
		return nil, errs.Invalid("countryCode", "INVALID_COUNTRY", "countryCode is an ISO 3166-1 alpha-2 code such as CN or US")
	}
	lang := "en"
	if args.Language != nil {
		lang = *args.Language
	}
	list := country.Subdivisions(code, lang)
	out := make([]countrySubdivision, len(list))
	for i, s := range list {
		out[i] = countrySubdivision{s}
	}
	return out, nil
}

// ShippingCountries resolves Query.shippingCountries: the countries a
// storefront's address form offers, as every buyer's checkout would quote
// them.
func (r *settingsRoot) ShippingCountries(ctx context.Context, args struct{ Currency *string }) ([]string, error) {
	var cur money.Currency
	if args.Currency == nil {
		s, err := r.shop.Settings(ctx)
		if err != nil {
			return nil, err
		}
		cur = s.DefaultCurrency()
	} else {
		c, err := money.ParseCurrency(strings.TrimSpace(*args.Currency))
		if err != nil {
			// The input is not quoted back: it may be long.
			return nil, errs.Invalid("currency", "INVALID_CURRENCY", "currency is an ISO 4217 code such as CNY or USD")
		}
		cur = c
	}
	return r.shipping.Countries(ctx, cur)
}

// ---- shop settings ----

// ShopSettings resolves Query.shopSettings.
func (r *settingsRoot) ShopSettings(ctx context.Context) (*shopSettingsResolver, error) {
	s, err := r.shop.Settings(ctx)
	if err != nil {
		return nil, err
	}
	return &shopSettingsResolver{s: s, svc: r.shop}, nil
}

// shopSettingsResolver resolves ShopSettings. The staff-only fields ask
// the service once per object, however many of them are selected.
type shopSettingsResolver struct {
	s   *shop.Settings
	svc *shop.Service

	once       sync.Once
	privateErr error
}

func (r *shopSettingsResolver) private(ctx context.Context) error {
	r.once.Do(func() { r.privateErr = r.svc.CanReadPrivate(ctx) })
	return r.privateErr
}

func (r *shopSettingsResolver) Currencies() []string {
	out := make([]string, len(r.s.Currencies))
	for i, c := range r.s.Currencies {
		out[i] = c.Code()
	}
	return out
}

func (r *shopSettingsResolver) DefaultCurrency() string { return r.s.DefaultCurrency().Code() }
func (r *shopSettingsResolver) PricesIncludeTax() bool  { return r.s.PricesIncludeTax }

func (r *shopSettingsResolver) PaymentDeadlineSeconds(ctx context.Context) (*int32, error) {
	return r.seconds(ctx, r.s.PaymentDeadline)
}

func (r *shopSettingsResolver) ReminderLeadSeconds(ctx context.Context) (*int32, error) {
	return r.seconds(ctx, r.s.ReminderLead)
}

func (r *shopSettingsResolver) seconds(ctx context.Context, d time.Duration) (*int32, error) {
	if err := r.private(ctx); err != nil {
		return nil, err
	}
	n := clampInt32(int64(d / time.Second))
	return &n, nil
}

func (r *shopSettingsResolver) OrderNumberPrefix(ctx context.Context) (*string, error) {
	if err := r.private(ctx); err != nil {
		return nil, err
	}
	return &r.s.OrderNumberPrefix, nil
}

func (r *shopSettingsResolver) LineQuantityLimit(ctx context.Context) (*int32, error) {
	if err := r.private(ctx); err != nil {
		return nil, err
	}
	n := clampInt32(r.s.LineQuantityLimit)
	return &n, nil
}

func (r *shopSettingsResolver) UnpaidOrdersPerBuyer(ctx context.Context) (*int32, error) {
	if err := r.private(ctx); err != nil {
		return nil, err
	}
	n := clampInt32(r.s.UnpaidOrdersPerBuyer)
	return &n, nil
}

func (r *shopSettingsResolver) RefundCancelledOrderPayments(ctx context.Context) (*bool, error) {
	if err := r.private(ctx); err != nil {
		return nil, err
	}
	return &r.s.RefundCancelledOrderPayments, nil
}

func (r *shopSettingsResolver) PaymentMethodOrder(ctx context.Context) (*[]string, error) {
	if err := r.private(ctx); err != nil {
		return nil, err
	}
	ids := slices.Clone(r.s.PaymentMethodOrder)
	if ids == nil {
		ids = []string{}
	}
	return &ids, nil
}

func (r *shopSettingsResolver) PaymentCaptureMode(ctx context.Context) (*string, error) {
	if err := r.private(ctx); err != nil {
		return nil, err
	}
	m := string(r.s.PaymentCaptureMode)
	return &m, nil
}

func (r *shopSettingsResolver) StorefrontOrigins(ctx context.Context) (*[]string, error) {
	if err := r.private(ctx); err != nil {
		return nil, err
	}
	origins := slices.Clone(r.s.StorefrontOrigins)
	if origins == nil {
		origins = []string{}
	}
	return &origins, nil
}

func (r *shopSettingsResolver) UpdatedAt(ctx context.Context) (*catalogTime, error) {
	if err := r.private(ctx); err != nil || r.s.UpdatedAt.IsZero() {
		return nil, err
	}
	return &catalogTime{r.s.UpdatedAt}, nil
}

type shopSettingsUpdateInput struct {
	Currencies             *[]string
	PaymentDeadlineSeconds *int32
	ReminderLeadSeconds    *int32
	OrderNumberPrefix      *string
	LineQuantityLimit      *int32
	UnpaidOrdersPerBuyer   *int32
	PricesIncludeTax       *bool
	// RefundCancelledOrderPayments and PaymentMethodOrder are the
	// payments' settings; shop.Service validates the ids (well-formed,
	// no repeats, at most shop.MaxPaymentMethods).
	RefundCancelledOrderPayments *bool
	PaymentMethodOrder           *[]string
	// PaymentCaptureMode and StorefrontOrigins too: shop.Service checks
	// the origins (http(s), no path, no repeats).
	PaymentCaptureMode *string
	StorefrontOrigins  *[]string
}

// shopFieldNames maps the service's field names to the input's where they
// differ: the service takes durations, GraphQL whole seconds.
var shopFieldNames = map[string]string{
	"paymentDeadline": "paymentDeadlineSeconds",
	"reminderLead":    "reminderLeadSeconds",
}

type shopSettingsPayload struct {
	settings   *shopSettingsResolver
	userErrors []*userError
}

func (p *shopSettingsPayload) ShopSettings() *shopSettingsResolver { return p.settings }
func (p *shopSettingsPayload) UserErrors() []*userError            { return p.userErrors }

// ShopSettingsUpdate resolves Mutation.shopSettingsUpdate.
func (r *settingsRoot) ShopSettingsUpdate(ctx context.Context, args struct{ Input shopSettingsUpdateInput }) (*shopSettingsPayload, error) {
	in := args.Input
	up := shop.UpdateSettingsInput{Currencies: in.Currencies, OrderNumberPrefix: in.OrderNumberPrefix, PricesIncludeTax: in.PricesIncludeTax,
		RefundCancelledOrderPayments: in.RefundCancelledOrderPayments, PaymentMethodOrder: in.PaymentMethodOrder,
		StorefrontOrigins: in.StorefrontOrigins}
	if in.PaymentCaptureMode != nil {
		m := shop.CaptureMode(*in.PaymentCaptureMode)
		up.PaymentCaptureMode = &m
	}
	if in.PaymentDeadlineSeconds != nil {
		d := time.Duration(*in.PaymentDeadlineSeconds) * time.Second
		up.PaymentDeadline = &d
	}
	if in.ReminderLeadSeconds != nil {
		d := time.Duration(*in.ReminderLeadSeconds) * time.Second
		up.ReminderLead = &d
	}
	if in.LineQuantityLimit != nil {
		n := int64(*in.LineQuantityLimit)
		up.LineQuantityLimit = &n
	}
	if in.UnpaidOrdersPerBuyer != nil {
		n := int64(*in.UnpaidOrdersPerBuyer)
		up.UnpaidOrdersPerBuyer = &n
	}
	s, err := r.shop.Update(ctx, up)
	ues, err := splitUserErrors(err)
	if err != nil {
		return nil, err
	}
	for _, u := range ues {
		if len(u.e.Field) > 1 {
			if name, ok := shopFieldNames[u.e.Field[1]]; ok {
				u.e.Field = slices.Clone(u.e.Field)
				u.e.Field[1] = name
			}
		}
	}
	out := &shopSettingsPayload{userErrors: ues}
	if len(ues) == 0 {
		out.settings = &shopSettingsResolver{s: s, svc: r.shop}
	}
	return out, nil
}

// ---- shipping ----

// ShippingZones resolves Query.shippingZones.
func (r *settingsRoot) ShippingZones(ctx context.Context) ([]*shippingZoneResolver, error) {
	zones, err := r.shipping.Zones(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*shippingZoneResolver, len(zones))
	for i, z := range zones {
		out[i] = &shippingZoneResolver{z: z}
	}
	return out, nil
}

// shippingZoneResolver resolves ShippingZone; its methods come loaded.
type shippingZoneResolver struct{ z *shipping.Zone }

func (r *shippingZoneResolver) ID() gql.ID             { return gql.ID(r.z.ID) }
func (r *shippingZoneResolver) Name() string           { return r.z.Name }
func (r *shippingZoneResolver) Countries() []string    { return r.z.Countries }
func (r *shippingZoneResolver) Regions() []string      { return r.z.Regions }
func (r *shippingZoneResolver) CreatedAt() catalogTime { return catalogTime{r.z.CreatedAt} }
func (r *shippingZoneResolver) UpdatedAt() catalogTime { return catalogTime{r.z.UpdatedAt} }

func (r *shippingZoneResolver) Methods() []*shippingMethodResolver {
	out := make([]*shippingMethodResolver, len(r.z.Methods))
	for i, m := range r.z.Methods {
		out[i] = &shippingMethodResolver{m: m}
	}
	return out
}

// shippingMethodResolver resolves ShippingMethod.
type shippingMethodResolver struct{ m *shipping.Method }

func (r *shippingMethodResolver) ID() gql.ID             { return gql.ID(r.m.ID) }
func (r *shippingMethodResolver) ZoneID() gql.ID         { return gql.ID(r.m.ZoneID) }
func (r *shippingMethodResolver) Name() string           { return r.m.Name }
func (r *shippingMethodResolver) Kind() string           { return string(r.m.Kind) }
func (r *shippingMethodResolver) Active() bool           { return r.m.Active }
func (r *shippingMethodResolver) Position() int32        { return clampInt32(int64(r.m.Position)) }
func (r *shippingMethodResolver) CreatedAt() catalogTime { return catalogTime{r.m.CreatedAt} }
func (r *shippingMethodResolver) UpdatedAt() catalogTime { return catalogTime{r.m.UpdatedAt} }

func (r *shippingMethodResolver) Prices() []*shippingPriceResolver {
	out := make([]*shippingPriceResolver, len(r.m.Prices))
	for i := range r.m.Prices {
		out[i] = &shippingPriceResolver{p: &r.m.Prices[i]}
	}
	return out
}

// shippingPriceResolver resolves ShippingMethodPrice. A Money without a
// currency is a field the method's kind does not use: null.
type shippingPriceResolver struct{ p *shipping.MethodPrice }

func (r *shippingPriceResolver) CurrencyCode() string { return r.p.Currency.Code() }

func (r *shippingPriceResolver) Amount() *moneyResolver {
	if r.p.Amount.Currency().IsZero() {
		return nil
	}
	return newMoney(r.p.Amount)
}

func (r *shippingPriceResolver) FreeOver() *moneyResolver {
	if r.p.FreeOver.Currency().IsZero() {
		return nil
	}
	return newMoney(r.p.FreeOver)
}

func (r *shippingPriceResolver) Bands() []*shippingBandResolver {
	out := make([]*shippingBandResolver, len(r.p.Bands))
	for i := range r.p.Bands {
		out[i] = &shippingBandResolver{b: &r.p.Bands[i]}
	}
	return out
}

// shippingBandResolver resolves ShippingWeightBand.
type shippingBandResolver struct{ b *shipping.WeightBand }

func (r *shippingBandResolver) Price() *moneyResolver { return newMoney(r.b.Price) }

func (r *shippingBandResolver) MaxGrams() *int32 {
	if r.b.MaxGrams == nil {
		return nil
	}
	n := clampInt32(*r.b.MaxGrams)
	return &n
}

type shippingZoneCreateInput struct {
	Name      string
	Countries []string
	Regions   *[]string
}

type shippingZoneUpdateInput struct {
	ID        gql.ID
	Name      *string
	Countries *[]string
	Regions   *[]string
}

type shippingWeightBandInput struct {
	MaxGrams *int32
	Amount   string
}

type shippingMethodPriceInput struct {
	CurrencyCode string
	Amount       *string
	FreeOver     *string
	Bands        *[]shippingWeightBandInput
}

type shippingMethodCreateInput struct {
	ZoneID   gql.ID
	Name     string
	Kind     string
	Prices   []shippingMethodPriceInput
	Active   *bool
	Position *int32
}

type shippingMethodUpdateInput struct {
	ID       gql.ID
	Name     *string
	Kind     *string
	Prices   *[]shippingMethodPriceInput
	Active   *bool
	Position *int32
}

// settingsIDInput is the input of the delete mutations.
type settingsIDInput struct{ ID gql.ID }

func shippingPrices(in []shippingMethodPriceInput) []shipping.MethodPriceInput {
	out := make([]shipping.MethodPriceInput, len(in))
	for i, p := range in {
		out[i] = shipping.MethodPriceInput{Currency: p.CurrencyCode, Amount: catStr(p.Amount), FreeOver: catStr(p.FreeOver)}
		if p.Bands != nil {
			out[i].Bands = make([]shipping.WeightBandInput, len(*p.Bands))
			for j, b := range *p.Bands {
				out[i].Bands[j] = shipping.WeightBandInput{Amount: b.Amount}
				if b.MaxGrams != nil {
					g := int64(*b.MaxGrams)
					out[i].Bands[j].MaxGrams = &g
				}
			}
		}
	}
	return out
}

func intPtr(p *int32) *int {
	if p == nil {
		return nil
	}
	n := int(*p)
	return &n
}

// onID points a not-found error without a field at the input's id: the
// services take the id beside their input, so their paths cannot name it.
func onID(err error) error {
	var e *errs.Error
	if errors.As(err, &e) && errors.Is(e, errs.ErrNotFound) && len(e.Field) == 0 && len(errs.All(err)) == 1 {
		return e.WithField("id")
	}
	return err
}

type shippingZonePayload struct {
	zone       *shippingZoneResolver
	deletedID  *gql.ID
	userErrors []*userError
}

func (p *shippingZonePayload) ShippingZone() *shippingZoneResolver { return p.zone }
func (p *shippingZonePayload) DeletedShippingZoneID() *gql.ID      { return p.deletedID }
func (p *shippingZonePayload) UserErrors() []*userError            { return p.userErrors }

func newShippingZonePayload(z *shipping.Zone, err error) (*shippingZonePayload, error) {
	ues, err := splitUserErrors(onID(err))
	if err != nil {
		return nil, err
	}
	out := &shippingZonePayload{userErrors: ues}
	if len(ues) == 0 && z != nil {
		out.zone = &shippingZoneResolver{z: z}
	}
	return out, nil
}

// ShippingZoneCreate resolves Mutation.shippingZoneCreate.
func (r *settingsRoot) ShippingZoneCreate(ctx context.Context, args struct{ Input shippingZoneCreateInput }) (*shippingZonePayload, error) {
	in := shipping.ZoneInput{Name: args.Input.Name, Countries: args.Input.Countries}
	if args.Input.Regions != nil {
		in.Regions = *args.Input.Regions
	}
	z, err := r.shipping.CreateZone(ctx, in)
	return newShippingZonePayload(z, err)
}

// ShippingZoneUpdate resolves Mutation.shippingZoneUpdate.
func (r *settingsRoot) ShippingZoneUpdate(ctx context.Context, args struct{ Input shippingZoneUpdateInput }) (*shippingZonePayload, error) {
	in := args.Input
	z, err := r.shipping.UpdateZone(ctx, string(in.ID), shipping.UpdateZoneInput{Name: in.Name, Countries: in.Countries, Regions: in.Regions})
	return newShippingZonePayload(z, err)
}

// ShippingZoneDelete resolves Mutation.shippingZoneDelete.
func (r *settingsRoot) ShippingZoneDelete(ctx context.Context, args struct{ Input settingsIDInput }) (*shippingZonePayload, error) {
	out, err := newShippingZonePayload(nil, r.shipping.DeleteZone(ctx, string(args.Input.ID)))
	if err == nil && len(out.userErrors) == 0 {
		out.deletedID = &args.Input.ID
	}
	return out, err
}

type shippingMethodPayload struct {
	method     *shippingMethodResolver
	deletedID  *gql.ID
	userErrors []*userError
}

func (p *shippingMethodPayload) ShippingMethod() *shippingMethodResolver { return p.method }
func (p *shippingMethodPayload) DeletedShippingMethodID() *gql.ID        { return p.deletedID }
func (p *shippingMethodPayload) UserErrors() []*userError                { return p.userErrors }

func newShippingMethodPayload(m *shipping.Method, err error) (*shippingMethodPayload, error) {
	ues, err := splitUserErrors(onID(err))
	if err != nil {
		return nil, err
	}
	out := &shippingMethodPayload{userErrors: ues}
	if len(ues) == 0 && m != nil {
		out.method = &shippingMethodResolver{m: m}
	}
	return out, nil
}

// ShippingMethodCreate resolves Mutation.shippingMethodCreate.
func (r *settingsRoot) ShippingMethodCreate(ctx context.Context, args struct{ Input shippingMethodCreateInput }) (*shippingMethodPayload, error) {
	in := args.Input
	m, err := r.shipping.CreateMethod(ctx, shipping.MethodInput{
		ZoneID: string(in.ZoneID), Name: in.Name, Kind: shipping.MethodKind(in.Kind), Prices: shippingPrices(in.Prices),
		Active: in.Active, Position: intPtr(in.Position),
	})
	// The zone is named by the input: its not-found error has its field.
	return newShippingMethodPayload(m, err)
}

// ShippingMethodUpdate resolves Mutation.shippingMethodUpdate.
func (r *settingsRoot) ShippingMethodUpdate(ctx context.Context, args struct{ Input shippingMethodUpdateInput }) (*shippingMethodPayload, error) {
	in := args.Input
	up := shipping.UpdateMethodInput{Name: in.Name, Active: in.Active, Position: intPtr(in.Position)}
	if in.Kind != nil {
		k := shipping.MethodKind(*in.Kind)
		up.Kind = &k
	}
	if in.Prices != nil {
		p := shippingPrices(*in.Prices)
		up.Prices = &p
	}
	m, err := r.shipping.UpdateMethod(ctx, string(in.ID), up)
	return newShippingMethodPayload(m, err)
}

// ShippingMethodDelete resolves Mutation.shippingMethodDelete.
func (r *settingsRoot) ShippingMethodDelete(ctx context.Context, args struct{ Input settingsIDInput }) (*shippingMethodPayload, error) {
	out, err := newShippingMethodPayload(nil, r.shipping.DeleteMethod(ctx, string(args.Input.ID)))
	if err == nil && len(out.userErrors) == 0 {
		out.deletedID = &args.Input.ID
	}
	return out, err
}

// ---- tax ----

// TaxRates resolves Query.taxRates.
func (r *settingsRoot) TaxRates(ctx context.Context) ([]*taxRateResolver, error) {
	rates, err := r.tax.ListRates(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*taxRateResolver, len(rates))
	for i, t := range rates {
		out[i] = &taxRateResolver{r: t}
	}
	return out, nil
}

// taxRateResolver resolves TaxRate.
type taxRateResolver struct{ r *tax.Rate }

func (r *taxRateResolver) ID() gql.ID             { return gql.ID(r.r.ID) }
func (r *taxRateResolver) Country() string        { return r.r.Country }
func (r *taxRateResolver) Region() string         { return r.r.Region }
func (r *taxRateResolver) Name() string           { return r.r.Name }
func (r *taxRateResolver) BasisPoints() int32     { return clampInt32(r.r.BasisPoints) }
func (r *taxRateResolver) CreatedAt() catalogTime { return catalogTime{r.r.CreatedAt} }
func (r *taxRateResolver) UpdatedAt() catalogTime { return catalogTime{r.r.UpdatedAt} }

type taxRateCreateInput struct {
	Country     string
	Region      *string
	Name        string
	BasisPoints int32
}

type taxRateUpdateInput struct {
	ID          gql.ID
	Country     *string
	Region      *string
	Name        *string
	BasisPoints *int32
}

type taxRatePayload struct {
	rate       *taxRateResolver
	deletedID  *gql.ID
	userErrors []*userError
}

func (p *taxRatePayload) TaxRate() *taxRateResolver { return p.rate }
func (p *taxRatePayload) DeletedTaxRateID() *gql.ID { return p.deletedID }
func (p *taxRatePayload) UserErrors() []*userError  { return p.userErrors }

func newTaxRatePayload(t *tax.Rate, err error) (*taxRatePayload, error) {
	ues, err := splitUserErrors(onID(err))
	if err != nil {
		return nil, err
	}
	out := &taxRatePayload{userErrors: ues}
	if len(ues) == 0 && t != nil {
		out.rate = &taxRateResolver{r: t}
	}
	return out, nil
}

// TaxRateCreate resolves Mutation.taxRateCreate.
func (r *settingsRoot) TaxRateCreate(ctx context.Context, args struct{ Input taxRateCreateInput }) (*taxRatePayload, error) {
	in := args.Input
	t, err := r.tax.CreateRate(ctx, tax.RateInput{Country: in.Country, Region: catStr(in.Region), Name: in.Name, BasisPoints: int64(in.BasisPoints)})
	return newTaxRatePayload(t, err)
}

// TaxRateUpdate resolves Mutation.taxRateUpdate.
func (r *settingsRoot) TaxRateUpdate(ctx context.Context, args struct{ Input taxRateUpdateInput }) (*taxRatePayload, error) {
	in := args.Input
	up := tax.UpdateRateInput{Country: in.Country, Region: in.Region, Name: in.Name}
	if in.BasisPoints != nil {
		n := int64(*in.BasisPoints)
		up.BasisPoints = &n
	}
	t, err := r.tax.UpdateRate(ctx, string(in.ID), up)
	return newTaxRatePayload(t, err)
}

// TaxRateDelete resolves Mutation.taxRateDelete.
func (r *settingsRoot) TaxRateDelete(ctx context.Context, args struct{ Input settingsIDInput }) (*taxRatePayload, error) {
	out, err := newTaxRatePayload(nil, r.tax.DeleteRate(ctx, string(args.Input.ID)))
	if err == nil && len(out.userErrors) == 0 {
		out.deletedID = &args.Input.ID
	}
	return out, err
}
