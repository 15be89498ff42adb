package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
)

// CreateVariantInput is a new variant of an existing product.
type CreateVariantInput struct {
	ProductID string
	VariantInput
}

// UpdateVariantInput changes a variant; nil fields stay as they are.
type UpdateVariantInput struct {
	ID    string
	SKU   *string
	Title *string
	// SelectedOptions, when set, name one value of every product option.
	// A title that was the default follows the new values.
	SelectedOptions *[]SelectedOption
	WeightGrams     *int
}

// SetVariantPricesInput sets a variant's prices per currency.
type SetVariantPricesInput struct {
	VariantID string
	// Prices set (or replace) the price in each given currency; other
	// currencies keep theirs.
	Prices []PriceInput
	// RemoveCurrencies drops the prices in these currencies.
	RemoveCurrencies []string
}

// AdjustInventoryInput changes a variant's stock on hand by hand.
type AdjustInventoryInput struct {
	VariantID string
	// Delta is added to on hand: positive for stock in, negative for out.
	Delta  int64
	Reason AdjustmentReason
	Note   string
}

// CreateVariant adds a variant, with its prices and initial stock, to a
// product.
func (s *Service) CreateVariant(ctx context.Context, in CreateVariantInput) (Variant, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return Variant{}, err
	}
	var out Variant
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		p, err := s.store.ProductByID(ctx, in.ProductID)
		if err != nil {
			return withField(err, "productId")
		}
		vm, err := s.store.VariantsByProductIDs(ctx, []string{p.ID}, false)
		if err != nil {
			return err
		}
		existing := vm[p.ID]
		pos, err := s.store.NextVariantPosition(ctx, p.ID)
		if err != nil {
			return err
		}
		var v errs.Validator
		if len(existing) >= MaxVariants {
			v.Add(errs.Invalid("productId", CodeTooMany, fmt.Sprintf("a product has at most %d variants", MaxVariants)))
		}
		np := newProduct{Product: p}
		now := s.now()
		nv, ok := s.prepareVariant(&v, &np, &in.VariantInput, "", pos, now, actor(ctx))
		if ok {
			checkUniqueCombo(&v, &p, nv.OptionValues, existing, "")
		}
		if nv.SKU != "" {
			taken, err := s.store.TakenSKUs(ctx, []string{nv.SKU})
			if err != nil {
				return err
			}
			if taken[nv.SKU] != "" {
				v.Add(errs.Conflict("sku", CodeSKUTaken, "another variant has this SKU"))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.InsertVariants(ctx, np.Variants, np.Prices, np.Levels, np.Adjustments); err != nil {
			return uniqueConflict(err, "", "sku")
		}
		if err := s.touchProduct(ctx, &p, append(skusOf(existing), nv.SKU)); err != nil {
			return err
		}
		out = nv
		return nil
	})
	return out, err
}

// checkUniqueCombo refuses a second live variant with the same option
// values (or a second variant of a product without options).
func checkUniqueCombo(v *errs.Validator, p *Product, values []string, existing []Variant, self string) {
	key := strings.Join(values, "\x00")
	for _, e := range existing {
		if e.Archived || e.ID == self || strings.Join(e.OptionValues, "\x00") != key {
			continue
		}
		if len(p.Options) == 0 {
			v.Add(errs.Invalid("", CodeDuplicateVariant, "a product without options has one variant"))
		} else {
			v.Add(errs.Invalid("selectedOptions", CodeDuplicateVariant, fmt.Sprintf("variant %s has the same options", e.ID)))
		}
		return
	}
}

func skusOf(vs []Variant) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.SKU
	}
	return out
}

// touchProduct marks a product changed, refreshes its search text with
// the given SKUs and emits kassa.product.updated.
func (s *Service) touchProduct(ctx context.Context, p *Product, skus []string) error {
	p.UpdatedAt = s.now()
	if err := s.store.UpdateProduct(ctx, p, skus); err != nil {
		return err
	}
	return s.productEvent(ctx, SubjectProductUpdated, p)
}

