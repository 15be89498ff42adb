package shipping_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// only allows one action on every object, as a role holding settings
// read but not write is allowed.
type only authz.Action

func (o only) Can(_ context.Context, _ authz.Object, act authz.Action) error {
	if act != authz.Action(o) {
		return errs.Forbidden("FORBIDDEN", "no")
	}
	return nil
}

// denyAll refuses everything, as the enforcer refuses a buyer.
var denyAll = only("nothing")

var epoch = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func newService(t *testing.T, db *store.DB, az authz.Authorizer) *shipping.Service {
	t.Helper()
	svc, err := shipping.NewService(db, shipping.Options{Authz: az, Clock: clock.NewFake(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func ptr[T any](v T) *T { return &v }

// problems flattens a domain error into "field CODE" lines, in order.
func problems(err error) []string {
	var out []string
	for _, e := range errs.All(err) {
		out = append(out, strings.Join(e.Field, ".")+" "+e.Code)
	}
	return out
}

// moneyEq compares money.Money and money.Currency, whose fields are
// unexported.
var moneyEq = cmp.Options{
	cmp.Comparer(func(a, b money.Money) bool { return a == b }),
	cmp.Comparer(func(a, b money.Currency) bool { return a == b }),
}

func flat(cur, amount string) shipping.MethodPriceInput {
	return shipping.MethodPriceInput{Currency: cur, Amount: amount}
}

func band(maxGrams int64, amount string) shipping.WeightBandInput {
	if maxGrams == 0 {
		return shipping.WeightBandInput{Amount: amount}
	}
	return shipping.WeightBandInput{MaxGrams: &maxGrams, Amount: amount}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func countRows(t *testing.T, db *store.DB) (zones, methods int) {
	t.Helper()
	ctx := context.Background()
	z, err := db.NewSelect().Table("shipping_zones").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.NewSelect().Table("shipping_methods").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return int(z), int(m)
}

func TestNewServiceNeedsAuthz(t *testing.T) {
	t.Parallel()
	db := storetest.NewSQLite(t)
	if _, err := shipping.NewService(db, shipping.Options{}); err == nil {
		t.Error("no authorizer: want an error")
	}
	if _, err := shipping.NewService(nil, shipping.Options{Authz: authz.AllowAll{}}); err == nil {
		t.Error("no database: want an error")
	}
}

func TestCreateZoneRefusesBadInput(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db, authz.AllowAll{})
		for _, c := range []struct {
			name string
			in   shipping.ZoneInput
			want []string
		}{
			{"nothing", shipping.ZoneInput{}, []string{"name REQUIRED", "countries REQUIRED"}},
			{"blank name", shipping.ZoneInput{Name: "  ", Countries: []string{"CN"}}, []string{"name REQUIRED"}},
			{"long name", shipping.ZoneInput{Name: strings.Repeat("é", shipping.MaxNameLength+1), Countries: []string{"CN"}},
				[]string{"name TOO_LONG"}},
			{"unknown country", shipping.ZoneInput{Name: "Z", Countries: []string{"CN", "XX", "China"}},
				[]string{"countries.1 INVALID_COUNTRY", "countries.2 INVALID_COUNTRY"}},
			{"country twice", shipping.ZoneInput{Name: "Z", Countries: []string{"cn", " CN "}},
				[]string{"countries.1 DUPLICATE_COUNTRY"}},
			{"too many countries", shipping.ZoneInput{Name: "Z", Countries: repeat("XX", shipping.MaxCountries+1)},
				[]string{"countries TOO_MANY"}},
			{"bad regions", shipping.ZoneInput{Name: "Z", Countries: []string{"CN"}, Regions: []string{"GD", "", "G D", "gd", strings.Repeat("A", 21)}},
				[]string{"regions.1 INVALID_REGION", "regions.2 INVALID_REGION", "regions.3 DUPLICATE_REGION", "regions.4 INVALID_REGION"}},
			{"too many regions", shipping.ZoneInput{Name: "Z", Countries: []string{"CN"}, Regions: repeat("!", shipping.MaxRegions+1)},
				[]string{"regions TOO_MANY"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				z, err := svc.CreateZone(context.Background(), c.in)
				if !errors.Is(err, errs.ErrInvalid) || z != nil {
					t.Fatalf("CreateZone = %v, %v; want invalid input", z, err)
				}
				if diff := cmp.Diff(c.want, problems(err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
			})
		}
		if z, _ := countRows(t, db); z != 0 {
			t.Errorf("refused zones wrote %d rows", z)
		}
	})
}

func TestZones(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db, authz.AllowAll{})
		z, err := svc.CreateZone(ctx, shipping.ZoneInput{Name: " South China ", Countries: []string{"cn", "HK"}, Regions: []string{"gd", "cn-gx"}})
		if err != nil {
			t.Fatal(err)
		}
		want := &shipping.Zone{ID: z.ID, Name: "South China", Countries: []string{"CN", "HK"}, Regions: []string{"GD", "GX"}, // cn-gx is kept as GX (issue 9)
			Methods: []*shipping.Method{}, CreatedAt: epoch, UpdatedAt: epoch}
		if diff := cmp.Diff(want, z); diff != "" {
			t.Fatalf("created (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(z.ID, shipping.ZonePrefix+"_") {
			t.Errorf("id %q lacks the prefix %s_", z.ID, shipping.ZonePrefix)
		}
		if got, err := svc.Zone(ctx, z.ID); err != nil || !cmp.Equal(want, got) {
			t.Fatalf("read back: %v (%v)", cmp.Diff(want, got), err)
		}
		other, err := svc.CreateZone(ctx, shipping.ZoneInput{Name: "Europe", Countries: []string{"DE", "FR"}})
		if err != nil {
			t.Fatal(err)
		}

		// A partial update keeps the other fields; an empty region list
		// covers the whole countries.
		upd, err := svc.UpdateZone(ctx, z.ID, shipping.UpdateZoneInput{Regions: &[]string{}})
		if err != nil {
			t.Fatal(err)
		}
		want.Regions = []string{}
		if diff := cmp.Diff(want, upd); diff != "" {
			t.Fatalf("updated (-want +got):\n%s", diff)
		}
		// A bad update reports every problem and changes nothing.
		_, err = svc.UpdateZone(ctx, z.ID, shipping.UpdateZoneInput{Name: ptr(""), Countries: &[]string{"ZZ"}})
		if diff := cmp.Diff([]string{"name REQUIRED", "countries.0 INVALID_COUNTRY"}, problems(err)); diff != "" {
			t.Fatalf("bad update (-want +got):\n%s", diff)
		}
		if got, _ := svc.Zone(ctx, z.ID); !cmp.Equal(want, got) {
			t.Fatalf("a refused update changed the zone: %v", cmp.Diff(want, got))
		}

		list, err := svc.Zones(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, z := range list {
			names = append(names, z.Name)
		}
		if diff := cmp.Diff([]string{"Europe", "South China"}, names); diff != "" {
			t.Errorf("zones by name (-want +got):\n%s", diff)
		}

		// Deleting a zone deletes its methods.
		if _, err := svc.CreateMethod(ctx, shipping.MethodInput{ZoneID: z.ID, Name: "Post", Kind: shipping.KindFlat,
			Prices: []shipping.MethodPriceInput{flat("CNY", "10")}}); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteZone(ctx, z.ID); err != nil {
			t.Fatal(err)
		}
		if zones, methods := countRows(t, db); zones != 1 || methods != 0 {
			t.Errorf("after the delete: %d zones, %d methods", zones, methods)
		}
		for name, err := range map[string]error{
			"read": func() error { _, err := svc.Zone(ctx, z.ID); return err }(),
			"update": func() error {
				_, err := svc.UpdateZone(ctx, z.ID, shipping.UpdateZoneInput{Name: ptr("X")})
				return err
			}(),
			"delete": svc.DeleteZone(ctx, z.ID),
		} {
			if !errors.Is(err, errs.ErrNotFound) || problems(err)[0] != " "+shipping.CodeZoneNotFound {
				t.Errorf("%s a deleted zone: %v", name, err)
			}
		}
		if _, err := svc.Zone(ctx, other.ID); err != nil {
			t.Errorf("the other zone: %v", err)
		}
	})
}

func TestCreateMethodRefusesBadInput(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db, authz.AllowAll{})
		z, err := svc.CreateZone(ctx, shipping.ZoneInput{Name: "China", Countries: []string{"CN"}})
		if err != nil {
			t.Fatal(err)
		}
		manyPrices := make([]shipping.MethodPriceInput, shipping.MaxPrices+1)
		for i := range manyPrices {
			manyPrices[i] = flat("CNY", "1")
		}
		manyBands := make([]shipping.WeightBandInput, shipping.MaxBands+1)
		for i := range manyBands {
			manyBands[i] = band(int64(i+1), "1")
		}
		for _, c := range []struct {
			name string
			in   shipping.MethodInput
			want []string
		}{
			{"no zone", shipping.MethodInput{ZoneID: "shz_missing", Name: "M", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "1")}},
				[]string{"zoneId " + shipping.CodeZoneNotFound}},
			{"nothing", shipping.MethodInput{ZoneID: z.ID}, []string{"name REQUIRED", "prices REQUIRED"}},
			{"unknown kind", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: "PIGEON", Prices: []shipping.MethodPriceInput{flat("CNY", "1")}},
				[]string{"kind INVALID_KIND"}},
			{"bad currencies", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFlat,
				Prices: []shipping.MethodPriceInput{flat("CNY", "1"), flat("XYZ", "1"), flat("cny", "2"), flat(strings.Repeat("A", 100000), "1")}},
				[]string{"prices.1.currencyCode INVALID_CURRENCY", "prices.2.currencyCode DUPLICATE_CURRENCY", "prices.3.currencyCode INVALID_CURRENCY"}},
			{"bad amounts", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFlat,
				Prices: []shipping.MethodPriceInput{flat("CNY", "1.234"), flat("USD", "-1"), flat("JPY", "99999999999999999999"), flat("EUR", "ten")}},
				[]string{"prices.0.amount INVALID_AMOUNT", "prices.1.amount INVALID_AMOUNT", "prices.2.amount INVALID_AMOUNT", "prices.3.amount INVALID_AMOUNT"}},
			{"amounts above the maximum", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFreeOver,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY", Amount: "10000000000.01", FreeOver: "92233720368547758.07"},
					{Currency: "USD", Amount: "10000000000.00", FreeOver: "10000000000.00"}}},
				[]string{"prices.0.amount INVALID_AMOUNT", "prices.0.freeOver INVALID_AMOUNT"}},
			{"band above the maximum", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindWeightBands,
				Prices: []shipping.MethodPriceInput{{Currency: "JPY", Bands: []shipping.WeightBandInput{band(1000, "1000000000000"), band(0, "1000000000001")}}}},
				[]string{"prices.0.bands.1.amount INVALID_AMOUNT"}},
			{"too many prices", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFlat, Prices: manyPrices},
				[]string{"prices TOO_MANY"}},
			{"flat without amount", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{{Currency: "CNY"}}},
				[]string{"prices.0.amount REQUIRED"}},
			{"flat with threshold and bands", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFlat,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY", Amount: "1", FreeOver: "99", Bands: []shipping.WeightBandInput{band(0, "1")}}}},
				[]string{"prices.0.bands NOT_FOR_KIND", "prices.0.freeOver NOT_FOR_KIND"}},
			{"free over without threshold", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFreeOver,
				Prices: []shipping.MethodPriceInput{flat("CNY", "10")}},
				[]string{"prices.0.freeOver REQUIRED"}},
			{"free over zero", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFreeOver,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY", Amount: "10", FreeOver: "0"}}},
				[]string{"prices.0.freeOver INVALID_AMOUNT"}},
			{"bands with an amount", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindWeightBands,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY", Amount: "1", Bands: []shipping.WeightBandInput{band(0, "1")}}}},
				[]string{"prices.0.amount NOT_FOR_KIND"}},
			{"no bands", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindWeightBands,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY"}}},
				[]string{"prices.0.bands REQUIRED"}},
			{"band without price", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindWeightBands,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY", Bands: []shipping.WeightBandInput{band(500, " ")}}}},
				[]string{"prices.0.bands.0.amount REQUIRED"}},
			{"bands out of order", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindWeightBands,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY", Bands: []shipping.WeightBandInput{
					band(-1, "1"), band(1000, "2"), band(1000, "3"), band(0, "4"), band(5000, "5"), band(shipping.MaxBandGrams+1, "6")}}}},
				[]string{"prices.0.bands.0.maxGrams INVALID_BANDS", "prices.0.bands.2.maxGrams INVALID_BANDS",
					"prices.0.bands.3.maxGrams INVALID_BANDS", "prices.0.bands.5.maxGrams INVALID_BANDS"}},
			{"too many bands", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindWeightBands,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY", Bands: manyBands}}},
				[]string{"prices.0.bands TOO_MANY"}},
			{"negative position", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "1")},
				Position: ptr(-1)}, []string{"position INVALID_POSITION"}},
			{"the largest Int as position", shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "1")},
				Position: ptr(math.MaxInt32)}, []string{"position INVALID_POSITION"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				m, err := svc.CreateMethod(ctx, c.in)
				if m != nil || err == nil {
					t.Fatalf("CreateMethod = %+v, %v; want an error", m, err)
				}
				if diff := cmp.Diff(c.want, problems(err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				for _, e := range errs.All(err) {
					if len(e.Message) > 200 {
						t.Errorf("%s: a message of %d bytes repeats the input", e.Code, len(e.Message))
					}
				}
			})
		}
		if _, methods := countRows(t, db); methods != 0 {
			t.Errorf("refused methods wrote %d rows", methods)
		}
	})
}

