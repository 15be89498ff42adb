package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
)

// CreateProductInput is a new product with everything it is sold as.
// Field paths in errors are relative to the input and use the GraphQL
// names: variants.0.sku (a transport adds its own envelope, such as
// GraphQL's input).
type CreateProductInput struct {
	// Handle is derived from the title when empty ("Oolong Tea" ->
	// "oolong-tea", then "oolong-tea-2" if that is taken). A handle
	// given explicitly must be free.
	Handle      string
	Title       string
	Description string
	// Status is DRAFT when empty.
	Status      ProductStatus
	Vendor      string
	ProductType string
	Tags        []string
	Options     []Option
	// Variants are required when the product has options; a product
	// without options and variants gets one default variant.
	Variants []VariantInput
}

// VariantInput is a new variant.
type VariantInput struct {
	SKU string
	// Title defaults to the selected values, "M / Red".
	Title string
	// SelectedOptions name one value of every product option.
	SelectedOptions   []SelectedOption
	WeightGrams       int
	Prices            []PriceInput
	InventoryQuantity int64
}

// PriceInput is a price in one currency, as decimal text: "12.30" CNY.
// The amounts are parsed with the currency's minor digits, never rounded.
type PriceInput struct {
	Currency string
	Amount   string
	// CompareAtAmount is the "was" price; "" for none.
	CompareAtAmount string
}

// UpdateProductInput changes a product; nil fields stay as they are.
type UpdateProductInput struct {
	ID          string
	Handle      *string
	Title       *string
	Description *string
	Status      *ProductStatus
	Vendor      *string
	ProductType *string
	Tags        *[]string
	// Options may rename options and add or reorder values, but not add
	// or remove options, nor drop a value a variant uses.
	Options *[]Option
}

// CreateProduct creates a product with its options, variants, prices and
// initial stock in one transaction. Every problem with the input is
// reported at once (an errs.List of ErrInvalid and ErrConflict errors with
// field paths); then nothing is written.
func (s *Service) CreateProduct(ctx context.Context, in CreateProductInput) (Product, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return Product{}, err
	}
	var out Product
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		nps, err := s.prepareProducts(ctx, []CreateProductInput{in}, func(int) string { return "" })
		if err != nil {
			return err
		}
		if err := s.store.InsertProducts(ctx, nps); err != nil {
			return uniqueConflict(err, "handle", "variants")
		}
		out = nps[0].Product
		return s.productEvent(ctx, SubjectProductCreated, &out)
	})
	return out, err
}

// BulkCreateProducts creates many products in one transaction with a few
// multi-row statements: imports and the demo seeder use it. Validation is
// that of CreateProduct; errors are reported under the index of the
// product in ins (3.variants.0.sku). Keep batches to about a thousand
// products so one transaction stays short.
func (s *Service) BulkCreateProducts(ctx context.Context, ins []CreateProductInput) ([]Product, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return nil, err
	}
	var out []Product
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		nps, err := s.prepareProducts(ctx, ins, strconv.Itoa)
		if err != nil {
			return err
		}
		if err := s.store.InsertProducts(ctx, nps); err != nil {
			return uniqueConflict(err, "", "")
		}
		out = make([]Product, len(nps))
		for i := range nps {
			out[i] = nps[i].Product
		}
		return s.productsCreated(ctx, out)
	})
	return out, err
}