// variantChanged marks the product of a changed variant updated.
func (s *Service) variantChanged(ctx context.Context, productID string) error {
	p, err := s.store.ProductByID(ctx, productID)
	if err != nil {
		return err
	}
	skus, err := s.store.SKUsOfProduct(ctx, productID)
	if err != nil {
		return err
	}
	return s.touchProduct(ctx, &p, skus)
}

// UpdateVariant changes the given fields of a variant.
func (s *Service) UpdateVariant(ctx context.Context, in UpdateVariantInput) (Variant, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return Variant{}, err
	}
	var out Variant
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		vr, err := s.store.VariantByID(ctx, in.ID)
		if err != nil {
			return withField(err, "id")
		}
		p, err := s.store.ProductByID(ctx, vr.ProductID)
		if err != nil {
			return err
		}
		vm, err := s.store.VariantsByProductIDs(ctx, []string{p.ID}, false)
		if err != nil {
			return err
		}
		var v errs.Validator
		if in.SKU != nil && strings.TrimSpace(*in.SKU) != vr.SKU {
			vr.SKU = strings.TrimSpace(*in.SKU)
			checkSKU(&v, vr.SKU, "sku")
			if vr.SKU != "" {
				taken, err := s.store.TakenSKUs(ctx, []string{vr.SKU})
				if err != nil {
					return err
				}
				if owner := taken[vr.SKU]; owner != "" && owner != vr.ID {
					v.Add(errs.Conflict("sku", CodeSKUTaken, "another variant has this SKU"))
				}
			}
		}
		if in.SelectedOptions != nil {
			values := resolveOptions(&v, p.Options, *in.SelectedOptions, "selectedOptions")
			if values != nil {
				checkUniqueCombo(&v, &p, values, vm[p.ID], vr.ID)
				if in.Title == nil && vr.Title == variantTitle(vr.OptionValues) {
					vr.Title = variantTitle(values)
				}
				vr.OptionValues = values
			}
		}
		if in.Title != nil {
			vr.Title = strings.TrimSpace(*in.Title)
			checkText(&v, vr.Title, "title", false, MaxTitleLen)
			if vr.Title == "" {
				vr.Title = variantTitle(vr.OptionValues)
			}
		}
		if in.WeightGrams != nil {
			vr.WeightGrams = *in.WeightGrams
			if vr.WeightGrams < 0 || vr.WeightGrams > MaxQuantity {
				v.Add(errs.Invalid("weightGrams", CodeInvalidWeight, "must be between 0 and 1000000000"))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		vr.UpdatedAt = s.now()
		if err := s.store.UpdateVariant(ctx, &vr); err != nil {
			return uniqueConflict(err, "", "sku")
		}
		skus := make([]string, 0, len(vm[p.ID]))
		for _, e := range vm[p.ID] {
			if e.ID == vr.ID {
				e.SKU = vr.SKU
			}
			skus = append(skus, e.SKU)
		}
		if err := s.touchProduct(ctx, &p, skus); err != nil {
			return err
		}
		out = vr
		return nil
	})
	return out, err
}

// ArchiveVariant takes a variant off sale; orders keep referring to it and
// its SKU stays reserved.
func (s *Service) ArchiveVariant(ctx context.Context, id string) (Variant, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return Variant{}, err
	}
	var out Variant
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		vr, err := s.store.VariantByID(ctx, id)
		if err != nil {
			return withField(err, "id")
		}
		if !vr.Archived {
			vr.Archived = true
			vr.UpdatedAt = s.now()
			if err := s.store.UpdateVariant(ctx, &vr); err != nil {
				return err
			}
			if err := s.variantChanged(ctx, vr.ProductID); err != nil {
				return err
			}
		}
		out = vr
		return nil
	})
	return out, err
}