func TestMethods(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db, authz.AllowAll{})
		z, err := svc.CreateZone(ctx, shipping.ZoneInput{Name: "China", Countries: []string{"CN"}})
		if err != nil {
			t.Fatal(err)
		}
		post, err := svc.CreateMethod(ctx, shipping.MethodInput{ZoneID: z.ID, Name: "Post", Kind: shipping.KindFreeOver,
			Prices: []shipping.MethodPriceInput{{Currency: "USD", Amount: "5", FreeOver: "50.00"}, {Currency: "CNY", Amount: "12.5", FreeOver: "199"}}})
		if err != nil {
			t.Fatal(err)
		}
		want := &shipping.Method{ID: post.ID, ZoneID: z.ID, Name: "Post", Kind: shipping.KindFreeOver, Active: true, Position: 0,
			Prices: []shipping.MethodPrice{ // by currency code
				{Currency: money.CNY, Amount: money.New(1250, money.CNY), FreeOver: money.New(19900, money.CNY)},
				{Currency: money.USD, Amount: money.New(500, money.USD), FreeOver: money.New(5000, money.USD)},
			}, CreatedAt: epoch, UpdatedAt: epoch}
		if diff := cmp.Diff(want, post, moneyEq); diff != "" {
			t.Fatalf("created (-want +got):\n%s", diff)
		}
		if got, err := svc.Method(ctx, post.ID); err != nil || !cmp.Equal(want, got, moneyEq) {
			t.Fatalf("read back: %s (%v)", cmp.Diff(want, got, moneyEq), err)
		}

		// Positions follow the last method unless given.
		express, err := svc.CreateMethod(ctx, shipping.MethodInput{ZoneID: z.ID, Name: "Express", Kind: shipping.KindWeightBands, Active: ptr(false),
			Prices: []shipping.MethodPriceInput{{Currency: "CNY", Bands: []shipping.WeightBandInput{band(1000, "20"), band(0, "35")}}}})
		if err != nil {
			t.Fatal(err)
		}
		if express.Position != 1 || express.Active {
			t.Errorf("second method: position %d, active %v", express.Position, express.Active)
		}
		if b := express.Prices[0].Bands; len(b) != 2 || *b[0].MaxGrams != 1000 || b[1].MaxGrams != nil || b[1].Price != money.New(3500, money.CNY) {
			t.Errorf("bands %+v", b)
		}
		first, err := svc.CreateMethod(ctx, shipping.MethodInput{ZoneID: z.ID, Name: "Pickup", Kind: shipping.KindFlat, Position: ptr(0),
			Prices: []shipping.MethodPriceInput{flat("CNY", "0")}})
		if err != nil {
			t.Fatal(err)
		}
		zone, err := svc.Zone(ctx, z.ID)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, m := range zone.Methods {
			order = append(order, m.Name)
		}
		// Equal positions keep the order of the ids (creation).
		if diff := cmp.Diff([]string{"Post", "Pickup", "Express"}, order); diff != "" {
			t.Errorf("methods of the zone (-want +got):\n%s", diff)
		}

		// A new kind is checked against the prices in force.
		_, err = svc.UpdateMethod(ctx, post.ID, shipping.UpdateMethodInput{Kind: ptr(shipping.KindFlat)})
		if diff := cmp.Diff([]string{"prices.0.freeOver NOT_FOR_KIND", "prices.1.freeOver NOT_FOR_KIND"}, problems(err)); diff != "" {
			t.Errorf("kind without prices (-want +got):\n%s", diff)
		}
		upd, err := svc.UpdateMethod(ctx, post.ID, shipping.UpdateMethodInput{Kind: ptr(shipping.KindFlat), Name: ptr("Standard"),
			Prices: &[]shipping.MethodPriceInput{flat("CNY", "8")}, Active: ptr(false), Position: ptr(5)})
		if err != nil {
			t.Fatal(err)
		}
		want = &shipping.Method{ID: post.ID, ZoneID: z.ID, Name: "Standard", Kind: shipping.KindFlat, Active: false, Position: 5,
			Prices: []shipping.MethodPrice{{Currency: money.CNY, Amount: money.New(800, money.CNY)}}, CreatedAt: epoch, UpdatedAt: epoch}
		if diff := cmp.Diff(want, upd, moneyEq); diff != "" {
			t.Fatalf("updated (-want +got):\n%s", diff)
		}
		if got, _ := svc.Method(ctx, post.ID); !cmp.Equal(want, got, moneyEq) {
			t.Fatalf("read back after the update: %s", cmp.Diff(want, got, moneyEq))
		}
		_, err = svc.UpdateMethod(ctx, post.ID, shipping.UpdateMethodInput{Name: ptr(" "), Position: ptr(-2)})
		if diff := cmp.Diff([]string{"name REQUIRED", "position INVALID_POSITION"}, problems(err)); diff != "" {
			t.Errorf("bad update (-want +got):\n%s", diff)
		}
		if got, _ := svc.Method(ctx, post.ID); !cmp.Equal(want, got, moneyEq) {
			t.Fatalf("a refused update changed the method: %s", cmp.Diff(want, got, moneyEq))
		}

		if err := svc.DeleteMethod(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"read": func() error { _, err := svc.Method(ctx, first.ID); return err }(),
			"update": func() error {
				_, err := svc.UpdateMethod(ctx, first.ID, shipping.UpdateMethodInput{Name: ptr("X")})
				return err
			}(),
			"delete": svc.DeleteMethod(ctx, first.ID),
		} {
			if !errors.Is(err, errs.ErrNotFound) || problems(err)[0] != " "+shipping.CodeMethodNotFound {
				t.Errorf("%s a deleted method: %v", name, err)
			}
		}
		if _, methods := countRows(t, db); methods != 2 {
			t.Errorf("%d methods left, want 2", methods)
		}
	})
}

