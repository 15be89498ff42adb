package shipping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// The id prefixes of shipping records.
const (
	ZonePrefix   = "shz"
	MethodPrefix = "shm"
)

// Options configure NewService. Authz is required; the other fields
// default when zero.
type Options struct {
	// Authz is asked before every operation: settings read for reads,
	// settings write for changes. Required.
	Authz authz.Authorizer
	// Clock stamps writes; nil is the system clock.
	Clock clock.Clock
	// Rates are the buyers' quotes whose memory every change here
	// invalidates; nil when there are none to tell.
	Rates *Rates
}

// Service is the staff's side of shipping: zones and their methods. Every
// method asks the authorizer first (settings read or write). Buyers'
// quotes go through Rates.
type Service struct {
	db    *store.DB
	store *shippingStore
	authz authz.Authorizer
	clock clock.Clock
	rates *Rates
}

// NewService returns the shipping service over db. It fails when a
// required option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("shipping: no database")
	case opts.Authz == nil:
		return nil, errors.New("shipping: Options.Authz is required")
	}
	s := &Service{db: db, store: newShippingStore(db), authz: opts.Authz, clock: opts.Clock, rates: opts.Rates}
	if s.clock == nil {
		s.clock = clock.System
	}
	return s, nil
}

// now is the time of a write, cut to the microsecond PostgreSQL keeps.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// zonesKey marks a transaction that changed zones and methods (store.Touch): the
// cache of Rates neither answers nor keeps what it reads there.
type zonesKey struct{}

// changed runs a change in a transaction and then makes the quotes forget
// the zones they keep: at once, and again once the outermost transaction
// committed (a quote between the two would keep the old zones).
func (s *Service) changed(ctx context.Context, fn func(ctx context.Context) error) error {
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		store.Touch(ctx, zonesKey{})
		return fn(ctx)
	})
	if s.rates != nil {
		s.rates.Invalidate()
		store.AfterCommit(ctx, s.rates.Invalidate)
	}
	return err
}

// Countries returns the countries some active method priced in cur ships
// to (Rates.Countries). It asks no authorizer: it is what every buyer's
// address form offers.
func (s *Service) Countries(ctx context.Context, cur money.Currency) ([]string, error) {
	if s.rates != nil {
		return s.rates.Countries(ctx, cur)
	}
	zones, err := s.store.Zones(ctx, "")
	if err != nil {
		return nil, err
	}
	return shippedCountries(zones, cur), nil
}

// Zones returns every zone with its methods (active or not), by name.
func (s *Service) Zones(ctx context.Context) ([]*Zone, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Read); err != nil {
		return nil, err
	}
	return s.store.Zones(ctx, "")
}

// Zone returns one zone with its methods.
func (s *Service) Zone(ctx context.Context, id string) (*Zone, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Read); err != nil {
		return nil, err
	}
	return s.store.Zone(ctx, id)
}

// CreateZone creates a zone without methods.
func (s *Service) CreateZone(ctx context.Context, in ZoneInput) (*Zone, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return nil, err
	}
	var v errs.Validator
	now := s.now()
	name := checkName(&v, in.Name) // problems in the input's order
	countries := checkCountries(&v, in.Countries)
	z := &Zone{ID: id.New(ZonePrefix), Name: name, Countries: countries,
		Regions: checkRegions(&v, in.Regions, countries), Methods: []*Method{}, CreatedAt: now, UpdatedAt: now}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.changed(ctx, func(ctx context.Context) error {
		n, err := s.store.CountZones(ctx)
		if err != nil {
			return err
		}
		if n >= MaxZones {
			return errs.Invalid("", CodeTooMany, fmt.Sprintf("a shop has at most %d shipping zones", MaxZones))
		}
		return s.store.InsertZone(ctx, z)
	})
	if err != nil {
		return nil, err
	}
	return z, nil
}

