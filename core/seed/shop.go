package seed

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/tax"
)

// ShopServices are what DemoShop writes through: the staff's side of the
// settings, shipping and tax, so the demo obeys the rules staff do.
type ShopServices struct {
	Shop     *shop.Service
	Shipping *shipping.Service
	Tax      *tax.Service
}

// ShopResult says what DemoShop did.
type ShopResult struct {
	// SettingsSaved is true when the shop's settings were set: only a
	// shop whose staff never saved any gets the demo's.
	SettingsSaved bool
	// Zones, Methods and TaxRates are how many were created by this run.
	Zones, Methods, TaxRates int
}

// LogValue implements slog.LogValuer.
func (r ShopResult) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("settings_saved", r.SettingsSaved), slog.Int("zones", r.Zones),
		slog.Int("methods", r.Methods), slog.Int("tax_rates", r.TaxRates))
}

// The demo shop sells from China, in the catalog's currencies: CNY first
// (the default), USD for buyers abroad. Its prices, like most shelf prices
// in China, include tax: 13 % VAT at home, the destination's VAT or GST
// abroad where the shop collects it.
var demoCurrencies = []string{"CNY", "USD"}

// demoZone is a shipping zone of the demo shop and its methods.
type demoZone struct {
	name      string
	countries []string
	methods   []shipping.MethodInput
}

// flat is a FLAT method priced in both currencies.
func flat(name, cny, usd string) shipping.MethodInput {
	return shipping.MethodInput{Name: name, Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{
		{Currency: "CNY", Amount: cny}, {Currency: "USD", Amount: usd}}}
}

// demoZones: domestic parcels are cheap and free over a tea order's usual
// size; abroad costs by the kilo band.
var demoZones = []demoZone{
	{name: "Mainland China", countries: []string{"CN"}, methods: []shipping.MethodInput{
		{Name: "Standard (3-5 days)", Kind: shipping.KindFreeOver, Prices: []shipping.MethodPriceInput{
			{Currency: "CNY", Amount: "10.00", FreeOver: "199.00"}, {Currency: "USD", Amount: "1.50", FreeOver: "29.00"}}},
		flat("SF Express (1-2 days)", "23.00", "3.50"),
	}},
	{name: "Hong Kong, Macao and Taiwan", countries: []string{"HK", "MO", "TW"}, methods: []shipping.MethodInput{
		flat("Standard (4-7 days)", "45.00", "6.50"),
	}},
	{name: "North America", countries: []string{"US", "CA"}, methods: []shipping.MethodInput{
		{Name: "International Standard (7-15 days)", Kind: shipping.KindWeightBands, Prices: []shipping.MethodPriceInput{
			{Currency: "CNY", Bands: bands("98.00", "168.00", "298.00")},
			{Currency: "USD", Bands: bands("13.99", "23.99", "42.99")}}},
		flat("International Express (3-5 days)", "245.00", "34.99"),
	}},
	{name: "Europe", countries: []string{"GB", "DE", "FR", "NL", "IT", "ES"}, methods: []shipping.MethodInput{
		{Name: "International Standard (10-20 days)", Kind: shipping.KindWeightBands, Prices: []shipping.MethodPriceInput{
			{Currency: "CNY", Bands: bands("118.00", "198.00", "348.00")},
			{Currency: "USD", Bands: bands("16.99", "27.99", "49.99")}}},
	}},
}

// bands prices parcels up to 500 g, up to 2 kg, and heavier.
func bands(upTo500g, upTo2kg, heavier string) []shipping.WeightBandInput {
	g500, g2000 := int64(500), int64(2000)
	return []shipping.WeightBandInput{{MaxGrams: &g500, Amount: upTo500g}, {MaxGrams: &g2000, Amount: upTo2kg}, {Amount: heavier}}
}

// demoTaxRates: the VAT of China and of the European countries shipped
// to, Canada's GST and Quebec's GST+QST. The United States, Hong Kong,
// Macao and Taiwan have none set: the shop collects no tax there.
var demoTaxRates = []tax.RateInput{
	{Country: "CN", Name: "VAT", BasisPoints: 1300},
	{Country: "CA", Name: "GST", BasisPoints: 500},
	{Country: "CA", Region: "QC", Name: "GST+QST", BasisPoints: 1498},
	{Country: "GB", Name: "VAT", BasisPoints: 2000},
	{Country: "DE", Name: "VAT", BasisPoints: 1900},
	{Country: "FR", Name: "VAT", BasisPoints: 2000},
	{Country: "NL", Name: "VAT", BasisPoints: 2100},
	{Country: "IT", Name: "VAT", BasisPoints: 2200},
	{Country: "ES", Name: "VAT", BasisPoints: 2100},
}

// DemoShop gives the demo shop settings, shipping zones and tax rates
// that fit the catalog Demo seeds (prices in CNY and USD, tax included).
// Like Demo it is idempotent and changes nothing staff made: the
// settings are saved only while staff never saved any, a zone only when
// no zone has its name, a rate only when its place has none.
func DemoShop(ctx context.Context, svc ShopServices) (ShopResult, error) {
	var res ShopResult
	if svc.Shop == nil || svc.Shipping == nil || svc.Tax == nil {
		return res, errors.New("seed: the demo shop needs the shop, shipping and tax services")
	}
	ctx = authz.WithSubject(ctx, authz.SystemSubject("seed"))
	set, err := svc.Shop.Settings(ctx)
	if err != nil {
		return res, err
	}
	if set.UpdatedAt.IsZero() {
		currencies, included := slices.Clone(demoCurrencies), true
		if _, err := svc.Shop.Update(ctx, shop.UpdateSettingsInput{Currencies: &currencies, PricesIncludeTax: &included}); err != nil {
			return res, err
		}
		res.SettingsSaved = true
	}
	zones, err := svc.Shipping.Zones(ctx)
	if err != nil {
		return res, err
	}
	for _, dz := range demoZones {
		if slices.ContainsFunc(zones, func(z *shipping.Zone) bool { return z.Name == dz.name }) {
			continue
		}
		z, err := svc.Shipping.CreateZone(ctx, shipping.ZoneInput{Name: dz.name, Countries: dz.countries})
		if err != nil {
			return res, err
		}
		res.Zones++
		for _, m := range dz.methods {
			m.ZoneID = z.ID
			if _, err := svc.Shipping.CreateMethod(ctx, m); err != nil {
				return res, err
			}
			res.Methods++
		}
	}
	rates, err := svc.Tax.ListRates(ctx)
	if err != nil {
		return res, err
	}
	for _, in := range demoTaxRates {
		if slices.ContainsFunc(rates, func(r *tax.Rate) bool { return r.Country == in.Country && r.Region == in.Region }) {
			continue
		}
		if _, err := svc.Tax.CreateRate(ctx, in); err != nil {
			return res, err
		}
		res.TaxRates++
	}
	return res, nil
}