func TestMethodsInAZoneAreBounded(t *testing.T) {
	db := storetest.NewSQLite(t)
	ctx := context.Background()
	svc := newService(t, db, authz.AllowAll{})
	z, err := svc.CreateZone(ctx, shipping.ZoneInput{Name: "China", Countries: []string{"CN"}})
	if err != nil {
		t.Fatal(err)
	}
	in := shipping.MethodInput{ZoneID: z.ID, Name: "M", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "1")}}
	for range shipping.MaxMethodsInZone {
		if _, err := svc.CreateMethod(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	_, err = svc.CreateMethod(ctx, in)
	if diff := cmp.Diff([]string{"zoneId TOO_MANY"}, problems(err)); diff != "" {
		t.Errorf("one method too many (-want +got):\n%s", diff)
	}
}

// TestPermissions: staff reading need settings read, changing settings
// write; a refused call changes nothing. Rates asks nobody.
func TestPermissions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		owner := newService(t, db, authz.AllowAll{})
		z, err := owner.CreateZone(ctx, shipping.ZoneInput{Name: "China", Countries: []string{"CN"}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := owner.CreateMethod(ctx, shipping.MethodInput{ZoneID: z.ID, Name: "Post", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "10")}})
		if err != nil {
			t.Fatal(err)
		}
		reader, nobody := newService(t, db, only(authz.Read)), newService(t, db, denyAll)
		reads := map[string]func(s *shipping.Service) error{
			"Zones":  func(s *shipping.Service) error { _, err := s.Zones(ctx); return err },
			"Zone":   func(s *shipping.Service) error { _, err := s.Zone(ctx, z.ID); return err },
			"Method": func(s *shipping.Service) error { _, err := s.Method(ctx, m.ID); return err },
		}
		writes := map[string]func(s *shipping.Service) error{
			"CreateZone": func(s *shipping.Service) error {
				_, err := s.CreateZone(ctx, shipping.ZoneInput{Name: "X", Countries: []string{"US"}})
				return err
			},
			"UpdateZone": func(s *shipping.Service) error {
				_, err := s.UpdateZone(ctx, z.ID, shipping.UpdateZoneInput{Name: ptr("X")})
				return err
			},
			"DeleteZone": func(s *shipping.Service) error { return s.DeleteZone(ctx, z.ID) },
			"CreateMethod": func(s *shipping.Service) error {
				_, err := s.CreateMethod(ctx, shipping.MethodInput{ZoneID: z.ID, Name: "X", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "1")}})
				return err
			},
			"UpdateMethod": func(s *shipping.Service) error {
				_, err := s.UpdateMethod(ctx, m.ID, shipping.UpdateMethodInput{Name: ptr("X")})
				return err
			},
			"DeleteMethod": func(s *shipping.Service) error { return s.DeleteMethod(ctx, m.ID) },
		}
		for name, f := range reads {
			if err := f(reader); err != nil {
				t.Errorf("%s with settings read: %v", name, err)
			}
			if err := f(nobody); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("%s without settings read: %v", name, err)
			}
		}
		for name, f := range writes {
			for who, s := range map[string]*shipping.Service{"settings read": reader, "nothing": nobody} {
				if err := f(s); !errors.Is(err, errs.ErrForbidden) {
					t.Errorf("%s with %s: %v, want forbidden", name, who, err)
				}
			}
		}
		got, err := owner.Zones(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Name != "China" || len(got[0].Methods) != 1 || got[0].Methods[0].Name != "Post" {
			t.Errorf("refused calls changed the zones: %+v", got)
		}
		rates, err := shipping.NewRates(db, shipping.RatesOptions{CacheFor: -1}).Quote(ctx, shipping.Parcel{Country: "CN", Subtotal: money.New(100, money.CNY)})
		if err != nil || len(rates) != 1 {
			t.Errorf("Quote without any permission: %v, %v", rates, err)
		}
	})
}

