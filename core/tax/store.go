package tax

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// taxStore is the tax persistence, the only place with SQL. Every method
// runs on the transaction carried by ctx, if any.
type taxStore struct {
	db *store.DB
}

func newTaxStore(db *store.DB) *taxStore { return &taxStore{db: db} }

// rateRow is a tax_rates row.
type rateRow struct {
	bun.BaseModel `bun:"table:tax_rates"`

	ID        string    `bun:"id,pk"`
	Country   string    `bun:"country,notnull"`
	Region    string    `bun:"region,notnull"`
	Name      string    `bun:"name,notnull"`
	RateBPS   int64     `bun:"rate_bps,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

func (r *rateRow) rate() *Rate {
	return &Rate{ID: r.ID, Country: r.Country, Region: r.Region, Name: r.Name, BasisPoints: r.RateBPS,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func newRateRow(r *Rate) *rateRow {
	return &rateRow{ID: r.ID, Country: r.Country, Region: r.Region, Name: r.Name, RateBPS: r.BasisPoints,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// Rates returns every rate by country, then region ("" first).
func (s *taxStore) Rates(ctx context.Context) ([]*Rate, error) {
	var rows []rateRow
	if err := s.db.Conn(ctx).NewSelect().Model(&rows).OrderExpr("country ASC, region ASC, id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("tax: list rates: %w", err)
	}
	out := make([]*Rate, len(rows))
	for i := range rows {
		out[i] = rows[i].rate()
	}
	return out, nil
}

// Rate returns one rate.
func (s *taxStore) Rate(ctx context.Context, id string) (*Rate, error) {
	var rows []rateRow
	if err := s.db.Conn(ctx).NewSelect().Model(&rows).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("tax: read rate: %w", err)
	}
	if len(rows) == 0 {
		return nil, rateNotFound()
	}
	return rows[0].rate(), nil
}

// Count returns the number of rates.
func (s *taxStore) Count(ctx context.Context) (int, error) {
	n, err := s.db.Conn(ctx).NewSelect().Model((*rateRow)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("tax: count rates: %w", err)
	}
	return int(n), nil
}

// RatesFor returns the rates of country: the country-wide one and the
// region's (kept as "QC", or as "CA-QC" by rates saved before regions
// lost their prefix), whichever exist.
func (s *taxStore) RatesFor(ctx context.Context, country, region string) ([]*Rate, error) {
	var rows []rateRow
	err := s.db.Conn(ctx).NewSelect().Model(&rows).
		Where("country = ?", country).Where("region IN (?)", bun.In([]string{"", region, country + "-" + region})).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("tax: read rates of %s: %w", country, err)
	}
	out := make([]*Rate, len(rows))
	for i := range rows {
		out[i] = rows[i].rate()
	}
	return out, nil
}

// HasRegions reports whether a rate of country names a region.
func (s *taxStore) HasRegions(ctx context.Context, country string) (bool, error) {
	ok, err := s.db.Conn(ctx).NewSelect().Model((*rateRow)(nil)).Where("country = ?", country).Where("region <> ''").Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("tax: read the regions of %s: %w", country, err)
	}
	return ok, nil
}

// Insert stores a new rate; a second rate for one place is a unique
// violation (tax_rates_place).
func (s *taxStore) Insert(ctx context.Context, r *Rate) error {
	if _, err := s.db.Conn(ctx).NewInsert().Model(newRateRow(r)).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return rateExists()
		}
		return fmt.Errorf("tax: insert rate: %w", err)
	}
	return nil
}

// Update writes a rate's fields.
func (s *taxStore) Update(ctx context.Context, r *Rate) error {
	res, err := s.db.Conn(ctx).NewUpdate().Model(newRateRow(r)).
		Column("country", "region", "name", "rate_bps", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return rateExists()
		}
		return fmt.Errorf("tax: update rate: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return fmt.Errorf("tax: update rate: %w", err)
		}
		return rateNotFound()
	}
	return nil
}

// Delete deletes a rate.
func (s *taxStore) Delete(ctx context.Context, id string) error {
	res, err := s.db.Conn(ctx).NewDelete().Model((*rateRow)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("tax: delete rate: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return fmt.Errorf("tax: delete rate: %w", err)
		}
		return rateNotFound()
	}
	return nil
}
