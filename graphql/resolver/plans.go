package resolver

import (
	"context"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/graphql/plan"
)

// Plans returns the fields a query plan may run without graph-gophers'
// executor (package plan, ADR 0012): the storefront's catalog reads
// (grids, product and collection pages), whose lists of variants and
// prices are most of what a shop answers, and a buyer's cart, read on
// every page of a storefront that shows it. Every getter here is the resolver's
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
		return r.Product(ctx, byIDOrHandleArgs(a))
	})
	plan.Root(t, "collections", func(ctx context.Context, a plan.Args) (*collectionConnection, error) {
		return r.Collections(ctx, struct {
			First    *int32
			After    *string
			Currency *string
		}{a.Int32("first"), a.String("after"), a.String("currency")})
	})
	plan.Root(t, "collection", func(ctx context.Context, a plan.Args) (*collectionResolver, error) {
		return r.Collection(ctx, byIDOrHandleArgs(a))
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
	plan.Root(t, "cart", func(ctx context.Context, a plan.Args) (*cartResolver, error) {
		return r.Cart(ctx, struct {
			Token *string
			ID    *gql.ID
		}{a.String("token"), idArg(a, "id")})
	})

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
				Reverse *bool
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
	plan.Object(t, "Cart",
		plan.ID("id", func(c *cartResolver) string { return string(c.ID()) }),
		plan.String("currencyCode", (*cartResolver).CurrencyCode),
		plan.List("lines", (*cartResolver).Lines),
		plan.Int("totalQuantity", (*cartResolver).TotalQuantity),
		plan.NullString("email", (*cartResolver).Email),
		plan.Obj("shippingAddress", (*cartResolver).ShippingAddress),
		plan.Obj("billingAddress", (*cartResolver).BillingAddress),
		plan.List("shippingMethods", (*cartResolver).ShippingMethods),
		plan.NullID("shippingMethodId", func(c *cartResolver) *string { return (*string)(c.ShippingMethodID()) }),
		plan.Obj("shippingMethod", (*cartResolver).ShippingMethod),
		plan.Obj("subtotal", (*cartResolver).Subtotal),
		plan.Obj("shipping", (*cartResolver).Shipping),
		plan.Obj("tax", (*cartResolver).Tax),
		plan.Bool("taxIncluded", (*cartResolver).TaxIncluded),
		plan.List("discounts", (*cartResolver).Discounts),
		plan.Obj("discountTotal", (*cartResolver).DiscountTotal),
		plan.Obj("total", (*cartResolver).Total),
		plan.NullJSON("completedAt", func(c *cartResolver, b []byte) []byte {
			if t := c.CompletedAt(); t != nil {
				return t.appendJSON(b)
			}
			return append(b, "null"...)
		}),
		plan.JSON("createdAt", func(c *cartResolver, b []byte) []byte { return c.CreatedAt().appendJSON(b) }),
		plan.JSON("updatedAt", func(c *cartResolver, b []byte) []byte { return c.UpdatedAt().appendJSON(b) }),
	)
	plan.Object(t, "CartLine",
		plan.ID("id", func(l *cartLineResolver) string { return string(l.ID()) }),
		plan.ID("variantId", func(l *cartLineResolver) string { return string(l.VariantID()) }),
		plan.String("productId", (*cartLineResolver).ProductID),
		plan.String("sku", (*cartLineResolver).SKU),
		plan.String("productTitle", (*cartLineResolver).ProductTitle),
		plan.String("variantTitle", (*cartLineResolver).VariantTitle),
		plan.Int("quantity", (*cartLineResolver).Quantity),
		plan.Int("availableQuantity", (*cartLineResolver).AvailableQuantity),
		plan.Obj("unitPrice", (*cartLineResolver).UnitPrice),
		plan.Obj("subtotal", (*cartLineResolver).Subtotal),
		plan.Obj("discount", (*cartLineResolver).Discount),
		plan.Obj("tax", (*cartLineResolver).Tax),
		plan.Obj("total", (*cartLineResolver).Total),
		plan.NullString("problem", (*cartLineResolver).Problem),
	)
	plan.Object(t, "ShippingRate",
		plan.ID("methodId", func(r *shippingRate) string { return string(r.MethodID()) }),
		plan.String("name", (*shippingRate).Name),
		plan.Obj("price", (*shippingRate).Price),
	)
	plan.Object(t, "Address",
		plan.String("firstName", (*cartAddress).FirstName),
		plan.String("lastName", (*cartAddress).LastName),
		plan.String("company", (*cartAddress).Company),
		plan.String("line1", (*cartAddress).Line1),
		plan.String("line2", (*cartAddress).Line2),
		plan.String("city", (*cartAddress).City),
		plan.String("province", (*cartAddress).Province),
		plan.String("postalCode", (*cartAddress).PostalCode),
		plan.String("countryCode", (*cartAddress).CountryCode),
		plan.String("phone", (*cartAddress).Phone),
	)
	plan.Object(t, "Adjustment",
		plan.String("kind", (*cartAdjustment).Kind),
		plan.String("code", (*cartAdjustment).Code),
		plan.String("label", (*cartAdjustment).Label),
		plan.Obj("amount", (*cartAdjustment).Amount),
	)
	plan.Object(t, "Money",
		plan.String("amount", (*moneyResolver).Amount),
		plan.String("currencyCode", (*moneyResolver).CurrencyCode),
	)
	plan.Object(t, "SelectedOption",
		plan.String("name", func(o *selectedOption) string { return o.Name }),
		plan.String("value", func(o *selectedOption) string { return o.Value }),
	)
	return t
}

// byIDOrHandleArgs reads the arguments of product and collection.
func byIDOrHandleArgs(a plan.Args) byIDOrHandle {
	return byIDOrHandle{ID: idArg(a, "id"), Handle: a.String("handle"), Currency: a.String("currency")}
}

// idArg reads an ID argument as graph-gophers packs it for a *gql.ID.
func idArg(a plan.Args, name string) *gql.ID {
	s := a.String(name)
	if s == nil {
		return nil
	}
	id := gql.ID(*s)
	return &id
}

// selectedFieldNames is graph-gophers' SelectedFieldNames(ctx), or the
// query plan's when a plan resolves the field of ctx.
func selectedFieldNames(ctx context.Context) []string {
	if names, ok := plan.SelectedFieldNames(ctx); ok {
		return names
	}
	return gql.SelectedFieldNames(ctx)
}