// world creates the zones and methods TestQuote prices against:
//
//   - "China": CN, the whole country. Post FLAT 10 CNY / 2 USD; Express
//     FREE_OVER 20 CNY, free from 199 CNY; Freight WEIGHT_BANDS in CNY
//     (≤1000 g 15, ≤5000 g 30, no band above); Old FLAT 1 CNY, inactive.
//   - "Guangdong": CN regions GD and CN-GZ. Local FLAT 5 CNY; Bulk
//     WEIGHT_BANDS CNY (≤2000 g 8, then 12 open-ended).
//   - "Hong Kong and Macau": HK, MO. Courier FLAT 30 HKD.
//   - "Another China": CN, the whole country. Same day FLAT 10 CNY (as
//     cheap as Post: the zone's name breaks the tie).
//   - "Tibet": CN region XZ, nothing active: a parcel there gets nothing,
//     not the country's methods.
func world(t *testing.T, svc *shipping.Service) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	zone := func(name string, countries, regions []string) string {
		z, err := svc.CreateZone(ctx, shipping.ZoneInput{Name: name, Countries: countries, Regions: regions})
		if err != nil {
			t.Fatal(err)
		}
		return z.ID
	}
	method := func(in shipping.MethodInput) {
		m, err := svc.CreateMethod(ctx, in)
		if err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
		ids[in.Name] = m.ID
	}
	china := zone("China", []string{"CN"}, nil)
	method(shipping.MethodInput{ZoneID: china, Name: "Post", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "10"), flat("USD", "2")}})
	method(shipping.MethodInput{ZoneID: china, Name: "Express", Kind: shipping.KindFreeOver, Prices: []shipping.MethodPriceInput{{Currency: "CNY", Amount: "20", FreeOver: "199"}}})
	method(shipping.MethodInput{ZoneID: china, Name: "Freight", Kind: shipping.KindWeightBands,
		Prices: []shipping.MethodPriceInput{{Currency: "CNY", Bands: []shipping.WeightBandInput{band(1000, "15"), band(5000, "30")}}}})
	method(shipping.MethodInput{ZoneID: china, Name: "Old", Kind: shipping.KindFlat, Active: ptr(false), Prices: []shipping.MethodPriceInput{flat("CNY", "1")}})
	gd := zone("Guangdong", []string{"CN"}, []string{"GD", "CN-GZ"})
	method(shipping.MethodInput{ZoneID: gd, Name: "Local", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "5")}})
	method(shipping.MethodInput{ZoneID: gd, Name: "Bulk", Kind: shipping.KindWeightBands,
		Prices: []shipping.MethodPriceInput{{Currency: "CNY", Bands: []shipping.WeightBandInput{band(2000, "8"), band(0, "12")}}}})
	hk := zone("Hong Kong and Macau", []string{"HK", "MO"}, nil)
	method(shipping.MethodInput{ZoneID: hk, Name: "Courier", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("HKD", "30")}})
	another := zone("Another China", []string{"CN"}, nil)
	method(shipping.MethodInput{ZoneID: another, Name: "Same day", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{flat("CNY", "10")}})
	xz := zone("Tibet", []string{"CN"}, []string{"XZ"})
	method(shipping.MethodInput{ZoneID: xz, Name: "Yak", Kind: shipping.KindFlat, Active: ptr(false), Prices: []shipping.MethodPriceInput{flat("CNY", "50")}})
	return ids
}