// SetVariantPrices sets and removes a variant's prices per currency and
// returns all its prices afterwards.
func (s *Service) SetVariantPrices(ctx context.Context, in SetVariantPricesInput) ([]Price, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return nil, err
	}
	var out []Price
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		vr, err := s.store.VariantByID(ctx, in.VariantID)
		if err != nil {
			return withField(err, "variantId")
		}
		var v errs.Validator
		prices := parsePrices(&v, in.Prices, vr.ID, "prices")
		setting := make(map[money.Currency]bool, len(prices))
		for _, p := range prices {
			setting[p.Amount.Currency()] = true
		}
		remove := make([]string, 0, len(in.RemoveCurrencies))
		for i, code := range in.RemoveCurrencies {
			f := path("removeCurrencies", i)
			cur, err := money.ParseCurrency(code)
			if err != nil {
				v.Add(errs.Invalid(f, CodeInvalidCurrency, fmt.Sprintf("%q is not an ISO 4217 currency code", code)))
				continue
			}
			if setting[cur] {
				v.Add(errs.Invalid(f, CodeDuplicateCurrency, fmt.Sprintf("%s is both set and removed", cur)))
				continue
			}
			remove = append(remove, cur.Code())
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.UpsertPrices(ctx, prices); err != nil {
			return err
		}
		if err := s.store.DeletePrices(ctx, vr.ID, remove); err != nil {
			return err
		}
		vr.UpdatedAt = s.now()
		if err := s.store.UpdateVariant(ctx, &vr); err != nil {
			return err
		}
		if err := s.variantChanged(ctx, vr.ProductID); err != nil {
			return err
		}
		pm, err := s.store.PricesByVariantIDs(ctx, []string{vr.ID})
		if err != nil {
			return err
		}
		out = pm[vr.ID]
		return nil
	})
	return out, err
}

// AdjustInventory changes a variant's stock on hand and records why in the
// ledger, in one transaction. Stock on hand never goes below zero: a
// larger negative delta is refused with INSUFFICIENT_STOCK. Nor does it
// go above MaxQuantity, which keeps every stock figure and sum of them
// inside what the API's 32-bit Int can show: a delta that would cross it
// is refused with INVALID_QUANTITY. Both hold under concurrent
// adjustments, because the checks are part of the UPDATE.
func (s *Service) AdjustInventory(ctx context.Context, in AdjustInventoryInput) (InventoryAdjustment, InventoryLevel, error) {
	if err := s.authz.Can(ctx, authz.Inventory, authz.Write); err != nil {
		return InventoryAdjustment{}, InventoryLevel{}, err
	}
	var v errs.Validator
	v.Check(in.Delta != 0, "delta", CodeInvalidQuantity, "must not be zero")
	checkQuantity(&v, in.Delta, "delta", true)
	v.Check(in.Reason.Valid(), "reason", CodeInvalidReason, "unknown reason "+string(in.Reason))
	checkText(&v, in.Note, "note", false, MaxNoteLen)
	if err := v.Err(); err != nil {
		return InventoryAdjustment{}, InventoryLevel{}, err
	}
	var (
		adj   InventoryAdjustment
		level InventoryLevel
	)
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		now := s.now()
		l, ok, err := s.store.AdjustOnHand(ctx, in.VariantID, in.Delta, now)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := s.store.VariantByID(ctx, in.VariantID); err != nil {
				return withField(err, "variantId")
			}
			if in.Delta > 0 {
				return errs.Invalid("delta", CodeInvalidQuantity, fmt.Sprintf("stock on hand cannot go above %d", MaxQuantity))
			}
			return errs.Conflict("delta", CodeInsufficientStock, "stock on hand cannot go below zero")
		}
		adj = InventoryAdjustment{
			ID: id.New("adj"), VariantID: in.VariantID, Delta: in.Delta, Reason: in.Reason,
			Note: in.Note, Actor: actor(ctx), OnHandAfter: l.OnHand, CreatedAt: now,
		}
		if err := s.store.InsertAdjustment(ctx, &adj); err != nil {
			return err
		}
		level = l
		return s.emit(ctx, SubjectInventoryAdjusted, InventoryAdjustedEvent{
			AdjustmentID: adj.ID, VariantID: adj.VariantID, Delta: adj.Delta, Reason: adj.Reason, OnHandAfter: adj.OnHandAfter,
		})
	})
	if err != nil {
		return InventoryAdjustment{}, InventoryLevel{}, err
	}
	return adj, level, nil
}
