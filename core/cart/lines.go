package cart

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// AddLines adds units of variants to a cart: a variant already in the
// cart gets the units added to its line, and a variant named twice gets
// both. Each variant must be for sale in the cart's currency, and each
// line's new quantity within the shop's line quantity limit and the
// stock available. Every problem is reported at once, with its path
// ("lines.1.quantity"), and nothing changes then. Prices are the
// catalog's: the input carries none.
func (s *Service) AddLines(ctx context.Context, ref Ref, lines []LineInput) (*Cart, error) {
	if err := s.mayWrite(ctx); err != nil {
		return nil, err
	}
	var v errs.Validator
	checkCount(&v, "lines", len(lines))
	for i, l := range lines {
		f := "lines." + strconv.Itoa(i)
		v.Check(strings.TrimSpace(l.VariantID) != "", f+".variantId", CodeRequired, "name the product variant")
		v.Check(l.Quantity > 0, f+".quantity", CodeInvalidQuantity, "add at least one")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = strings.TrimSpace(l.VariantID)
	}
	if c, err := s.addAtOnce(ctx, ref, lines, ids); c != nil || err != nil {
		return c, err
	}
	return s.change(ctx, ref, write{}, ids, func(ctx context.Context, c *Cart, variants map[string]catalog.CheckoutVariant) error {
		set, err := s.settings.Settings(ctx)
		if err != nil {
			return err
		}
		if !set.Sells(c.Currency) {
			return currencyNotSold(c.Currency)
		}
		byVariant := map[string]*Line{}
		for _, l := range c.Lines {
			byVariant[l.VariantID] = l
		}
		now := s.now()
		var added []*Line
		changed := map[string]int64{}
		for i, in := range lines {
			f := "lines." + strconv.Itoa(i)
			l := byVariant[ids[i]]
			if l == nil {
				l = &Line{ID: id.New(LinePrefix), CartID: c.ID, VariantID: ids[i], CreatedAt: now}
				byVariant[ids[i]] = l
				added = append(added, l)
			}
			l.Quantity += in.Quantity
			if !slices.Contains(added, l) {
				changed[l.ID] = l.Quantity
			}
			v2, found := variants[ids[i]]
			v.Add(lineProblem(f, v2, found, l.Quantity, set.LineQuantityLimit))
		}
		if len(c.Lines)+len(added) > MaxLines {
			v.Add(tooManyLines("lines"))
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.SetQuantities(ctx, c.ID, changed); err != nil {
			return err
		}
		if err := s.store.InsertLines(ctx, added); err != nil {
			return err
		}
		c.Lines = append(c.Lines, added...)
		sortLines(c.Lines)
		return nil
	})
}

// addAtOnce is AddLines in one statement without a transaction
// (cartStore.AddAtOnce), on PostgreSQL, for a cart in the shop's default
// currency whose variants are all for sale in it: the catalog's answers
// (from memory, as the transactional way reads them) give each variant's
// limit (the shop's line limit or the stock available, the lower) and the
// statement checks the cart's lines against them under the cart's lock.
// It returns nil, having written nothing, when the transactional way must
// decide: another engine or currency, a variant not for sale, a limit or
// MaxLines passed, a cart changed meanwhile, not found or completed; that
// way then reports the problems with their paths.
func (s *Service) addAtOnce(ctx context.Context, ref Ref, lines []LineInput, ids []string) (*Cart, error) {
	if s.db.Dialect != store.Postgres {
		return nil, nil
	}
	key, ok := s.key(ctx, ref)
	if !ok {
		return nil, nil
	}
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	cur := set.DefaultCurrency()
	var distinct []string
	byVariant := map[string]*lineAdd{}
	adds := make([]*lineAdd, 0, len(lines))
	for i, in := range lines {
		a := byVariant[ids[i]]
		if a == nil {
			a = &lineAdd{variantID: ids[i], newID: id.New(LinePrefix)}
			byVariant[ids[i]] = a
			adds = append(adds, a)
			distinct = append(distinct, ids[i])
		}
		a.quantity += in.Quantity
	}
	vs, err := s.catalog.CheckoutVariants(ctx, distinct, cur)
	if err != nil {
		return nil, err
	}
	list := make([]lineAdd, len(adds))
	for i, a := range adds {
		v, found := vs[a.variantID]
		// A price above money.MaxPrice (set before that bound) may
		// overflow the cart's sums, which only pricing finds, after this
		// way has written: the transactional way prices before it commits.
		if lineProblem("", v, found, a.quantity, set.LineQuantityLimit) != nil || v.Price.Amount() > money.MaxPrice {
			return nil, nil
		}
		a.limit = min(set.LineQuantityLimit, v.Available)
		list[i] = *a
	}
	now := s.now()
	c, err := s.store.AddAtOnce(ctx, key, cur.Code(), list, MaxLines, now)
	if c == nil || err != nil {
		return nil, err
	}
	if _, err := s.price(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// sortLines puts lines in the order the store reads them: by id.
func sortLines(ls []*Line) {
	slices.SortStableFunc(ls, func(a, b *Line) int { return strings.Compare(a.ID, b.ID) })
}

// UpdateLines sets the quantities of lines of a cart; a quantity of 0
// removes the line. Each new quantity is checked as AddLines checks it.
// Every problem is reported at once, with its path, and nothing changes
// then.
func (s *Service) UpdateLines(ctx context.Context, ref Ref, updates []LineUpdate) (*Cart, error) {
	if err := s.mayWrite(ctx); err != nil {
		return nil, err
	}
	var v errs.Validator
	checkCount(&v, "lines", len(updates))
	for i, u := range updates {
		v.Check(u.Quantity >= 0, "lines."+strconv.Itoa(i)+".quantity", CodeInvalidQuantity, "the quantity cannot be negative")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.change(ctx, ref, write{}, nil, func(ctx context.Context, c *Cart, variants map[string]catalog.CheckoutVariant) error {
		set, err := s.settings.Settings(ctx)
		if err != nil {
			return err
		}
		byID := map[string]*Line{}
		for _, l := range c.Lines {
			byID[l.ID] = l
		}
		final := map[*Line]int64{}
		for i, u := range updates {
			if u.Quantity > 0 && !set.Sells(c.Currency) {
				// Removing lines stays possible; buying more does not.
				return currencyNotSold(c.Currency)
			}
			f := "lines." + strconv.Itoa(i)
			l := byID[u.LineID]
			if l == nil {
				v.Add(errs.Invalid(f+".lineId", CodeLineNotFound, "this line is not in the cart"))
				continue
			}
			final[l] = u.Quantity
			if u.Quantity > 0 {
				vr, found := variants[l.VariantID]
				v.Add(lineProblem(f, vr, found, u.Quantity, set.LineQuantityLimit))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		var gone []string
		qty := map[string]int64{}
		for l, q := range final {
			if q == 0 {
				gone = append(gone, l.ID)
				continue
			}
			qty[l.ID] = q
			l.Quantity = q
		}
		if err := s.store.SetQuantities(ctx, c.ID, qty); err != nil {
			return err
		}
		if err := s.store.DeleteLines(ctx, c.ID, gone); err != nil {
			return err
		}
		c.Lines = slices.DeleteFunc(c.Lines, func(l *Line) bool { return slices.Contains(gone, l.ID) })
		return nil
	})
}

// RemoveLines removes lines from a cart. A line id that is not one of
// the cart's is reported ("lineIds.1") and nothing changes then.
func (s *Service) RemoveLines(ctx context.Context, ref Ref, lineIDs []string) (*Cart, error) {
	if err := s.mayWrite(ctx); err != nil {
		return nil, err
	}
	var v errs.Validator
	checkCount(&v, "lineIds", len(lineIDs))
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.change(ctx, ref, write{}, nil, func(ctx context.Context, c *Cart, _ map[string]catalog.CheckoutVariant) error {
		in := map[string]bool{}
		for _, l := range c.Lines {
			in[l.ID] = true
		}
		for i, lid := range lineIDs {
			v.Check(in[lid], "lineIds."+strconv.Itoa(i), CodeLineNotFound, "this line is not in the cart")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.DeleteLines(ctx, c.ID, lineIDs); err != nil {
			return err
		}
		c.Lines = slices.DeleteFunc(c.Lines, func(l *Line) bool { return slices.Contains(lineIDs, l.ID) })
		return nil
	})
}

// checkCount checks that a call names 1 to MaxLines lines.
func checkCount(v *errs.Validator, field string, n int) {
	v.Check(n > 0, field, CodeRequired, "name at least one line")
	if n > MaxLines {
		v.Add(errs.Invalid(field, CodeTooManyLines, fmt.Sprintf("at most %d lines at once", MaxLines)))
	}
}