func TestQuote(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ids := world(t, newService(t, db, authz.AllowAll{}))
		rates := shipping.NewRates(db, shipping.RatesOptions{CacheFor: -1})
		cny := func(minor int64) money.Money { return money.New(minor, money.CNY) }
		type quote struct {
			Name  string
			Price string
		}
		for _, c := range []struct {
			name   string
			parcel shipping.Parcel
			want   []quote
		}{
			{"country zone, light, below the threshold", shipping.Parcel{Country: "CN", Subtotal: cny(19899), WeightGrams: 1000},
				[]quote{{"Same day", "10.00"}, {"Post", "10.00"}, {"Freight", "15.00"}, {"Express", "20.00"}}},
			{"free from the threshold on", shipping.Parcel{Country: "CN", Subtotal: cny(19900), WeightGrams: 1001},
				[]quote{{"Express", "0.00"}, {"Same day", "10.00"}, {"Post", "10.00"}, {"Freight", "30.00"}}},
			{"heavier than every band", shipping.Parcel{Country: "CN", Subtotal: cny(100), WeightGrams: 5001},
				[]quote{{"Same day", "10.00"}, {"Post", "10.00"}, {"Express", "20.00"}}},
			{"weightless", shipping.Parcel{Country: "CN", Subtotal: cny(100)},
				[]quote{{"Same day", "10.00"}, {"Post", "10.00"}, {"Freight", "15.00"}, {"Express", "20.00"}}},
			{"a region of another zone is priced by the country zones", shipping.Parcel{Country: "CN", Region: "SH", Subtotal: cny(100), WeightGrams: 500},
				[]quote{{"Same day", "10.00"}, {"Post", "10.00"}, {"Freight", "15.00"}, {"Express", "20.00"}}},
			{"region zone beats the country zones", shipping.Parcel{Country: "CN", Region: "GD", Subtotal: cny(100), WeightGrams: 2000},
				[]quote{{"Local", "5.00"}, {"Bulk", "8.00"}}},
			{"a region spelled out is its code", shipping.Parcel{Country: "CN", Region: "guangdong sheng", Subtotal: cny(100), WeightGrams: 2000},
				[]quote{{"Local", "5.00"}, {"Bulk", "8.00"}}},
			{"region codes compare trimmed and upper case", shipping.Parcel{Country: " cn ", Region: " cn-gz ", Subtotal: cny(100), WeightGrams: 2001},
				[]quote{{"Local", "5.00"}, {"Bulk", "12.00"}}},
			{"a region zone with nothing active offers nothing", shipping.Parcel{Country: "CN", Region: "XZ", Subtotal: cny(100)}, []quote{}},
			{"currency with fewer prices", shipping.Parcel{Country: "CN", Subtotal: money.New(100, money.USD)},
				[]quote{{"Post", "2.00"}}},
			{"currency without a price", shipping.Parcel{Country: "CN", Subtotal: money.New(100, money.EUR)}, []quote{}},
			{"second country of a zone", shipping.Parcel{Country: "MO", Subtotal: money.New(100, money.HKD)},
				[]quote{{"Courier", "30.00"}}},
			{"no zone", shipping.Parcel{Country: "US", Subtotal: money.New(100, money.USD)}, []quote{}},
			{"no address yet", shipping.Parcel{Subtotal: cny(100)}, []quote{}},
			{"a pattern is no country", shipping.Parcel{Country: "%", Subtotal: cny(100)}, []quote{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := rates.Quote(ctx, c.parcel)
				if err != nil {
					t.Fatal(err)
				}
				if got == nil {
					t.Fatal("nil quotes, want an empty list")
				}
				list := []quote{}
				for _, r := range got {
					if r.MethodID != ids[r.Name] {
						t.Errorf("%s has id %s, want %s", r.Name, r.MethodID, ids[r.Name])
					}
					if r.Price.Currency() != c.parcel.Subtotal.Currency() {
						t.Errorf("%s priced in %s", r.Name, r.Price.Currency())
					}
					list = append(list, quote{r.Name, r.Price.Decimal()})
				}
				if diff := cmp.Diff(c.want, list); diff != "" {
					t.Errorf("quotes (-want +got):\n%s", diff)
				}
			})
		}

		// China has a zone narrowed to regions; Macau and the US have not.
		for cc, want := range map[string]bool{"CN": true, " cn ": true, "MO": false, "US": false, "%": false} {
			if got, err := rates.Regional(ctx, cc); err != nil || got != want {
				t.Errorf("Regional(%q) = %v, %v; want %v", cc, got, err, want)
			}
		}

		for name, p := range map[string]shipping.Parcel{
			"no currency":     {Country: "CN"},
			"negative weight": {Country: "CN", Subtotal: cny(1), WeightGrams: -1},
		} {
			if _, err := rates.Quote(ctx, p); !errors.Is(err, errs.ErrInvalid) || problems(err)[0] == "" {
				t.Errorf("%s: %v, want INVALID_PARCEL", name, err)
			}
		}
	})
}