// prepareProducts validates inputs and builds the rows to insert. It runs
// two queries for the whole batch (handles, SKUs) plus one per derived
// handle that is already taken.
func (s *Service) prepareProducts(ctx context.Context, ins []CreateProductInput, prefix func(int) string) ([]newProduct, error) {
	var v errs.Validator
	now := s.now()
	who := actor(ctx)
	nps := make([]newProduct, len(ins))
	explicit := make(map[string]string) // handle -> field
	derived := make(map[int]string)     // product index -> base handle
	skus := make(map[string]string)     // sku -> field
	for i := range ins {
		in := &ins[i]
		f := prefix(i)
		p := Product{
			ID:          id.New("prd"),
			Title:       strings.TrimSpace(in.Title),
			Description: in.Description,
			Status:      in.Status,
			Vendor:      strings.TrimSpace(in.Vendor),
			ProductType: strings.TrimSpace(in.ProductType),
			Tags:        cleanTags(in.Tags),
			Options:     cleanOptions(in.Options),
			CreatedAt:   now,
			UpdatedAt:   now,
		}
		if p.Status == "" {
			p.Status = StatusDraft
		}
		checkText(&v, p.Title, path(f, "title"), true, MaxTitleLen)
		checkText(&v, p.Description, path(f, "description"), false, MaxDescriptionLen)
		checkText(&v, p.Vendor, path(f, "vendor"), false, MaxTitleLen)
		checkText(&v, p.ProductType, path(f, "productType"), false, MaxTitleLen)
		v.Check(p.Status.Valid(), path(f, "status"), CodeInvalidStatus, "status must be DRAFT, ACTIVE or ARCHIVED")
		checkTags(&v, in.Tags, path(f, "tags"))
		checkOptions(&v, p.Options, path(f, "options"))

		if h := strings.TrimSpace(in.Handle); h != "" {
			switch {
			case !validHandle(h):
				v.Add(errs.Invalid(path(f, "handle"), CodeInvalidHandle, "a handle is lower-case letters and digits joined by single dashes, like oolong-tea"))
			case explicit[h] != "":
				v.Add(errs.Conflict(path(f, "handle"), CodeHandleTaken, "this handle is given twice"))
			default:
				explicit[h] = path(f, "handle")
			}
			p.Handle = h
		} else {
			base := Slugify(p.Title)
			if base == "" {
				base = "product"
			}
			derived[i] = base
		}

		np := newProduct{Product: p}
		variants := in.Variants
		if len(variants) == 0 {
			if len(p.Options) > 0 {
				v.Add(errs.Invalid(path(f, "variants"), CodeRequired, "a product with options needs variants"))
			} else {
				variants = []VariantInput{{}}
			}
		}
		if len(variants) > MaxVariants {
			v.Add(errs.Invalid(path(f, "variants"), CodeTooMany, fmt.Sprintf("a product has at most %d variants", MaxVariants)))
			variants = variants[:MaxVariants]
		}
		combos := make(map[string]int, len(variants))
		for j := range variants {
			vf := path(f, "variants", j)
			nv, ok := s.prepareVariant(&v, &np, &variants[j], vf, j, now, who)
			if !ok {
				continue
			}
			key := strings.Join(nv.OptionValues, "\x00")
			if _, dup := combos[key]; dup {
				if len(p.Options) == 0 {
					v.Add(errs.Invalid(vf, CodeDuplicateVariant, "a product without options has one variant"))
				} else {
					v.Add(errs.Invalid(vf+".selectedOptions", CodeDuplicateVariant, "another variant has the same options"))
				}
			}
			combos[key] = j
			if nv.SKU != "" {
				if skus[nv.SKU] != "" {
					v.Add(errs.Conflict(vf+".sku", CodeSKUTaken, "another variant has this SKU"))
				} else {
					skus[nv.SKU] = vf + ".sku"
				}
			}
		}
		nps[i] = np
	}

	// Uniqueness against the database, batched.
	if len(explicit) > 0 {
		hs := make([]string, 0, len(explicit))
		for h := range explicit {
			hs = append(hs, h)
		}
		taken, err := s.store.TakenHandles(ctx, hs)
		if err != nil {
			return nil, err
		}
		for h := range taken {
			v.Add(errs.Conflict(explicit[h], CodeHandleTaken, "this handle is taken"))
		}
	}
	if len(skus) > 0 {
		list := make([]string, 0, len(skus))
		for sku := range skus {
			list = append(list, sku)
		}
		taken, err := s.store.TakenSKUs(ctx, list)
		if err != nil {
			return nil, err
		}
		for sku := range taken {
			v.Add(errs.Conflict(skus[sku], CodeSKUTaken, "another variant has this SKU"))
		}
	}
	if err := v.Err(); err != nil {
		return nil, sortProblems(err)
	}
	if len(derived) > 0 {
		if err := s.deriveHandles(ctx, nps, derived, explicit); err != nil {
			return nil, err
		}
	}
	return nps, nil
}

