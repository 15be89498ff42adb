package resolver

import (
	"context"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/catalog"
)

// ---- inputs ----

type productOptionInput struct {
	Name   string
	Values []string
}

type selectedOptionInput struct {
	Name  string
	Value string
}

type variantPriceInput struct {
	CurrencyCode    string
	Amount          string
	CompareAtAmount *string
}

type productVariantInput struct {
	SKU               *string
	Title             *string
	SelectedOptions   *[]selectedOptionInput
	WeightGrams       *int32
	Prices            *[]variantPriceInput
	InventoryQuantity *int32
}

type productCreateInput struct {
	Handle      *string
	Title       string
	Description *string
	Status      *string
	Vendor      *string
	ProductType *string
	Tags        *[]string
	Options     *[]productOptionInput
	Variants    *[]productVariantInput
}

type productUpdateInput struct {
	ID          gql.ID
	Handle      *string
	Title       *string
	Description *string
	Status      *string
	Vendor      *string
	ProductType *string
	Tags        *[]string
	Options     *[]productOptionInput
}

type productVariantCreateInput struct {
	ProductID         gql.ID
	SKU               *string
	Title             *string
	SelectedOptions   *[]selectedOptionInput
	WeightGrams       *int32
	Prices            *[]variantPriceInput
	InventoryQuantity *int32
}

type productVariantUpdateInput struct {
	ID              gql.ID
	SKU             *string
	Title           *string
	SelectedOptions *[]selectedOptionInput
	WeightGrams     *int32
}

type productVariantPricesSetInput struct {
	VariantID        gql.ID
	Prices           *[]variantPriceInput
	RemoveCurrencies *[]string
}

type inventoryAdjustInput struct {
	VariantID gql.ID
	Delta     int32
	Reason    string
	Note      *string
}

type collectionCreateInput struct {
	Handle      *string
	Title       string
	Description *string
	ProductIDs  *[]gql.ID
}

type collectionUpdateInput struct {
	ID          gql.ID
	Handle      *string
	Title       *string
	Description *string
}

type collectionProductsInput struct {
	CollectionID gql.ID
	ProductIDs   []gql.ID
}

type catalogIDInput struct{ ID gql.ID }

func catStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func catOptions(in *[]productOptionInput) []catalog.Option {
	if in == nil {
		return nil
	}
	out := make([]catalog.Option, len(*in))
	for i, o := range *in {
		out[i] = catalog.Option{Name: o.Name, Values: o.Values}
	}
	return out
}

func catSelectedOptions(in []selectedOptionInput) []catalog.SelectedOption {
	out := make([]catalog.SelectedOption, len(in))
	for i, o := range in {
		out[i] = catalog.SelectedOption{Name: o.Name, Value: o.Value}
	}
	return out
}

func catPrices(in *[]variantPriceInput) []catalog.PriceInput {
	if in == nil {
		return nil
	}
	out := make([]catalog.PriceInput, len(*in))
	for i, p := range *in {
		out[i] = catalog.PriceInput{Currency: p.CurrencyCode, Amount: p.Amount, CompareAtAmount: catStr(p.CompareAtAmount)}
	}
	return out
}

func catIDs(in []gql.ID) []string {
	out := make([]string, len(in))
	for i, id := range in {
		out[i] = string(id)
	}
	return out
}

func (in *productVariantInput) toService() catalog.VariantInput {
	v := catalog.VariantInput{SKU: catStr(in.SKU), Title: catStr(in.Title), Prices: catPrices(in.Prices)}
	if in.SelectedOptions != nil {
		v.SelectedOptions = catSelectedOptions(*in.SelectedOptions)
	}
	if in.WeightGrams != nil {
		v.WeightGrams = int(*in.WeightGrams)
	}
	if in.InventoryQuantity != nil {
		v.InventoryQuantity = int64(*in.InventoryQuantity)
	}
	return v
}

// withoutProductID copies the variant fields of a variant create input;
// the two inputs differ only by ProductID.
func withoutProductID(in *productVariantCreateInput) *productVariantInput {
	return &productVariantInput{
		SKU: in.SKU, Title: in.Title, SelectedOptions: in.SelectedOptions,
		WeightGrams: in.WeightGrams, Prices: in.Prices, InventoryQuantity: in.InventoryQuantity,
	}
}