// UpdateZone changes a zone's name, countries or regions.
func (s *Service) UpdateZone(ctx context.Context, id string, in UpdateZoneInput) (*Zone, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return nil, err
	}
	var out *Zone
	err := s.changed(ctx, func(ctx context.Context) error {
		z, err := s.store.Zone(ctx, id)
		if err != nil {
			return err
		}
		var v errs.Validator
		if in.Name != nil {
			z.Name = checkName(&v, *in.Name)
		}
		if in.Countries != nil {
			z.Countries = checkCountries(&v, *in.Countries)
		}
		if in.Regions != nil {
			z.Regions = checkRegions(&v, *in.Regions, z.Countries)
		}
		if err := v.Err(); err != nil {
			return err
		}
		z.UpdatedAt = s.now()
		if err := s.store.UpdateZone(ctx, z); err != nil {
			return err
		}
		out = z
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteZone deletes a zone and its methods. Carts that chose one of them
// are asked to choose again (Rates.Rate refuses it).
func (s *Service) DeleteZone(ctx context.Context, id string) error {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return err
	}
	return s.changed(ctx, func(ctx context.Context) error { return s.store.DeleteZone(ctx, id) })
}

// Method returns one method.
func (s *Service) Method(ctx context.Context, id string) (*Method, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Read); err != nil {
		return nil, err
	}
	return s.store.Method(ctx, id)
}

// CreateMethod adds a method to a zone.
func (s *Service) CreateMethod(ctx context.Context, in MethodInput) (*Method, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return nil, err
	}
	var v errs.Validator
	now := s.now()
	m := &Method{ID: id.New(MethodPrefix), ZoneID: in.ZoneID, Name: checkName(&v, in.Name), Kind: in.Kind,
		Prices: parsePrices(&v, in.Prices), Active: true, CreatedAt: now, UpdatedAt: now}
	if in.Active != nil {
		m.Active = *in.Active
	}
	if in.Position != nil {
		v.Check(*in.Position >= 0 && *in.Position <= MaxPosition, "position", CodeInvalidPosition, fmt.Sprintf("the position is 0 to %d", MaxPosition))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	checkKind(&v, m.Kind, m.Prices)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.changed(ctx, func(ctx context.Context) error {
		if _, err := s.store.Zone(ctx, in.ZoneID); err != nil {
			if errors.Is(err, errs.ErrNotFound) {
				return zoneNotFound().WithField("zoneId")
			}
			return err
		}
		n, next, err := s.store.MethodStats(ctx, in.ZoneID)
		if err != nil {
			return err
		}
		if n >= MaxMethodsInZone {
			return errs.Invalid("zoneId", CodeTooMany, fmt.Sprintf("a zone has at most %d methods", MaxMethodsInZone))
		}
		m.Position = next
		if in.Position != nil {
			m.Position = *in.Position
		}
		return s.store.InsertMethod(ctx, m)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UpdateMethod changes a method. The kind and the prices in force after
// the update must agree.
func (s *Service) UpdateMethod(ctx context.Context, id string, in UpdateMethodInput) (*Method, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return nil, err
	}
	var out *Method
	err := s.changed(ctx, func(ctx context.Context) error {
		m, err := s.store.Method(ctx, id)
		if err != nil {
			return err
		}
		var v errs.Validator
		if in.Name != nil {
			m.Name = checkName(&v, *in.Name)
		}
		if in.Kind != nil {
			m.Kind = *in.Kind
		}
		if in.Prices != nil {
			m.Prices = parsePrices(&v, *in.Prices)
		}
		if in.Active != nil {
			m.Active = *in.Active
		}
		if in.Position != nil {
			v.Check(*in.Position >= 0 && *in.Position <= MaxPosition, "position", CodeInvalidPosition, fmt.Sprintf("the position is 0 to %d", MaxPosition))
			m.Position = *in.Position
		}
		if err := v.Err(); err != nil {
			return err
		}
		checkKind(&v, m.Kind, m.Prices)
		if err := v.Err(); err != nil {
			return err
		}
		m.UpdatedAt = s.now()
		if err := s.store.UpdateMethod(ctx, m); err != nil {
			return err
		}
		out = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMethod deletes a method.
func (s *Service) DeleteMethod(ctx context.Context, id string) error {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return err
	}
	return s.changed(ctx, func(ctx context.Context) error { return s.store.DeleteMethod(ctx, id) })
}
