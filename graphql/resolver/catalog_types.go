package resolver

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
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
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("DateTime must be a string, got %T", input)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("DateTime must be RFC 3339: %w", err)
	}
	t.t = v.UTC()
	return nil
}

// MarshalJSON writes the time as an RFC 3339 string without reflection.
func (t catalogTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = t.t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
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
// slice, and announcing their ids to the loaders makes the variants,
// prices and stock of the whole page one query each.
type productConnection struct {
	p     page.Page[catalog.Product]
	nodes []productResolver
}

func newProductConnection(s *catalogScope, p page.Page[catalog.Product]) *productConnection {
	c := &productConnection{p: p, nodes: make([]productResolver, len(p.Items))}
	ids := make([]string, len(p.Items))
	for i := range p.Items {
		c.nodes[i] = productResolver{p: &c.p.Items[i], s: s}
		ids[i] = p.Items[i].ID
	}
	s.l.WantProducts(ids...)
	return c
}

func (c *productConnection) Edges() []*productEdge {
	edges := make([]productEdge, len(c.nodes))
	out := make([]*productEdge, len(c.nodes))
	for i := range edges {
		edges[i] = productEdge{c: c, i: i}
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

type productEdge struct {
	c *productConnection
	i int
}

func (e *productEdge) Cursor() string         { return e.c.p.Cursors[e.i].Encode() }
func (e *productEdge) Node() *productResolver { return &e.c.nodes[e.i] }

// productResolver resolves Product.
type productResolver struct {
	p *catalog.Product
	s *catalogScope
}

func newProduct(s *catalogScope, p *catalog.Product) *productResolver {
	s.l.WantProducts(p.ID)
	return &productResolver{p: p, s: s}
}

func (r *productResolver) ID() gql.ID             { return gql.ID(r.p.ID) }
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
	out := make([]*optionResolver, len(r.p.Options))
	for i := range r.p.Options {
		out[i] = &optionResolver{o: &r.p.Options[i]}
	}
	return out
}

// variants returns the product's variants from the request's loader.
func (r *productResolver) variants(ctx context.Context) ([]catalog.Variant, error) {
	return r.s.l.Variants.Get(ctx, r.p.ID)
}

func (r *productResolver) Variants(ctx context.Context, args struct{ IncludeArchived bool }) ([]*variantResolver, error) {
	vs, err := r.variants(ctx)
	if err != nil {
		return nil, err
	}
	rs := make([]variantResolver, 0, len(vs))
	for i := range vs {
		if !vs[i].Archived || args.IncludeArchived {
			rs = append(rs, variantResolver{v: &vs[i], p: r.p, s: r.s})
		}
	}
	out := make([]*variantResolver, len(rs))
	for i := range rs {
		out[i] = &rs[i]
	}
	return out, nil
}

func (r *productResolver) FeaturedVariant(ctx context.Context) (*variantResolver, error) {
	vs, err := r.variants(ctx)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		if !vs[i].Archived {
			return &variantResolver{v: &vs[i], p: r.p, s: r.s}, nil
		}
	}
	return nil, nil
}

func (r *productResolver) PriceRange(ctx context.Context, args struct{ Currency *string }) (*priceRangeResolver, error) {
	vs, err := r.variants(ctx)
	if err != nil {
		return nil, err
	}
	var lo, hi money.Money
	found := false
	for i := range vs {
		if vs[i].Archived {
			continue
		}
		p, err := r.s.price(ctx, vs[i].ID, args.Currency)
		if err != nil {
			return nil, err
		}
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
		return nil, nil
	}
	return &priceRangeResolver{min: lo, max: hi}, nil
}

func (r *productResolver) Collections(ctx context.Context) ([]*collectionResolver, error) {
	cs, err := r.s.l.Collections.Get(ctx, r.p.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*collectionResolver, len(cs))
	for i := range cs {
		out[i] = &collectionResolver{c: cs[i], s: r.s}
	}
	return out, nil
}

type optionResolver struct{ o *catalog.Option }

func (r *optionResolver) Name() string     { return r.o.Name }
func (r *optionResolver) Values() []string { return r.o.Values }

type priceRangeResolver struct{ min, max money.Money }

func (r *priceRangeResolver) Min() *moneyResolver { return newMoney(r.min) }
func (r *priceRangeResolver) Max() *moneyResolver { return newMoney(r.max) }

// ---- variants ----

// variantResolver resolves ProductVariant. p is its product, whose
// option names pair with the variant's values.
type variantResolver struct {
	v *catalog.Variant
	p *catalog.Product
	s *catalogScope
}

func (r *variantResolver) ID() gql.ID             { return gql.ID(r.v.ID) }
func (r *variantResolver) SKU() string            { return r.v.SKU }
func (r *variantResolver) Title() string          { return r.v.Title }
func (r *variantResolver) Position() int32        { return int32(r.v.Position) }
func (r *variantResolver) WeightGrams() int32     { return int32(r.v.WeightGrams) }
func (r *variantResolver) Archived() bool         { return r.v.Archived }
func (r *variantResolver) CreatedAt() catalogTime { return catalogTime{r.v.CreatedAt} }
func (r *variantResolver) UpdatedAt() catalogTime { return catalogTime{r.v.UpdatedAt} }

func (r *variantResolver) SelectedOptions() []*selectedOptionResolver {
	n := min(len(r.v.OptionValues), len(r.p.Options))
	rs := make([]selectedOptionResolver, n)
	out := make([]*selectedOptionResolver, n)
	for i := range n {
		rs[i] = selectedOptionResolver{name: r.p.Options[i].Name, value: r.v.OptionValues[i]}
		out[i] = &rs[i]
	}
	return out
}

type currencyArg struct{ Currency *string }

func (r *variantResolver) Price(ctx context.Context, args currencyArg) (*moneyResolver, error) {
	p, err := r.s.price(ctx, r.v.ID, args.Currency)
	if p == nil || err != nil {
		return nil, err
	}
	return newMoney(p.Amount), nil
}

func (r *variantResolver) CompareAtPrice(ctx context.Context, args currencyArg) (*moneyResolver, error) {
	p, err := r.s.price(ctx, r.v.ID, args.Currency)
	if p == nil || p.CompareAt == nil || err != nil {
		return nil, err
	}
	return newMoney(*p.CompareAt), nil
}

func (r *variantResolver) Prices(ctx context.Context) ([]*moneyResolver, error) {
	ps, err := r.s.l.Prices.Get(ctx, r.v.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*moneyResolver, len(ps))
	for i := range ps {
		out[i] = newMoney(ps[i].Amount)
	}
	return out, nil
}

func (r *variantResolver) AvailableQuantity(ctx context.Context) (int32, error) {
	l, err := r.s.l.Inventory.Get(ctx, r.v.ID)
	return clampInt32(l.Available()), err
}

func (r *variantResolver) AvailableForSale(ctx context.Context) (bool, error) {
	l, err := r.s.l.Inventory.Get(ctx, r.v.ID)
	return !r.v.Archived && l.Available() > 0, err
}

func (r *variantResolver) Inventory(ctx context.Context) (*inventoryLevelResolver, error) {
	if err := r.s.svc.CanReadInventory(ctx); err != nil {
		return nil, err
	}
	l, err := r.s.l.Inventory.Get(ctx, r.v.ID)
	if err != nil {
		return nil, err
	}
	return &inventoryLevelResolver{l: l}, nil
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

// price finds a variant's price in the currency named by code (the shop's
// default when nil). The common case, an upper-case code the variant has a
// price in, needs no parsing and no allocation.
func (s *catalogScope) price(ctx context.Context, variantID string, code *string) (*catalog.Price, error) {
	ps, err := s.l.Prices.Get(ctx, variantID)
	if err != nil {
		return nil, err
	}
	want := s.svc.DefaultCurrency().Code()
	if code != nil {
		want = *code
	}
	for i := range ps {
		if ps[i].Amount.Currency().Code() == want {
			return &ps[i], nil
		}
	}
	cur, err := money.ParseCurrency(want)
	if err != nil {
		return nil, errs.Invalid("currency", catalog.CodeInvalidCurrency, fmt.Sprintf("%q is not an ISO 4217 currency code", want))
	}
	if cur.Code() != want { // lower case: look again with the canonical code
		return s.price(ctx, variantID, new(cur.Code()))
	}
	return nil, nil
}

type selectedOptionResolver struct{ name, value string }

func (r *selectedOptionResolver) Name() string  { return r.name }
func (r *selectedOptionResolver) Value() string { return r.value }

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

// Products lists the collection's products: one query per collection, so
// a page of collections with their products costs a query per collection.
func (r *collectionResolver) Products(ctx context.Context, args struct {
	First   *int32
	After   *string
	SortKey *string
	Reverse bool
}) (*productConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	f := catalog.ProductFilter{Collection: r.c.ID, Reverse: args.Reverse}
	if args.SortKey != nil {
		f.SortKey = catalog.ProductSortKey(strings.ToUpper(*args.SortKey))
	}
	p, err := r.s.svc.ListProducts(ctx, f, req)
	if err != nil {
		return nil, err
	}
	return newProductConnection(r.s, p), nil
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