// prepareVariant validates one variant input of np and appends the rows it
// creates to np.
func (s *Service) prepareVariant(v *errs.Validator, np *newProduct, in *VariantInput, f string, pos int, now time.Time, who string) (Variant, bool) {
	nv := Variant{
		ID:          id.New("var"),
		ProductID:   np.Product.ID,
		SKU:         strings.TrimSpace(in.SKU),
		Title:       strings.TrimSpace(in.Title),
		Position:    pos,
		WeightGrams: in.WeightGrams,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	checkSKU(v, nv.SKU, path(f, "sku"))
	checkText(v, nv.Title, path(f, "title"), false, MaxTitleLen)
	if in.WeightGrams < 0 || in.WeightGrams > MaxQuantity {
		v.Add(errs.Invalid(path(f, "weightGrams"), CodeInvalidWeight, "must be between 0 and 1000000000"))
	}
	checkQuantity(v, in.InventoryQuantity, path(f, "inventoryQuantity"), false)
	values := resolveOptions(v, np.Product.Options, in.SelectedOptions, path(f, "selectedOptions"))
	prices := parsePrices(v, in.Prices, nv.ID, path(f, "prices"))
	if values == nil {
		return Variant{}, false
	}
	nv.OptionValues = values
	if nv.Title == "" {
		nv.Title = variantTitle(values)
	}
	np.Variants = append(np.Variants, nv)
	np.Prices = append(np.Prices, prices...)
	np.Levels = append(np.Levels, InventoryLevel{VariantID: nv.ID, OnHand: in.InventoryQuantity, UpdatedAt: now})
	if in.InventoryQuantity > 0 {
		np.Adjustments = append(np.Adjustments, InventoryAdjustment{
			ID: id.New("adj"), VariantID: nv.ID, Delta: in.InventoryQuantity, Reason: ReasonReceived,
			Note: "initial stock", Actor: who, OnHandAfter: in.InventoryQuantity, CreatedAt: now,
		})
	}
	return nv, true
}

// deriveHandles gives the products at the indexes of derived a free handle
// made from base: base itself, else base-2, base-3, ...
func (s *Service) deriveHandles(ctx context.Context, nps []newProduct, derived map[int]string, explicit map[string]string) error {
	bases := make([]string, 0, len(derived))
	for _, b := range derived {
		bases = append(bases, b)
	}
	taken, err := s.store.TakenHandles(ctx, bases)
	if err != nil {
		return err
	}
	used := make(map[string]bool, len(explicit)+len(derived))
	for h := range explicit {
		used[h] = true
	}
	for i := range nps {
		base, ok := derived[i]
		if !ok {
			continue
		}
		if !taken[base] && !used[base] {
			nps[i].Product.Handle = base
			used[base] = true
			continue
		}
		like, err := s.store.HandlesLike(ctx, "products", base)
		if err != nil {
			return err
		}
		for n := 2; ; n++ {
			h := base + "-" + strconv.Itoa(n)
			if !like[h] && !used[h] {
				nps[i].Product.Handle = h
				used[h] = true
				break
			}
		}
	}
	return nil
}

// UpdateProduct changes the given fields of a product.
func (s *Service) UpdateProduct(ctx context.Context, in UpdateProductInput) (Product, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return Product{}, err
	}
	var out Product
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		p, err := s.store.ProductByID(ctx, in.ID)
		if err != nil {
			return withField(err, "id")
		}
		var v errs.Validator
		if in.Title != nil {
			p.Title = strings.TrimSpace(*in.Title)
			checkText(&v, p.Title, "title", true, MaxTitleLen)
		}
		if in.Description != nil {
			p.Description = *in.Description
			checkText(&v, p.Description, "description", false, MaxDescriptionLen)
		}
		if in.Vendor != nil {
			p.Vendor = strings.TrimSpace(*in.Vendor)
			checkText(&v, p.Vendor, "vendor", false, MaxTitleLen)
		}
		if in.ProductType != nil {
			p.ProductType = strings.TrimSpace(*in.ProductType)
			checkText(&v, p.ProductType, "productType", false, MaxTitleLen)
		}
		if in.Status != nil {
			p.Status = *in.Status
			v.Check(p.Status.Valid(), "status", CodeInvalidStatus, "status must be DRAFT, ACTIVE or ARCHIVED")
		}
		if in.Tags != nil {
			checkTags(&v, *in.Tags, "tags")
			p.Tags = cleanTags(*in.Tags)
		}
		if in.Handle != nil && strings.TrimSpace(*in.Handle) != p.Handle {
			h := strings.TrimSpace(*in.Handle)
			if !validHandle(h) {
				v.Add(errs.Invalid("handle", CodeInvalidHandle, "a handle is lower-case letters and digits joined by single dashes, like oolong-tea"))
			} else if taken, err := s.store.TakenHandles(ctx, []string{h}); err != nil {
				return err
			} else if taken[h] {
				v.Add(errs.Conflict("handle", CodeHandleTaken, "this handle is taken"))
			}
			p.Handle = h
		}
		vm, err := s.store.VariantsByProductIDs(ctx, []string{p.ID}, false)
		if err != nil {
			return err
		}
		variants := vm[p.ID]
		if in.Options != nil {
			opts := cleanOptions(*in.Options)
			checkOptions(&v, opts, "options")
			checkOptionsKeepVariants(&v, p.Options, opts, variants)
			p.Options = opts
		}
		if err := v.Err(); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		skus := make([]string, len(variants))
		for i, vr := range variants {
			skus[i] = vr.SKU
		}
		if err := s.store.UpdateProduct(ctx, &p, skus); err != nil {
			return uniqueConflict(err, "handle", "")
		}
		out = p
		return s.productEvent(ctx, SubjectProductUpdated, &p)
	})
	return out, err
}