// ---- payloads ----

// productPayload resolves the payloads of the product mutations.
type productPayload struct {
	product    *productResolver
	userErrors []*userError
}

func (p *productPayload) Product() *productResolver { return p.product }
func (p *productPayload) UserErrors() []*userError  { return p.userErrors }

// variantPayload resolves the payloads of the variant mutations.
type variantPayload struct {
	variant    *variantResolver
	userErrors []*userError
}

func (p *variantPayload) ProductVariant() *variantResolver { return p.variant }
func (p *variantPayload) UserErrors() []*userError         { return p.userErrors }

func (p *variantPayload) Product() *productResolver {
	if p.variant == nil {
		return nil
	}
	return &productResolver{p: p.variant.p, s: p.variant.s}
}

// collectionPayload resolves the payloads of the collection mutations.
type collectionPayload struct {
	collection *collectionResolver
	deletedID  *gql.ID
	userErrors []*userError
}

func (p *collectionPayload) Collection() *collectionResolver { return p.collection }
func (p *collectionPayload) DeletedCollectionID() *gql.ID    { return p.deletedID }
func (p *collectionPayload) UserErrors() []*userError        { return p.userErrors }

// inventoryAdjustPayload resolves InventoryAdjustPayload.
type inventoryAdjustPayload struct {
	adjustment *adjustmentResolver
	level      *inventoryLevelResolver
	variant    *variantResolver
	userErrors []*userError
}

func (p *inventoryAdjustPayload) Adjustment() *adjustmentResolver    { return p.adjustment }
func (p *inventoryAdjustPayload) Inventory() *inventoryLevelResolver { return p.level }
func (p *inventoryAdjustPayload) ProductVariant() *variantResolver   { return p.variant }
func (p *inventoryAdjustPayload) UserErrors() []*userError           { return p.userErrors }

// split turns a mutation's error into userErrors (never nil, the field is
// non-null) or a top-level error.
func splitUserErrors(err error) ([]*userError, error) {
	ues, err := userErrors(err)
	if ues == nil {
		ues = []*userError{}
	}
	return ues, err
}

func (r *catalogRoot) productPayload(ctx context.Context, p catalog.Product, err error) (*productPayload, error) {
	ues, err := splitUserErrors(err)
	if err != nil {
		return nil, err
	}
	out := &productPayload{userErrors: ues}
	if len(ues) == 0 {
		s, err := r.mutationScope(ctx)
		if err != nil {
			return nil, err
		}
		out.product = newProduct(s, &p)
	}
	return out, nil
}

// variantPayload loads the variant's product, whose options name the
// variant's values.
func (r *catalogRoot) variantPayload(ctx context.Context, v catalog.Variant, err error) (*variantPayload, error) {
	ues, err := splitUserErrors(err)
	if err != nil {
		return nil, err
	}
	out := &variantPayload{userErrors: ues}
	if len(ues) == 0 {
		vr, err := r.variant(ctx, v)
		if err != nil {
			return nil, err
		}
		out.variant = vr
	}
	return out, nil
}

func (r *catalogRoot) variant(ctx context.Context, v catalog.Variant) (*variantResolver, error) {
	p, err := r.svc.GetProduct(ctx, v.ProductID)
	if err != nil {
		return nil, err
	}
	s, err := r.mutationScope(ctx)
	if err != nil {
		return nil, err
	}
	s.l.WantProducts(p.ID)
	vr := newVariant(&v, &p, s, nil)
	return &vr, nil
}

func (r *catalogRoot) collectionPayload(ctx context.Context, c catalog.Collection, err error) (*collectionPayload, error) {
	ues, err := splitUserErrors(err)
	if err != nil {
		return nil, err
	}
	out := &collectionPayload{userErrors: ues}
	if len(ues) == 0 {
		s, err := r.mutationScope(ctx)
		if err != nil {
			return nil, err
		}
		out.collection = &collectionResolver{c: c, s: s}
	}
	return out, nil
}

// ---- mutations ----