func TestRate(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db, authz.AllowAll{})
		ids := world(t, svc)
		rates := shipping.NewRates(db, shipping.RatesOptions{CacheFor: -1})
		parcel := shipping.Parcel{Country: "CN", Subtotal: money.New(25000, money.CNY), WeightGrams: 300}

		got, err := rates.Rate(ctx, parcel, ids["Express"])
		want := shipping.Rate{MethodID: ids["Express"], Name: "Express", Price: money.Zero(money.CNY)}
		if err != nil || got != want {
			t.Fatalf("Rate = %+v, %v; want %+v", got, err, want)
		}

		for name, c := range map[string]struct {
			parcel shipping.Parcel
			method string
		}{
			"inactive":              {parcel, ids["Old"]},
			"another zone's method": {parcel, ids["Courier"]},
			"left for a region":     {shipping.Parcel{Country: "CN", Region: "GD", Subtotal: money.New(100, money.CNY)}, ids["Post"]},
			"no price in currency":  {shipping.Parcel{Country: "CN", Subtotal: money.New(100, money.USD)}, ids["Express"]},
			"too heavy":             {shipping.Parcel{Country: "CN", Subtotal: money.New(100, money.CNY), WeightGrams: 9000}, ids["Freight"]},
			"unknown method":        {parcel, "shm_missing"},
		} {
			_, err := rates.Rate(ctx, c.parcel, c.method)
			var gone *shipping.MethodUnavailableError
			if !errors.As(err, &gone) || gone.MethodID != c.method || !errors.Is(err, errs.ErrConflict) {
				t.Errorf("%s: %v, want a MethodUnavailableError", name, err)
				continue
			}
			if p := problems(err); len(p) != 1 || p[0] != " "+shipping.CodeMethodUnavailable {
				t.Errorf("%s: problems %v", name, p)
			}
		}

		// A method deleted after the buyer chose it is unavailable.
		if err := svc.DeleteMethod(ctx, ids["Express"]); err != nil {
			t.Fatal(err)
		}
		if _, err := rates.Rate(ctx, parcel, ids["Express"]); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("deleted method: %v", err)
		}
		quotes, err := rates.Quote(ctx, parcel)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(quotes, func(r shipping.Rate) bool { return r.MethodID == ids["Express"] }) {
			t.Error("a deleted method is still quoted")
		}
	})
}

