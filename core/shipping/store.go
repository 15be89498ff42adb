package shipping

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// shippingStore is the shipping persistence, the only place with SQL.
// Every method runs on the transaction carried by ctx, if any
// (store.DB.Conn), so the service composes them with RunInTx.
type shippingStore struct {
	db *store.DB
}

func newShippingStore(db *store.DB) *shippingStore { return &shippingStore{db: db} }

// zoneRow is a shipping_zones row; lists are kept comma-separated.
type zoneRow struct {
	bun.BaseModel `bun:"table:shipping_zones"`

	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name,notnull"`
	Countries string    `bun:"countries,notnull"`
	Regions   string    `bun:"regions,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func (r *zoneRow) zone() *Zone {
	return &Zone{ID: r.ID, Name: r.Name, Countries: split(r.Countries), Regions: split(r.Regions),
		Methods: []*Method{}, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func newZoneRow(z *Zone) *zoneRow {
	return &zoneRow{ID: z.ID, Name: z.Name, Countries: strings.Join(z.Countries, ","),
		Regions: strings.Join(z.Regions, ","), CreatedAt: z.CreatedAt, UpdatedAt: z.UpdatedAt}
}

// methodRow is a shipping_methods row; prices are JSON.
type methodRow struct {
	bun.BaseModel `bun:"table:shipping_methods"`

	ID        string    `bun:"id,pk"`
	ZoneID    string    `bun:"zone_id,notnull"`
	Name      string    `bun:"name,notnull"`
	Kind      string    `bun:"kind,notnull"`
	Prices    string    `bun:"prices,notnull"`
	Active    bool      `bun:"active,notnull"`
	Position  int       `bun:"position,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// storedPrice is a MethodPrice in the prices column, amounts in minor
// units of Currency.
type storedPrice struct {
	Currency string       `json:"currency"`
	Amount   *int64       `json:"amount,omitempty"`
	FreeOver *int64       `json:"freeOver,omitempty"`
	Bands    []storedBand `json:"bands,omitempty"`
}

type storedBand struct {
	MaxGrams *int64 `json:"maxGrams"`
	Amount   int64  `json:"amount"`
}

func (r *methodRow) method() (*Method, error) {
	var stored []storedPrice
	if err := json.Unmarshal([]byte(r.Prices), &stored); err != nil {
		return nil, fmt.Errorf("shipping: prices of method %s: %w", r.ID, err)
	}
	m := &Method{ID: r.ID, ZoneID: r.ZoneID, Name: r.Name, Kind: MethodKind(r.Kind), Active: r.Active,
		Position: r.Position, Prices: make([]MethodPrice, len(stored)), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	for i, sp := range stored {
		cur, err := money.ParseCurrency(sp.Currency)
		if err != nil {
			return nil, fmt.Errorf("shipping: prices of method %s: %w", r.ID, err)
		}
		p := MethodPrice{Currency: cur}
		if sp.Amount != nil {
			p.Amount = money.New(*sp.Amount, cur)
		}
		if sp.FreeOver != nil {
			p.FreeOver = money.New(*sp.FreeOver, cur)
		}
		for _, b := range sp.Bands {
			p.Bands = append(p.Bands, WeightBand{MaxGrams: b.MaxGrams, Price: money.New(b.Amount, cur)})
		}
		m.Prices[i] = p
	}
	return m, nil
}

func newMethodRow(m *Method) (*methodRow, error) {
	stored := make([]storedPrice, len(m.Prices))
	for i, p := range m.Prices {
		sp := storedPrice{Currency: p.Currency.Code()}
		if !p.Amount.Currency().IsZero() {
			a := p.Amount.Amount()
			sp.Amount = &a
		}
		if !p.FreeOver.Currency().IsZero() {
			f := p.FreeOver.Amount()
			sp.FreeOver = &f
		}
		for _, b := range p.Bands {
			sp.Bands = append(sp.Bands, storedBand{MaxGrams: b.MaxGrams, Amount: b.Price.Amount()})
		}
		stored[i] = sp
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return nil, fmt.Errorf("shipping: encode prices: %w", err)
	}
	return &methodRow{ID: m.ID, ZoneID: m.ZoneID, Name: m.Name, Kind: string(m.Kind), Prices: string(b),
		Active: m.Active, Position: m.Position, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}, nil
}

// Zones returns every zone with its methods, by name then id. With
// country set, only zones listing it.
func (s *shippingStore) Zones(ctx context.Context, country string) ([]*Zone, error) {
	var rows []zoneRow
	q := s.db.Conn(ctx).NewSelect().Model(&rows).OrderExpr("name ASC, id ASC")
	if country != "" {
		// Codes are two letters joined by commas, so a code matches
		// only itself; Zone.covers checks again.
		q = q.Where("countries LIKE ?", "%"+country+"%")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("shipping: list zones: %w", err)
	}
	// Again in byte order: PostgreSQL orders text by the database's
	// collation, SQLite by bytes, and the order of Quote's equal prices
	// must not depend on the engine.
	slices.SortStableFunc(rows, func(a, b zoneRow) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	return s.withMethods(ctx, rows)
}

// Zone returns one zone with its methods.
func (s *shippingStore) Zone(ctx context.Context, id string) (*Zone, error) {
	var rows []zoneRow
	if err := s.db.Conn(ctx).NewSelect().Model(&rows).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("shipping: read zone: %w", err)
	}
	if len(rows) == 0 {
		return nil, zoneNotFound()
	}
	zs, err := s.withMethods(ctx, rows)
	if err != nil {
		return nil, err
	}
	return zs[0], nil
}

// withMethods converts rows and loads their methods with one query.
func (s *shippingStore) withMethods(ctx context.Context, rows []zoneRow) ([]*Zone, error) {
	out := make([]*Zone, len(rows))
	byID := make(map[string]*Zone, len(rows))
	ids := make([]string, len(rows))
	for i := range rows {
		out[i] = rows[i].zone()
		byID[rows[i].ID] = out[i]
		ids[i] = rows[i].ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var mrows []methodRow
	err := s.db.Conn(ctx).NewSelect().Model(&mrows).Where("zone_id IN (?)", bun.In(ids)).
		OrderExpr("zone_id ASC, position ASC, id ASC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("shipping: list methods: %w", err)
	}
	for i := range mrows {
		m, err := mrows[i].method()
		if err != nil {
			return nil, err
		}
		z := byID[m.ZoneID]
		z.Methods = append(z.Methods, m)
	}
	return out, nil
}

// CountZones returns the number of zones.
func (s *shippingStore) CountZones(ctx context.Context) (int, error) {
	n, err := s.db.Conn(ctx).NewSelect().Model((*zoneRow)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("shipping: count zones: %w", err)
	}
	return int(n), nil
}

// InsertZone stores a new zone.
func (s *shippingStore) InsertZone(ctx context.Context, z *Zone) error {
	if _, err := s.db.Conn(ctx).NewInsert().Model(newZoneRow(z)).Exec(ctx); err != nil {
		return fmt.Errorf("shipping: insert zone: %w", err)
	}
	return nil
}

// UpdateZone writes a zone's fields.
func (s *shippingStore) UpdateZone(ctx context.Context, z *Zone) error {
	res, err := s.db.Conn(ctx).NewUpdate().Model(newZoneRow(z)).
		Column("name", "countries", "regions", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("shipping: update zone: %w", err)
	}
	return oneRow(res, zoneNotFound)
}

// DeleteZone deletes a zone and its methods.
func (s *shippingStore) DeleteZone(ctx context.Context, id string) error {
	// The foreign key cascades too; deleting the methods first does not
	// depend on SQLite's foreign_keys pragma.
	if _, err := s.db.Conn(ctx).NewDelete().Model((*methodRow)(nil)).Where("zone_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("shipping: delete methods of zone: %w", err)
	}
	res, err := s.db.Conn(ctx).NewDelete().Model((*zoneRow)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("shipping: delete zone: %w", err)
	}
	return oneRow(res, zoneNotFound)
}

// Method returns one method.
func (s *shippingStore) Method(ctx context.Context, id string) (*Method, error) {
	var rows []methodRow
	if err := s.db.Conn(ctx).NewSelect().Model(&rows).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("shipping: read method: %w", err)
	}
	if len(rows) == 0 {
		return nil, methodNotFound()
	}
	return rows[0].method()
}

// MethodStats returns how many methods a zone has and the position after
// its last one.
func (s *shippingStore) MethodStats(ctx context.Context, zoneID string) (count, next int, err error) {
	var st struct {
		N   int `bun:"n"`
		Max int `bun:"max_position"`
	}
	err = s.db.Conn(ctx).NewSelect().Model((*methodRow)(nil)).
		ColumnExpr("COUNT(*) AS n").ColumnExpr("COALESCE(MAX(position), -1) AS max_position").
		Where("zone_id = ?", zoneID).Scan(ctx, &st)
	if err != nil {
		return 0, 0, fmt.Errorf("shipping: count methods: %w", err)
	}
	return st.N, st.Max + 1, nil
}

// InsertMethod stores a new method.
func (s *shippingStore) InsertMethod(ctx context.Context, m *Method) error {
	row, err := newMethodRow(m)
	if err != nil {
		return err
	}
	if _, err := s.db.Conn(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("shipping: insert method: %w", err)
	}
	return nil
}

// UpdateMethod writes a method's fields.
func (s *shippingStore) UpdateMethod(ctx context.Context, m *Method) error {
	row, err := newMethodRow(m)
	if err != nil {
		return err
	}
	res, err := s.db.Conn(ctx).NewUpdate().Model(row).
		Column("name", "kind", "prices", "active", "position", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("shipping: update method: %w", err)
	}
	return oneRow(res, methodNotFound)
}

// DeleteMethod deletes a method.
func (s *shippingStore) DeleteMethod(ctx context.Context, id string) error {
	res, err := s.db.Conn(ctx).NewDelete().Model((*methodRow)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("shipping: delete method: %w", err)
	}
	return oneRow(res, methodNotFound)
}

// oneRow returns notFound() unless res changed a row.
func oneRow(res interface{ RowsAffected() (int64, error) }, notFound func() *errs.Error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("shipping: rows affected: %w", err)
	}
	if n == 0 {
		return notFound()
	}
	return nil
}
