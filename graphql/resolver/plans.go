package resolver

import (
	"context"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/graphql/plan"
)

// Plans returns the fields a query plan may run without graph-gophers'
// executor (package plan, ADR 0012): the storefront's catalog reads
// (grids, product and collection pages), whose lists of variants and
// prices are most of what a shop answers. Every getter here is the resolver's
// own method or field, so a plan answers what the executor would;
// graphql's TestPlansAnswerAsTheExecutor compares the two.
func (r *Resolver) Plans() *plan.Table {
	t := plan.NewTable()
	plan.Root(t, "products", func(ctx context.Context, a plan.Args) (*productConnection, error) {
		return r.Products(ctx, productsArgs{
			First: a.Int32("first"), After: a.String("after"), Query: a.String("query"),
			Collection: a.String("collection"), SortKey: a.String("sortKey"), Reverse: a.Bool("reverse"),
			Status: a.String("status"), Currency: a.String("currency"),
		})
	})
	plan.Root(t, "product", func(ctx context.Context, a plan.Args) (*productResolver, error) {
		args := byIDOrHandle{Handle: a.String("handle"), Currency: a.String("currency")}
		if id := a.String("id"); id != nil {
			gid := gql.ID(*id)
			args.ID = &gid
		}
		return r.Product(ctx, args)
	})
	plan.Root(t, "collections", func(ctx context.Context, a plan.Args) (*collectionConnection, error) {
		return r.Collections(ctx, struct {
			First    *int32
			After    *string
			Currency *string
		}{a.Int32("first"), a.String("after"), a.String("currency")})
	})
	plan.Root(t, "collection", func(ctx context.Context, a plan.Args) (*collectionResolver, error) {
		args := byIDOrHandle{Handle: a.String("handle"), Currency: a.String("currency")}
		if id := a.String("id"); id != nil {
			gid := gql.ID(*id)
			args.ID = &gid
		}
		return r.Collection(ctx, args)
	})

	plan.Object(t, "ProductConnection",
		plan.List("edges", (*productConnection).Edges),
		plan.List("nodes", (*productConnection).Nodes),
		plan.Obj("pageInfo", (*productConnection).PageInfo),
	)
	plan.Object(t, "ProductEdge",
		plan.String("cursor", (*productEdge).Cursor),
		plan.Obj("node", func(e *productEdge) *productResolver { return e.Node }),
	)
	plan.Object(t, "CollectionConnection",
		plan.List("edges", (*collectionConnection).Edges),
		plan.List("nodes", (*collectionConnection).Nodes),
		plan.Obj("pageInfo", (*collectionConnection).PageInfo),
	)
	plan.Object(t, "CollectionEdge",
		plan.String("cursor", (*collectionEdge).Cursor),
		plan.Obj("node", (*collectionEdge).Node),
	)
	plan.Object(t, "Collection",
		plan.ID("id", func(c *collectionResolver) string { return string(c.ID()) }),
		plan.String("handle", (*collectionResolver).Handle),
		plan.String("title", (*collectionResolver).Title),
		plan.String("description", (*collectionResolver).Description),
		plan.JSON("createdAt", func(c *collectionResolver, b []byte) []byte { return c.CreatedAt().appendJSON(b) }),
		plan.JSON("updatedAt", func(c *collectionResolver, b []byte) []byte { return c.UpdatedAt().appendJSON(b) }),
		plan.Resolve("products", func(ctx context.Context, c *collectionResolver, a plan.Args) (*productConnection, error) {
			return c.Products(ctx, struct {
				First   *int32
				After   *string
				SortKey *string
				Reverse bool
			}{a.Int32("first"), a.String("after"), a.String("sortKey"), a.Bool("reverse")})
		}),
	)
	plan.Object(t, "PageInfo",
		plan.Bool("hasNextPage", (*pageInfo).HasNextPage),
		plan.Bool("hasPreviousPage", (*pageInfo).HasPreviousPage),
		plan.NullString("startCursor", (*pageInfo).StartCursor),
		plan.NullString("endCursor", (*pageInfo).EndCursor),
	)
	plan.Object(t, "Product",
		plan.String("id", func(p *productResolver) string { return string(p.ID()) }),
		plan.String("handle", (*productResolver).Handle),
		plan.String("title", (*productResolver).Title),
		plan.String("description", (*productResolver).Description),
		plan.Enum("status", (*productResolver).Status),
		plan.String("vendor", (*productResolver).Vendor),
		plan.String("productType", (*productResolver).ProductType),
		plan.Strings("tags", (*productResolver).Tags),
		plan.List("options", (*productResolver).Options),
		plan.List("variants", (*productResolver).Variants),
		plan.List("allVariants", (*productResolver).AllVariants),
		plan.Obj("featuredVariant", (*productResolver).FeaturedVariant),
		plan.Obj("priceRange", (*productResolver).PriceRange),
		plan.List("collections", (*productResolver).Collections),
		plan.JSON("createdAt", func(p *productResolver, b []byte) []byte { return p.CreatedAt().appendJSON(b) }),
		plan.JSON("updatedAt", func(p *productResolver, b []byte) []byte { return p.UpdatedAt().appendJSON(b) }),
	)
	plan.Object(t, "ProductOption",
		plan.String("name", (*optionResolver).Name),
		plan.Strings("values", (*optionResolver).Values),
	)
	plan.Object(t, "PriceRange",
		plan.Obj("min", (*priceRangeResolver).Min),
		plan.Obj("max", (*priceRangeResolver).Max),
	)
	plan.Object(t, "Money",
		plan.String("amount", func(m *catalogMoney) string { return m.Amount }),
		plan.String("currencyCode", func(m *catalogMoney) string { return m.CurrencyCode }),
	)
	plan.Object(t, "ProductVariant",
		plan.String("id", func(v *variantResolver) string { return string(v.ID) }),
		plan.String("sku", func(v *variantResolver) string { return v.SKU }),
		plan.String("title", func(v *variantResolver) string { return v.Title }),
		plan.List("selectedOptions", (*variantResolver).SelectedOptions),
		plan.Int("position", (*variantResolver).Position),
		plan.Int("weightGrams", (*variantResolver).WeightGrams),
		plan.Bool("archived", (*variantResolver).Archived),
		plan.Obj("price", (*variantResolver).Price),
		plan.Obj("compareAtPrice", (*variantResolver).CompareAtPrice),
		plan.List("prices", (*variantResolver).Prices),
		plan.Int("availableQuantity", (*variantResolver).AvailableQuantity),
		plan.Bool("availableForSale", (*variantResolver).AvailableForSale),
		plan.JSON("createdAt", func(v *variantResolver, b []byte) []byte { return v.CreatedAt().appendJSON(b) }),
		plan.JSON("updatedAt", func(v *variantResolver, b []byte) []byte { return v.UpdatedAt().appendJSON(b) }),
	)
	plan.Object(t, "SelectedOption",
		plan.String("name", func(o *selectedOption) string { return o.Name }),
		plan.String("value", func(o *selectedOption) string { return o.Value }),
	)
	return t
}

// selectedFieldNames is graph-gophers' SelectedFieldNames(ctx), or the
// query plan's when a plan resolves the field of ctx.
func selectedFieldNames(ctx context.Context) []string {
	if names, ok := plan.SelectedFieldNames(ctx); ok {
		return names
	}
	return gql.SelectedFieldNames(ctx)
}
