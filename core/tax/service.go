package tax

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/store"
)

// RatePrefix is the id prefix of tax rates.
const RatePrefix = "txr"

// maxRegionLength bounds a region code.
const maxRegionLength = 20

// Options configure NewService. Authz is required; the other fields
// default when zero.
type Options struct {
	// Authz is asked before every operation: settings read for reads,
	// settings write for changes. Required.
	Authz authz.Authorizer
	// Clock stamps writes; nil is the system clock.
	Clock clock.Clock
	// Rates are the cart's lookups whose memory every change here
	// invalidates; nil when there are none to tell.
	Rates *Rates
}

// Service is the staff's side of tax: the rates. Every method asks the
// authorizer first (settings read or write). The cart's lookups go
// through Rates.
type Service struct {
	db    *store.DB
	store *taxStore
	authz authz.Authorizer
	clock clock.Clock
	rates *Rates
}

// NewService returns the tax service over db. It fails when a required
// option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("tax: no database")
	case opts.Authz == nil:
		return nil, errors.New("tax: Options.Authz is required")
	}
	s := &Service{db: db, store: newTaxStore(db), authz: opts.Authz, clock: opts.Clock, rates: opts.Rates}
	if s.clock == nil {
		s.clock = clock.System
	}
	return s, nil
}

// now is the time of a write, cut to the microsecond PostgreSQL keeps.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// ratesKey marks a transaction that changed rates (store.Touch): the
// cache of Rates neither answers nor keeps what it reads there.
type ratesKey struct{}

// changed runs a change in a transaction and then makes the lookups
// forget the rates they keep: at once, and again once the outermost
// transaction committed (a lookup between the two would keep the old
// rates).
func (s *Service) changed(ctx context.Context, fn func(ctx context.Context) error) error {
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		store.Touch(ctx, ratesKey{})
		return fn(ctx)
	})
	if s.rates != nil {
		s.rates.Invalidate()
		store.AfterCommit(ctx, s.rates.Invalidate)
	}
	return err
}

// ListRates returns every rate, by country and then region (the
// country-wide rate first).
func (s *Service) ListRates(ctx context.Context) ([]*Rate, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Read); err != nil {
		return nil, err
	}
	return s.store.Rates(ctx)
}

// GetRate returns one rate.
func (s *Service) GetRate(ctx context.Context, id string) (*Rate, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Read); err != nil {
		return nil, err
	}
	return s.store.Rate(ctx, id)
}

// CreateRate creates the rate of a country or region; each place has one
// rate at most (CodeRateExists), and a shop MaxRates (CodeTooMany).
func (s *Service) CreateRate(ctx context.Context, in RateInput) (*Rate, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return nil, err
	}
	now := s.now()
	r := &Rate{ID: id.New(RatePrefix), CreatedAt: now, UpdatedAt: now}
	if err := check(r, in); err != nil {
		return nil, err
	}
	err := s.changed(ctx, func(ctx context.Context) error {
		n, err := s.store.Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxRates {
			return errs.Invalid("", CodeTooMany, fmt.Sprintf("a shop has at most %d tax rates", MaxRates))
		}
		if err := s.free(ctx, r); err != nil {
			return err
		}
		return s.store.Insert(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRate changes a rate.
func (s *Service) UpdateRate(ctx context.Context, id string, in UpdateRateInput) (*Rate, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return nil, err
	}
	var out *Rate
	err := s.changed(ctx, func(ctx context.Context) error {
		r, err := s.store.Rate(ctx, id)
		if err != nil {
			return err
		}
		full := RateInput{Country: r.Country, Region: r.Region, Name: r.Name, BasisPoints: r.BasisPoints}
		if in.Country != nil {
			full.Country = *in.Country
		}
		if in.Region != nil {
			full.Region = *in.Region
		}
		if in.Name != nil {
			full.Name = *in.Name
		}
		if in.BasisPoints != nil {
			full.BasisPoints = *in.BasisPoints
		}
		if err := check(r, full); err != nil {
			return err
		}
		if err := s.free(ctx, r); err != nil {
			return err
		}
		r.UpdatedAt = s.now()
		if err := s.store.Update(ctx, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRate deletes a rate; its place is then taxed at the country's
// rate, or not at all.
func (s *Service) DeleteRate(ctx context.Context, id string) error {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return err
	}
	return s.changed(ctx, func(ctx context.Context) error { return s.store.Delete(ctx, id) })
}

// free refuses r when another rate has its place. The unique index is the
// guard against a race; checking first keeps a PostgreSQL transaction
// (perhaps the caller's) usable in the common case.
func (s *Service) free(ctx context.Context, r *Rate) error {
	rates, err := s.store.RatesFor(ctx, r.Country, r.Region)
	if err != nil {
		return err
	}
	for _, o := range rates {
		if o.Region == r.Region && o.ID != r.ID {
			return rateExists()
		}
	}
	return nil
}

// check validates in and copies it, normalized, into r.
func check(r *Rate, in RateInput) error {
	var v errs.Validator
	r.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	v.Check(country.Valid(r.Country), "country", CodeInvalidCountry, "the country is an ISO 3166-1 alpha-2 code such as CN or US")
	r.Region = subdivision(in.Region, r.Country)
	v.Check(r.Region == "" || validRegion(r.Region), "region", CodeInvalidRegion,
		fmt.Sprintf("a region code is 1 to %d letters, digits or dashes, such as QC (or CA-QC) for Quebec", maxRegionLength))
	r.Name = strings.TrimSpace(in.Name)
	v.Check(r.Name != "", "name", CodeRequired, "a name is required")
	v.Check(utf8.RuneCountInString(r.Name) <= MaxNameLength, "name", CodeTooLong,
		fmt.Sprintf("a name is at most %d characters", MaxNameLength))
	r.BasisPoints = in.BasisPoints
	v.Check(in.BasisPoints >= 0 && in.BasisPoints <= MaxBasisPoints, "basisPoints", CodeOutOfRange,
		fmt.Sprintf("a rate is between 0 and %d basis points (0 %% to 100 %%)", MaxBasisPoints))
	return v.Err()
}

// subdivision returns region in the form rates keep (country.Region):
// the ISO 3166-2 subdivision code without its country prefix, upper case.
// "ca-qc", "QC" and "Québec" of CA are "QC": a buyer who spells out the
// province pays its rate. A prefix of another country is left for
// validRegion to judge.
func subdivision(region, cc string) string { return country.Region(cc, region) }

// validRegion reports whether r (normalized) is a plausible region code,
// as core/shipping accepts them.
func validRegion(r string) bool {
	if r == "" || len(r) > maxRegionLength {
		return false
	}
	for _, c := range r {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