// TestRatesReadInTheCallersTransaction: the cart quotes inside its own
// transaction, and sees a method created earlier in it.
func TestRatesReadInTheCallersTransaction(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db, authz.AllowAll{})
		rates := shipping.NewRates(db, shipping.RatesOptions{CacheFor: -1})
		parcel := shipping.Parcel{Country: "DE", Subtotal: money.New(100, money.EUR)}
		boom := errors.New("roll back")
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			z, err := svc.CreateZone(ctx, shipping.ZoneInput{Name: "Germany", Countries: []string{"DE"}})
			if err != nil {
				return err
			}
			if _, err := svc.CreateMethod(ctx, shipping.MethodInput{ZoneID: z.ID, Name: "DHL", Kind: shipping.KindFlat,
				Prices: []shipping.MethodPriceInput{flat("EUR", "4.90")}}); err != nil {
				return err
			}
			got, err := rates.Quote(ctx, parcel)
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0].Price != money.New(490, money.EUR) {
				t.Errorf("inside the transaction: %+v", got)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, err := rates.Quote(ctx, parcel); err != nil || len(got) != 0 {
			t.Errorf("after the rollback: %+v, %v", got, err)
		}
	})
}

// TestRatesCache: quotes come from memory, a change through the service
// holding the rates is seen at once, a change by another instance (a
// service without them) within CacheFor, and a quote inside a transaction
// that changed zones neither answers from nor fills the memory.
func TestRatesCache(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(epoch)
		rates := shipping.NewRates(db, shipping.RatesOptions{CacheFor: 10 * time.Second, Clock: clk})
		here, err := shipping.NewService(db, shipping.Options{Authz: authz.AllowAll{}, Clock: clk, Rates: rates})
		if err != nil {
			t.Fatal(err)
		}
		elsewhere := newService(t, db, authz.AllowAll{}) // another instance
		parcel := shipping.Parcel{Country: "DE", Subtotal: money.New(100, money.EUR)}
		names := func() []string {
			t.Helper()
			got, err := rates.Quote(ctx, parcel)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range got {
				out = append(out, r.Name)
			}
			return out
		}
		z, err := here.CreateZone(ctx, shipping.ZoneInput{Name: "Germany", Countries: []string{"DE"}})
		if err != nil {
			t.Fatal(err)
		}
		add := func(ctx context.Context, svc *shipping.Service, name string) {
			t.Helper()
			if _, err := svc.CreateMethod(ctx, shipping.MethodInput{ZoneID: z.ID, Name: name, Kind: shipping.KindFlat,
				Prices: []shipping.MethodPriceInput{flat("EUR", "4.90")}}); err != nil {
				t.Fatal(err)
			}
		}
		if got := names(); len(got) != 0 {
			t.Fatalf("before any method: %v", got)
		}
		add(ctx, here, "DHL")
		if got := names(); !slices.Equal(got, []string{"DHL"}) {
			t.Errorf("after a change here: %v, want it at once", got)
		}
		add(ctx, elsewhere, "UPS")
		if got := names(); !slices.Equal(got, []string{"DHL"}) {
			t.Errorf("after a change elsewhere: %v, want the kept quote within CacheFor", got)
		}
		clk.Advance(10 * time.Second)
		if got := names(); !slices.Equal(got, []string{"DHL", "UPS"}) {
			t.Errorf("after CacheFor: %v", got)
		}
		boom := errors.New("roll back")
		err = db.RunInTx(ctx, func(ctx context.Context) error {
			add(ctx, here, "Hermes")
			got, err := rates.Quote(ctx, parcel)
			if err != nil || len(got) != 3 {
				t.Errorf("inside the changing transaction: %+v, %v", got, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got := names(); !slices.Equal(got, []string{"DHL", "UPS"}) {
			t.Errorf("after the rollback: %v", got)
		}
	})
}