// ProductCreate resolves Mutation.productCreate.
func (r *catalogRoot) ProductCreate(ctx context.Context, args struct{ Input productCreateInput }) (*productPayload, error) {
	in := args.Input
	ci := catalog.CreateProductInput{
		Handle: catStr(in.Handle), Title: in.Title, Description: catStr(in.Description), Status: catalog.ProductStatus(catStr(in.Status)),
		Vendor: catStr(in.Vendor), ProductType: catStr(in.ProductType), Options: catOptions(in.Options),
	}
	if in.Tags != nil {
		ci.Tags = *in.Tags
	}
	if in.Variants != nil {
		ci.Variants = make([]catalog.VariantInput, len(*in.Variants))
		for i := range *in.Variants {
			ci.Variants[i] = (*in.Variants)[i].toService()
		}
	}
	p, err := r.svc.CreateProduct(ctx, ci)
	return r.productPayload(ctx, p, err)
}

// ProductUpdate resolves Mutation.productUpdate.
func (r *catalogRoot) ProductUpdate(ctx context.Context, args struct{ Input productUpdateInput }) (*productPayload, error) {
	in := args.Input
	ui := catalog.UpdateProductInput{
		ID: string(in.ID), Handle: in.Handle, Title: in.Title, Description: in.Description,
		Vendor: in.Vendor, ProductType: in.ProductType, Tags: in.Tags,
	}
	if in.Status != nil {
		st := catalog.ProductStatus(*in.Status)
		ui.Status = &st
	}
	if in.Options != nil {
		opts := catOptions(in.Options)
		ui.Options = &opts
	}
	p, err := r.svc.UpdateProduct(ctx, ui)
	return r.productPayload(ctx, p, err)
}

// ProductArchive resolves Mutation.productArchive.
func (r *catalogRoot) ProductArchive(ctx context.Context, args struct{ Input catalogIDInput }) (*productPayload, error) {
	p, err := r.svc.ArchiveProduct(ctx, string(args.Input.ID))
	return r.productPayload(ctx, p, err)
}

// ProductUnarchive resolves Mutation.productUnarchive.
func (r *catalogRoot) ProductUnarchive(ctx context.Context, args struct{ Input catalogIDInput }) (*productPayload, error) {
	p, err := r.svc.UnarchiveProduct(ctx, string(args.Input.ID))
	return r.productPayload(ctx, p, err)
}

// ProductVariantCreate resolves Mutation.productVariantCreate.
func (r *catalogRoot) ProductVariantCreate(ctx context.Context, args struct{ Input productVariantCreateInput }) (*variantPayload, error) {
	v, err := r.svc.CreateVariant(ctx, catalog.CreateVariantInput{
		ProductID: string(args.Input.ProductID), VariantInput: withoutProductID(&args.Input).toService(),
	})
	return r.variantPayload(ctx, v, err)
}

// ProductVariantUpdate resolves Mutation.productVariantUpdate.
func (r *catalogRoot) ProductVariantUpdate(ctx context.Context, args struct{ Input productVariantUpdateInput }) (*variantPayload, error) {
	in := args.Input
	ui := catalog.UpdateVariantInput{ID: string(in.ID), SKU: in.SKU, Title: in.Title}
	if in.SelectedOptions != nil {
		so := catSelectedOptions(*in.SelectedOptions)
		ui.SelectedOptions = &so
	}
	if in.WeightGrams != nil {
		w := int(*in.WeightGrams)
		ui.WeightGrams = &w
	}
	v, err := r.svc.UpdateVariant(ctx, ui)
	return r.variantPayload(ctx, v, err)
}

// ProductVariantArchive resolves Mutation.productVariantArchive.
func (r *catalogRoot) ProductVariantArchive(ctx context.Context, args struct{ Input catalogIDInput }) (*variantPayload, error) {
	v, err := r.svc.ArchiveVariant(ctx, string(args.Input.ID))
	return r.variantPayload(ctx, v, err)
}

