package tax_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/tax"
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

var epoch = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func newService(t *testing.T, db *store.DB, az authz.Authorizer) *tax.Service {
	t.Helper()
	svc, err := tax.NewService(db, tax.Options{Authz: az, Clock: clock.NewFake(epoch)})
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

func TestNewServiceNeedsAuthz(t *testing.T) {
	t.Parallel()
	if _, err := tax.NewService(storetest.NewSQLite(t), tax.Options{}); err == nil {
		t.Error("no authorizer: want an error")
	}
}

func TestRates(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db, authz.AllowAll{})

		// Refused input changes nothing.
		for _, c := range []struct {
			name string
			in   tax.RateInput
			want []string
		}{
			{"nothing", tax.RateInput{}, []string{"country INVALID_COUNTRY", "name REQUIRED"}},
			{"bad region", tax.RateInput{Country: "CN", Region: "G D", Name: "VAT"}, []string{"region INVALID_REGION"}},
			{"long region", tax.RateInput{Country: "CN", Region: strings.Repeat("A", 21), Name: "VAT"}, []string{"region INVALID_REGION"}},
			{"long name", tax.RateInput{Country: "CN", Name: strings.Repeat("n", tax.MaxNameLength+1)}, []string{"name TOO_LONG"}},
			{"negative", tax.RateInput{Country: "CN", Name: "VAT", BasisPoints: -1}, []string{"basisPoints OUT_OF_RANGE"}},
			{"above 100 %", tax.RateInput{Country: "CN", Name: "VAT", BasisPoints: tax.MaxBasisPoints + 1}, []string{"basisPoints OUT_OF_RANGE"}},
		} {
			r, err := svc.CreateRate(ctx, c.in)
			if r != nil || !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v, %v; want invalid input", c.name, r, err)
				continue
			}
			if diff := cmp.Diff(c.want, problems(err)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.name, diff)
			}
		}
		if list, _ := svc.ListRates(ctx); len(list) != 0 {
			t.Fatalf("refused rates were stored: %+v", list)
		}

		cn, err := svc.CreateRate(ctx, tax.RateInput{Country: " cn ", Name: " VAT ", BasisPoints: 1300})
		if err != nil {
			t.Fatal(err)
		}
		want := &tax.Rate{ID: cn.ID, Country: "CN", Name: "VAT", BasisPoints: 1300, CreatedAt: epoch, UpdatedAt: epoch}
		if diff := cmp.Diff(want, cn); diff != "" {
			t.Fatalf("created (-want +got):\n%s", diff)
		}
		if got, err := svc.GetRate(ctx, cn.ID); err != nil || !cmp.Equal(want, got) {
			t.Fatalf("read back: %s (%v)", cmp.Diff(want, got), err)
		}
		gd, err := svc.CreateRate(ctx, tax.RateInput{Country: "CN", Region: "gd", Name: "VAT Guangdong", BasisPoints: 900})
		if err != nil {
			t.Fatal(err)
		}
		us, err := svc.CreateRate(ctx, tax.RateInput{Country: "US", Region: "CA", Name: "Sales tax", BasisPoints: 725})
		if err != nil {
			t.Fatal(err)
		}
		for name, in := range map[string]tax.RateInput{
			"country again": {Country: "CN", Name: "Other", BasisPoints: 1},
			"region again":  {Country: "cn", Region: " GD", Name: "Other", BasisPoints: 1},
		} {
			if _, err := svc.CreateRate(ctx, in); !errors.Is(err, errs.ErrConflict) || problems(err)[0] != "region "+tax.CodeRateExists {
				t.Errorf("%s: %v, want %s", name, err, tax.CodeRateExists)
			}
		}
		// Moving a rate onto a taken place is refused too; onto its own
		// place, or a free one, is not.
		if _, err := svc.UpdateRate(ctx, gd.ID, tax.UpdateRateInput{Region: ptr("")}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("move onto the country's place: %v", err)
		}
		if _, err := svc.UpdateRate(ctx, gd.ID, tax.UpdateRateInput{Region: ptr("GD"), BasisPoints: ptr(int64(600))}); err != nil {
			t.Errorf("update in place: %v", err)
		}
		_, err = svc.UpdateRate(ctx, gd.ID, tax.UpdateRateInput{Name: ptr(""), BasisPoints: ptr(int64(10001))})
		if diff := cmp.Diff([]string{"name REQUIRED", "basisPoints OUT_OF_RANGE"}, problems(err)); diff != "" {
			t.Errorf("bad update (-want +got):\n%s", diff)
		}
		if got, _ := svc.GetRate(ctx, gd.ID); got.BasisPoints != 600 || got.Name != "VAT Guangdong" {
			t.Errorf("after a refused update: %+v", got)
		}

		var order []string
		list, err := svc.ListRates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list {
			order = append(order, r.Country+"/"+r.Region)
		}
		if diff := cmp.Diff([]string{"CN/", "CN/GD", "US/CA"}, order); diff != "" {
			t.Errorf("list order (-want +got):\n%s", diff)
		}

		lookup := tax.NewRates(db, tax.RatesOptions{CacheFor: -1})
		for _, c := range []struct {
			country, region string
			wantID          string
			wantBPS         int64
		}{
			{"CN", "GD", gd.ID, 600},
			{" cn ", " gd ", gd.ID, 600},
			{"CN", "SH", cn.ID, 1300},
			{"CN", "", cn.ID, 1300},
			{"US", "CA", us.ID, 725},
			// A buyer who spells the region out pays its rate.
			{"US", "California", us.ID, 725},
			{"CN", "Guangdong Sheng", gd.ID, 600},
			{"CN", "CN-GD", gd.ID, 600},
			{"US", "NY", "", 0}, // no rate for the country
			{"DE", "", "", 0},
		} {
			r, err := lookup.Rate(ctx, c.country, c.region)
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != c.wantID || r.BasisPoints != c.wantBPS {
				t.Errorf("Rate(%q, %q) = %s %d, want %s %d", c.country, c.region, r.ID, r.BasisPoints, c.wantID, c.wantBPS)
			}
			if c.wantID == "" && (r.Country != strings.ToUpper(strings.TrimSpace(c.country)) || r.Region != c.region) {
				t.Errorf("zero rate for %q/%q names %s/%s", c.country, c.region, r.Country, r.Region)
			}
		}

		// China and the US have regional rates; Germany has none at all.
		for country, want := range map[string]bool{"CN": true, "us": true, "DE": false} {
			if got, err := lookup.Regional(ctx, country); err != nil || got != want {
				t.Errorf("Regional(%q) = %v, %v; want %v", country, got, err, want)
			}
		}

		if err := svc.DeleteRate(ctx, gd.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := lookup.Rate(ctx, "CN", "GD"); r.ID != cn.ID {
			t.Errorf("after deleting the region's rate: %+v", r)
		}
		for name, err := range map[string]error{
			"read":   func() error { _, err := svc.GetRate(ctx, gd.ID); return err }(),
			"update": func() error { _, err := svc.UpdateRate(ctx, gd.ID, tax.UpdateRateInput{Name: ptr("X")}); return err }(),
			"delete": svc.DeleteRate(ctx, gd.ID),
		} {
			if !errors.Is(err, errs.ErrNotFound) || problems(err)[0] != " "+tax.CodeRateNotFound {
				t.Errorf("%s a deleted rate: %v", name, err)
			}
		}
	})
}