// checkOptionsKeepVariants refuses option changes that would leave a live
// variant without its option or with a value the option no longer offers.
func checkOptionsKeepVariants(v *errs.Validator, old, opts []Option, variants []Variant) {
	if len(opts) != len(old) {
		v.Add(errs.Invalid("options", CodeOptionsCountChanged, "options cannot be added or removed once a product has variants; create a new product"))
		return
	}
	for i, o := range opts {
		offered := make(map[string]bool, len(o.Values))
		for _, val := range o.Values {
			offered[val] = true
		}
		for _, vr := range variants {
			if vr.Archived || i >= len(vr.OptionValues) {
				continue
			}
			if val := vr.OptionValues[i]; !offered[val] {
				v.Add(errs.Invalid(path("options", i, "values"), CodeOptionValueInUse,
					fmt.Sprintf("variant %s uses value %q", vr.ID, val)))
				break
			}
		}
	}
}

// ArchiveProduct takes a product off sale and out of listings, keeping it
// for the orders that reference it.
func (s *Service) ArchiveProduct(ctx context.Context, id string) (Product, error) {
	return s.setStatus(ctx, id, StatusArchived)
}

// UnarchiveProduct brings an archived product back as a DRAFT, so nothing
// reappears in the storefront before the merchant has looked at it. A
// product that is not archived is returned unchanged.
func (s *Service) UnarchiveProduct(ctx context.Context, id string) (Product, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return Product{}, err
	}
	var out Product
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		p, err := s.store.ProductByID(ctx, id)
		if err != nil {
			return withField(err, "id")
		}
		out = p
		if p.Status != StatusArchived {
			return nil
		}
		out, err = s.setStatus(ctx, id, StatusDraft)
		return err
	})
	return out, err
}

func (s *Service) setStatus(ctx context.Context, id string, status ProductStatus) (Product, error) {
	return s.UpdateProduct(ctx, UpdateProductInput{ID: id, Status: &status})
}

// withField puts a domain error (typically not found) under an input field
// path; other errors pass through.
func withField(err error, field string) error {
	all := errs.All(err)
	if len(all) != 1 {
		return err
	}
	return all[0].WithField(strings.Split(field, ".")...)
}