// ProductVariantPricesSet resolves Mutation.productVariantPricesSet.
func (r *catalogRoot) ProductVariantPricesSet(ctx context.Context, args struct{ Input productVariantPricesSetInput }) (*variantPayload, error) {
	in := args.Input
	si := catalog.SetVariantPricesInput{VariantID: string(in.VariantID), Prices: catPrices(in.Prices)}
	if in.RemoveCurrencies != nil {
		si.RemoveCurrencies = *in.RemoveCurrencies
	}
	_, err := r.svc.SetVariantPrices(ctx, si)
	ues, err := splitUserErrors(err)
	if err != nil {
		return nil, err
	}
	out := &variantPayload{userErrors: ues}
	if len(ues) == 0 {
		v, err := r.svc.GetVariant(ctx, si.VariantID)
		if err != nil {
			return nil, err
		}
		if out.variant, err = r.variant(ctx, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InventoryAdjust resolves Mutation.inventoryAdjust.
func (r *catalogRoot) InventoryAdjust(ctx context.Context, args struct{ Input inventoryAdjustInput }) (*inventoryAdjustPayload, error) {
	in := args.Input
	adj, level, err := r.svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{
		VariantID: string(in.VariantID), Delta: int64(in.Delta), Reason: catalog.AdjustmentReason(in.Reason), Note: catStr(in.Note),
	})
	ues, err := splitUserErrors(err)
	if err != nil {
		return nil, err
	}
	out := &inventoryAdjustPayload{userErrors: ues}
	if len(ues) == 0 {
		out.adjustment = &adjustmentResolver{a: &adj}
		out.level = &inventoryLevelResolver{l: level}
		v, err := r.svc.GetVariant(ctx, adj.VariantID)
		if err != nil {
			return nil, err
		}
		if out.variant, err = r.variant(ctx, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CollectionCreate resolves Mutation.collectionCreate.
func (r *catalogRoot) CollectionCreate(ctx context.Context, args struct{ Input collectionCreateInput }) (*collectionPayload, error) {
	in := args.Input
	ci := catalog.CollectionInput{Handle: catStr(in.Handle), Title: in.Title, Description: catStr(in.Description)}
	if in.ProductIDs != nil {
		ci.ProductIDs = catIDs(*in.ProductIDs)
	}
	c, err := r.svc.CreateCollection(ctx, ci)
	return r.collectionPayload(ctx, c, err)
}

// CollectionUpdate resolves Mutation.collectionUpdate.
func (r *catalogRoot) CollectionUpdate(ctx context.Context, args struct{ Input collectionUpdateInput }) (*collectionPayload, error) {
	in := args.Input
	c, err := r.svc.UpdateCollection(ctx, catalog.UpdateCollectionInput{
		ID: string(in.ID), Handle: in.Handle, Title: in.Title, Description: in.Description,
	})
	return r.collectionPayload(ctx, c, err)
}

// CollectionDelete resolves Mutation.collectionDelete.
func (r *catalogRoot) CollectionDelete(ctx context.Context, args struct{ Input catalogIDInput }) (*collectionPayload, error) {
	ues, err := splitUserErrors(r.svc.DeleteCollection(ctx, string(args.Input.ID)))
	if err != nil {
		return nil, err
	}
	out := &collectionPayload{userErrors: ues}
	if len(ues) == 0 {
		out.deletedID = &args.Input.ID
	}
	return out, nil
}

// CollectionAddProducts resolves Mutation.collectionAddProducts.
func (r *catalogRoot) CollectionAddProducts(ctx context.Context, args struct{ Input collectionProductsInput }) (*collectionPayload, error) {
	c, err := r.svc.AddProductsToCollection(ctx, catalog.CollectionProductsInput{
		CollectionID: string(args.Input.CollectionID), ProductIDs: catIDs(args.Input.ProductIDs),
	})
	return r.collectionPayload(ctx, c, err)
}

// CollectionRemoveProducts resolves Mutation.collectionRemoveProducts.
func (r *catalogRoot) CollectionRemoveProducts(ctx context.Context, args struct{ Input collectionProductsInput }) (*collectionPayload, error) {
	c, err := r.svc.RemoveProductsFromCollection(ctx, catalog.CollectionProductsInput{
		CollectionID: string(args.Input.CollectionID), ProductIDs: catIDs(args.Input.ProductIDs),
	})
	return r.collectionPayload(ctx, c, err)
}