func TestRatePermissions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, err := newService(t, db, authz.AllowAll{}).CreateRate(ctx, tax.RateInput{Country: "CN", Name: "VAT", BasisPoints: 1300})
		if err != nil {
			t.Fatal(err)
		}
		reader, nobody := newService(t, db, only(authz.Read)), newService(t, db, only("nothing"))
		for name, f := range map[string]func(s *tax.Service) error{
			"ListRates": func(s *tax.Service) error { _, err := s.ListRates(ctx); return err },
			"GetRate":   func(s *tax.Service) error { _, err := s.GetRate(ctx, r.ID); return err },
		} {
			if err := f(reader); err != nil {
				t.Errorf("%s with settings read: %v", name, err)
			}
			if err := f(nobody); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("%s without settings read: %v", name, err)
			}
		}
		for name, f := range map[string]func(s *tax.Service) error{
			"CreateRate": func(s *tax.Service) error {
				_, err := s.CreateRate(ctx, tax.RateInput{Country: "US", Name: "X"})
				return err
			},
			"UpdateRate": func(s *tax.Service) error {
				_, err := s.UpdateRate(ctx, r.ID, tax.UpdateRateInput{BasisPoints: ptr(int64(0))})
				return err
			},
			"DeleteRate": func(s *tax.Service) error { return s.DeleteRate(ctx, r.ID) },
		} {
			for who, s := range map[string]*tax.Service{"settings read": reader, "nothing": nobody} {
				if err := f(s); !errors.Is(err, errs.ErrForbidden) {
					t.Errorf("%s with %s: %v, want forbidden", name, who, err)
				}
			}
		}
		got, err := tax.NewRates(db, tax.RatesOptions{CacheFor: -1}).Rate(ctx, "CN", "")
		if err != nil || got.ID != r.ID || got.BasisPoints != 1300 {
			t.Errorf("after refused changes, without any permission: %+v, %v", got, err)
		}
	})
}

