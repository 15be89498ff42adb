package resolver

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
)

// catalogTime is the DateTime scalar of catalog types: RFC 3339 in UTC.
// (It belongs in common.go once another domain needs it.)
type catalogTime struct{ t time.Time }

// ImplementsGraphQLType maps catalogTime to DateTime.
func (catalogTime) ImplementsGraphQLType(name string) bool { return name == "DateTime" }

// UnmarshalGraphQL reads an RFC 3339 string.
func (t *catalogTime) UnmarshalGraphQL(input any) error {
	// The message names no Go type and quotes nothing of the input: it
	// reaches clients as is.
	s, ok := input.(string)
	if !ok {
		return errors.New("a DateTime is an RFC 3339 string such as 2026-12-07T10:30:00Z")
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return errors.New("a DateTime is an RFC 3339 string such as 2026-12-07T10:30:00Z")
	}
	t.t = v.UTC()
	return nil
}

// MarshalJSON writes the time as an RFC 3339 string without reflection.
func (t catalogTime) MarshalJSON() ([]byte, error) {
	return t.appendJSON(make([]byte, 0, 32)), nil
}

// appendJSON appends the time as MarshalJSON writes it; query plans write
// it so too.
func (t catalogTime) appendJSON(b []byte) []byte {
	b = append(b, '"')
	b = t.t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// catalogID is the ID scalar of products and variants, the ids of a
// product grid. graph-gophers writes a scalar with encoding/json, which
// calls gql.ID's MarshalJSON and then checks and copies what it returned;
// a string type it writes directly, in the same JSON for Kassa's ids.
type catalogID string

// ImplementsGraphQLType maps catalogID to ID.
func (catalogID) ImplementsGraphQLType(name string) bool { return name == "ID" }

// UnmarshalGraphQL reads an ID given as a string or an integer, as gql.ID
// does.
func (id *catalogID) UnmarshalGraphQL(input any) error {
	var v gql.ID
	if err := v.UnmarshalGraphQL(input); err != nil {
		return err
	}
	*id = catalogID(v)
	return nil
}

// clampInt32 fits a stock figure into GraphQL's 32-bit Int.
func clampInt32(n int64) int32 {
	switch {
	case n > math.MaxInt32:
		return math.MaxInt32
	case n < math.MinInt32:
		return math.MinInt32
	}
	return int32(n)
}

// ---- products ----

// productConnection resolves ProductConnection. Its products live in one
// slice; newProductConnection loads what the selection reads of all of
// them, one query per kind of row, before any of their fields runs.
type productConnection struct {
	p     page.Page[catalog.Product]
	nodes []productResolver
}

func newProductConnection(ctx context.Context, s *catalogScope, p page.Page[catalog.Product]) (*productConnection, error) {
	c := &productConnection{p: p, nodes: make([]productResolver, len(p.Items))}
	ids := make([]string, len(p.Items))
	for i := range p.Items {
		c.nodes[i] = productResolver{p: &c.p.Items[i], s: s}
		ids[i] = p.Items[i].ID
	}
	// Announced first, so that a sibling page loading at the same time
	// (the products of other collections) takes these along.
	s.l.WantProducts(ids...)
	grid, err := s.load(ctx, productNeeds(ctx), ids...)
	if err != nil {
		return nil, err
	}
	for i := range c.nodes {
		c.nodes[i].grid = grid
	}
	return c, nil
}

func (c *productConnection) Edges() []*productEdge {
	edges := make([]productEdge, len(c.nodes))
	out := make([]*productEdge, len(c.nodes))
	for i := range edges {
		edges[i] = productEdge{Node: &c.nodes[i], c: c, i: i}
		out[i] = &edges[i]
	}
	return out
}

func (c *productConnection) Nodes() []*productResolver {
	out := make([]*productResolver, len(c.nodes))
	for i := range c.nodes {
		out[i] = &c.nodes[i]
	}
	return out
}

func (c *productConnection) PageInfo() *pageInfo { return newPageInfo(c.p) }

// productEdge resolves ProductEdge; graph-gophers reads Node without a
// call.
type productEdge struct {
	Node *productResolver
	c    *productConnection
	i    int
}

func (e *productEdge) Cursor() string { return e.c.p.Cursors[e.i].Encode() }

// productResolver resolves Product. Every field is a synchronous getter
// over what the parent loaded: with grid, its variants are in the grid
// loader; else in the variant loader (or they load on demand).
type productResolver struct {
	p    *catalog.Product
	s    *catalogScope
	grid bool
}

// newProduct returns the resolver of a product whose related rows nobody
// loaded (a mutation's payload): announced, they load together on demand.
func newProduct(s *catalogScope, p *catalog.Product) *productResolver {
	s.l.WantProducts(p.ID)
	return &productResolver{p: p, s: s}
}

func (r *productResolver) ID() catalogID          { return catalogID(r.p.ID) }
func (r *productResolver) Handle() string         { return r.p.Handle }
func (r *productResolver) Title() string          { return r.p.Title }
func (r *productResolver) Description() string    { return r.p.Description }
func (r *productResolver) Status() string         { return string(r.p.Status) }
func (r *productResolver) Vendor() string         { return r.p.Vendor }
func (r *productResolver) ProductType() string    { return r.p.ProductType }
func (r *productResolver) CreatedAt() catalogTime { return catalogTime{r.p.CreatedAt} }
func (r *productResolver) UpdatedAt() catalogTime { return catalogTime{r.p.UpdatedAt} }

func (r *productResolver) Tags() []string {
	if r.p.Tags == nil {
		return []string{}
	}
	return r.p.Tags
}

func (r *productResolver) Options() []*optionResolver {
	rs := make([]optionResolver, len(r.p.Options))
	out := make([]*optionResolver, len(r.p.Options))
	for i := range r.p.Options {
		rs[i] = optionResolver{o: &r.p.Options[i]}
		out[i] = &rs[i]
	}
	return out
}

// variantList returns the product's variants, archived ones only when
// archived is true.
func (r *productResolver) variantList(archived bool) []*variantResolver {
	var rs []variantResolver
	if gs, ok := r.gridVariants(); ok {
		rs = make([]variantResolver, 0, len(gs))
		for i := range gs {
			if !gs[i].Archived || archived {
				rs = append(rs, newVariant(&gs[i].Variant, r.p, r.s, &gs[i]))
			}
		}
	} else {
		vs := r.s.variants(r.p.ID)
		rs = make([]variantResolver, 0, len(vs))
		for i := range vs {
			if !vs[i].Archived || archived {
				rs = append(rs, newVariant(&vs[i], r.p, r.s, nil))
			}
		}
	}
	out := make([]*variantResolver, len(rs))
	for i := range rs {
		out[i] = &rs[i]
	}
	return out
}

// gridVariants returns the product's variants from the grid loader when
// its parent loaded them there.
func (r *productResolver) gridVariants() ([]catalog.GridVariant, bool) {
	if !r.grid {
		return nil, false
	}
	return r.s.gridVariants(r.p.ID)
}

func (r *productResolver) Variants() []*variantResolver    { return r.variantList(false) }
func (r *productResolver) AllVariants() []*variantResolver { return r.variantList(true) }

func (r *productResolver) FeaturedVariant() *variantResolver {
	if gs, ok := r.gridVariants(); ok {
		for i := range gs {
			if !gs[i].Archived {
				v := newVariant(&gs[i].Variant, r.p, r.s, &gs[i])
				return &v
			}
		}
		return nil
	}
	vs := r.s.variants(r.p.ID)
	for i := range vs {
		if !vs[i].Archived {
			v := newVariant(&vs[i], r.p, r.s, nil)
			return &v
		}
	}
	return nil
}

// PriceRange is the lowest and highest price of the live variants in the
// scope's currency; nil when none has a price in it.
func (r *productResolver) PriceRange() *priceRangeResolver {
	var lo, hi money.Money
	found := false
	for _, v := range r.variantList(false) {
		p := v.price()
		if p == nil {
			continue
		}
		if !found || p.Amount.Amount() < lo.Amount() {
			lo = p.Amount
		}
		if !found || p.Amount.Amount() > hi.Amount() {
			hi = p.Amount
		}
		found = true
	}
	if !found {
		return nil
	}
	return &priceRangeResolver{min: lo, max: hi}
}

func (r *productResolver) Collections() []*collectionResolver {
	cs := r.s.collections(r.p.ID)
	out := make([]*collectionResolver, len(cs))
	for i := range cs {
		out[i] = &collectionResolver{c: cs[i], s: r.s}
	}
	return out
}

type optionResolver struct{ o *catalog.Option }

func (r *optionResolver) Name() string     { return r.o.Name }
func (r *optionResolver) Values() []string { return r.o.Values }

type priceRangeResolver struct{ min, max money.Money }

func (r *priceRangeResolver) Min() *catalogMoney { return newCatalogMoney(r.min) }
func (r *priceRangeResolver) Max() *catalogMoney { return newCatalogMoney(r.max) }

// catalogMoney resolves the Money of catalog types. Its fields are read
// by graph-gophers without a call (graphql.Options: UseFieldResolvers),
// which matters for the thousands of prices of a product grid.
type catalogMoney struct {
	Amount       string
	CurrencyCode string
}

func newCatalogMoney(m money.Money) *catalogMoney {
	return &catalogMoney{Amount: m.Decimal(), CurrencyCode: m.Currency().Code()}
}

// ---- variants ----

// variantResolver resolves ProductVariant. p is its product, whose
// option names pair with the variant's values. The fields a grid shows
// are synchronous getters, or exported fields that graph-gophers reads
// without a call (UseFieldResolvers); the staff-only stock figures and
// ledger take a context to answer a refusal. Make it with newVariant.
type variantResolver struct {
	ID    catalogID
	SKU   string
	Title string

	v *catalog.Variant
	p *catalog.Product
	s *catalogScope
	// g is the variant's grid row, with its stock and price, when the
	// parent loaded the grid; nil: the price and stock loaders have them.
	g *catalog.GridVariant
}

// price is the variant's price in the scope's currency, nil when it has
// none in it.
func (r *variantResolver) price() *catalog.Price {
	if r.g != nil {
		return r.g.Price
	}
	return r.s.price(r.v.ID)
}

// newVariant returns the resolver of v, a variant of p; g is its grid row
// when the parent loaded the grid, else nil.
func newVariant(v *catalog.Variant, p *catalog.Product, s *catalogScope, g *catalog.GridVariant) variantResolver {
	return variantResolver{ID: catalogID(v.ID), SKU: v.SKU, Title: v.Title, v: v, p: p, s: s, g: g}
}

func (r *variantResolver) level() catalog.InventoryLevel {
	if r.g != nil {
		return r.g.Level
	}
	return r.s.level(r.v.ID)
}

func (r *variantResolver) Position() int32        { return int32(r.v.Position) }
func (r *variantResolver) WeightGrams() int32     { return int32(r.v.WeightGrams) }
func (r *variantResolver) Archived() bool         { return r.v.Archived }
func (r *variantResolver) CreatedAt() catalogTime { return catalogTime{r.v.CreatedAt} }
func (r *variantResolver) UpdatedAt() catalogTime { return catalogTime{r.v.UpdatedAt} }

func (r *variantResolver) SelectedOptions() []*selectedOption {
	n := min(len(r.v.OptionValues), len(r.p.Options))
	rs := make([]selectedOption, n)
	out := make([]*selectedOption, n)
	for i := range n {
		rs[i] = selectedOption{Name: r.p.Options[i].Name, Value: r.v.OptionValues[i]}
		out[i] = &rs[i]
	}
	return out
}

// Price is the price in the scope's currency; nil when the variant has
// none in it.
func (r *variantResolver) Price() *catalogMoney {
	p := r.price()
	if p == nil {
		return nil
	}
	return newCatalogMoney(p.Amount)
}

// CompareAtPrice is the "was" price in the scope's currency; nil when
// there is none.
func (r *variantResolver) CompareAtPrice() *catalogMoney {
	p := r.price()
	if p == nil || p.CompareAt == nil {
		return nil
	}
	return newCatalogMoney(*p.CompareAt)
}

func (r *variantResolver) Prices() []*catalogMoney {
	ps := r.s.prices(r.v.ID)
	out := make([]*catalogMoney, len(ps))
	for i := range ps {
		out[i] = newCatalogMoney(ps[i].Amount)
	}
	return out
}

func (r *variantResolver) AvailableQuantity() int32 {
	l := r.level()
	return clampInt32(l.Available())
}

func (r *variantResolver) AvailableForSale() bool {
	l := r.level()
	return !r.v.Archived && l.Available() > 0
}

func (r *variantResolver) Inventory(ctx context.Context) (*inventoryLevelResolver, error) {
	if err := r.s.canReadInventory(ctx); err != nil {
		return nil, err
	}
	return &inventoryLevelResolver{l: r.level()}, nil
}

func (r *variantResolver) InventoryAdjustments(ctx context.Context, args struct {
	First *int32
	After *string
}) (*adjustmentConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	p, err := r.s.svc.InventoryAdjustments(ctx, r.v.ID, req)
	if err != nil {
		return nil, err
	}
	return &adjustmentConnection{p: p}, nil
}

// selectedOption resolves SelectedOption; graph-gophers reads its fields.
type selectedOption struct{ Name, Value string }

type inventoryLevelResolver struct{ l catalog.InventoryLevel }

func (r *inventoryLevelResolver) OnHand() int32    { return clampInt32(r.l.OnHand) }
func (r *inventoryLevelResolver) Reserved() int32  { return clampInt32(r.l.Reserved) }
func (r *inventoryLevelResolver) Available() int32 { return clampInt32(r.l.Available()) }

type adjustmentResolver struct{ a *catalog.InventoryAdjustment }

func (r *adjustmentResolver) ID() gql.ID             { return gql.ID(r.a.ID) }
func (r *adjustmentResolver) Delta() int32           { return clampInt32(r.a.Delta) }
func (r *adjustmentResolver) Reason() string         { return string(r.a.Reason) }
func (r *adjustmentResolver) Note() string           { return r.a.Note }
func (r *adjustmentResolver) Actor() string          { return r.a.Actor }
func (r *adjustmentResolver) OnHandAfter() int32     { return clampInt32(r.a.OnHandAfter) }
func (r *adjustmentResolver) CreatedAt() catalogTime { return catalogTime{r.a.CreatedAt} }

type adjustmentConnection struct {
	p page.Page[catalog.InventoryAdjustment]
}

func (c *adjustmentConnection) Edges() []*adjustmentEdge {
	out := make([]*adjustmentEdge, len(c.p.Items))
	for i := range c.p.Items {
		out[i] = &adjustmentEdge{a: &c.p.Items[i], cursor: c.p.Cursors[i]}
	}
	return out
}

func (c *adjustmentConnection) Nodes() []*adjustmentResolver {
	out := make([]*adjustmentResolver, len(c.p.Items))
	for i := range c.p.Items {
		out[i] = &adjustmentResolver{a: &c.p.Items[i]}
	}
	return out
}

func (c *adjustmentConnection) PageInfo() *pageInfo { return newPageInfo(c.p) }

type adjustmentEdge struct {
	a      *catalog.InventoryAdjustment
	cursor page.Cursor
}

func (e *adjustmentEdge) Cursor() string            { return e.cursor.Encode() }
func (e *adjustmentEdge) Node() *adjustmentResolver { return &adjustmentResolver{a: e.a} }

// ---- collections ----

// collectionResolver resolves Collection.
type collectionResolver struct {
	c catalog.Collection
	s *catalogScope
}

func (r *collectionResolver) ID() gql.ID             { return gql.ID(r.c.ID) }
func (r *collectionResolver) Handle() string         { return r.c.Handle }
func (r *collectionResolver) Title() string          { return r.c.Title }
func (r *collectionResolver) Description() string    { return r.c.Description }
func (r *collectionResolver) CreatedAt() catalogTime { return catalogTime{r.c.CreatedAt} }
func (r *collectionResolver) UpdatedAt() catalogTime { return catalogTime{r.c.UpdatedAt} }

// Products lists the collection's products: one query per collection
// for the page; what the pages show of their products is loaded with the
// pages of sibling collections that are ready at the same time.
func (r *collectionResolver) Products(ctx context.Context, args struct {
	First   *int32
	After   *string
	SortKey *string
	Reverse *bool
}) (*productConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	f := catalog.ProductFilter{Collection: r.c.ID, Reverse: isTrue(args.Reverse)}
	if args.SortKey != nil {
		f.SortKey = catalog.ProductSortKey(strings.ToUpper(*args.SortKey))
	}
	p, err := r.s.svc.ListProducts(ctx, f, req)
	if err != nil {
		return nil, err
	}
	return newProductConnection(ctx, r.s, p)
}

type collectionConnection struct {
	p page.Page[catalog.Collection]
	s *catalogScope
}

func newCollectionConnection(s *catalogScope, p page.Page[catalog.Collection]) *collectionConnection {
	return &collectionConnection{p: p, s: s}
}

func (c *collectionConnection) Edges() []*collectionEdge {
	out := make([]*collectionEdge, len(c.p.Items))
	for i := range c.p.Items {
		out[i] = &collectionEdge{c: c, i: i}
	}
	return out
}

func (c *collectionConnection) Nodes() []*collectionResolver {
	out := make([]*collectionResolver, len(c.p.Items))
	for i := range c.p.Items {
		out[i] = &collectionResolver{c: c.p.Items[i], s: c.s}
	}
	return out
}

func (c *collectionConnection) PageInfo() *pageInfo { return newPageInfo(c.p) }

type collectionEdge struct {
	c *collectionConnection
	i int
}

func (e *collectionEdge) Cursor() string { return e.c.p.Cursors[e.i].Encode() }
func (e *collectionEdge) Node() *collectionResolver {
	return &collectionResolver{c: e.c.p.Items[e.i], s: e.c.s}
}