// TestRatesAreBounded: a shop keeps at most MaxRates, so the list staff
// read is bounded.
func TestRatesAreBounded(t *testing.T) {
	db := storetest.NewSQLite(t)
	ctx := context.Background()
	// MaxRates rows at once, as regions of one country.
	var b strings.Builder
	b.WriteString("INSERT INTO tax_rates (id, country, region, name, rate_bps, created_at, updated_at) VALUES ")
	for i := range tax.MaxRates {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "('txr_%d', 'CN', 'R%d', 'VAT', 1300, '2026-12-04 10:00:00', '2026-12-04 10:00:00')", i, i)
	}
	if _, err := db.ExecContext(ctx, b.String()); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, db, authz.AllowAll{})
	_, err := svc.CreateRate(ctx, tax.RateInput{Country: "US", Name: "Sales tax", BasisPoints: 700})
	if diff := cmp.Diff([]string{" " + tax.CodeTooMany}, problems(err)); diff != "" {
		t.Errorf("one rate too many (-want +got):\n%s", diff)
	}
	if list, _ := svc.ListRates(ctx); len(list) != tax.MaxRates {
		t.Errorf("%d rates", len(list))
	}
}

// TestRatesCache: lookups come from memory, a change through the service
// holding the rates is seen at once, a change by another instance within
// CacheFor, and a lookup inside a transaction that changed rates neither
// answers from nor fills the memory.
func TestRatesCache(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(epoch)
		lookup := tax.NewRates(db, tax.RatesOptions{CacheFor: 10 * time.Second, Clock: clk})
		here, err := tax.NewService(db, tax.Options{Authz: authz.AllowAll{}, Clock: clk, Rates: lookup})
		if err != nil {
			t.Fatal(err)
		}
		elsewhere, err := tax.NewService(db, tax.Options{Authz: authz.AllowAll{}, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		bps := func() int64 {
			t.Helper()
			r, err := lookup.Rate(ctx, "CN", "GD")
			if err != nil {
				t.Fatal(err)
			}
			return r.BasisPoints
		}
		if got := bps(); got != 0 {
			t.Fatalf("before any rate: %d", got)
		}
		cn, err := here.CreateRate(ctx, tax.RateInput{Country: "CN", Name: "VAT", BasisPoints: 1300})
		if err != nil {
			t.Fatal(err)
		}
		if got := bps(); got != 1300 {
			t.Errorf("after a change here: %d, want 1300 at once", got)
		}
		if _, err := elsewhere.CreateRate(ctx, tax.RateInput{Country: "CN", Region: "GD", Name: "VAT GD", BasisPoints: 600}); err != nil {
			t.Fatal(err)
		}
		if got := bps(); got != 1300 {
			t.Errorf("after a change elsewhere: %d, want the kept 1300 within CacheFor", got)
		}
		clk.Advance(10 * time.Second)
		if got := bps(); got != 600 {
			t.Errorf("after CacheFor: %d, want 600", got)
		}
		boom := errors.New("roll back")
		err = db.RunInTx(ctx, func(ctx context.Context) error {
			if err := here.DeleteRate(ctx, cn.ID); err != nil {
				return err
			}
			if r, err := lookup.Rate(ctx, "CN", "SH"); err != nil || r.BasisPoints != 0 {
				t.Errorf("inside the changing transaction: %+v, %v", r, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if r, err := lookup.Rate(ctx, "CN", "SH"); err != nil || r.BasisPoints != 1300 {
			t.Errorf("after the rollback: %+v, %v", r, err)
		}
	})
}
