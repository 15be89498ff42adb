package cart

import (
	"context"
	"errors"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
)

// Merge takes the guest cart of guestToken into the signed-in buyer's
// cart, at sign-in. A buyer without an open cart gets the guest cart
// itself (it becomes theirs and its token stops working). Otherwise its
// lines join the buyer's cart: quantities of a variant in both add up,
// capped by the shop's line quantity limit and the stock available
// (never below what the buyer's cart already held), variants not for sale
// in the buyer's cart's currency are left out, and an address the
// buyer's cart lacks is taken from the guest cart; the guest cart is then
// retired and its token reaches nothing. The cart's email is the account's
// (Options.Customers), save an email the buyer gave their own cart: never
// the guest cart's. Only a signed-in buyer may merge; a completed guest
// cart is CodeCartCompleted.
func (s *Service) Merge(ctx context.Context, guestToken string) (*Cart, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Cart, authz.Own(authz.Write)); err != nil {
		return nil, err
	}
	buyer := customerOf(ctx)
	if buyer == "" {
		if authz.SubjectFrom(ctx).Kind == authz.KindAnonymous {
			return nil, errs.Unauthenticated("sign in to keep this cart")
		}
		return nil, errs.Forbidden("FORBIDDEN", "only a signed-in buyer's cart takes a guest cart")
	}
	if guestToken == "" {
		return nil, cartNotFound()
	}
	var out *Cart
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		guest, err := s.lock(ctx, Ref{Token: guestToken})
		if err != nil {
			return err
		}
		if guest.CustomerID != nil { // token carts are guests'; kept as a guard
			return cartNotFound()
		}
		own, err := s.lock(ctx, Ref{})
		switch {
		case errors.Is(err, errs.ErrNotFound):
			// An expired cart of the buyer's not purged yet still holds
			// their place among open carts (the unique index).
			if err := s.store.DeleteExpiredOpen(ctx, buyer, s.now()); err != nil {
				return err
			}
			ok, err := s.store.Adopt(ctx, guest.ID, buyer, s.now())
			if err != nil {
				return err
			}
			if !ok {
				return cartCompleted()
			}
			out = guest
		case err != nil:
			return err
		default:
			if err := s.mergeInto(ctx, own, guest); err != nil {
				return err
			}
			ok, err := s.store.MarkMerged(ctx, guest.ID, own.ID, s.now())
			if err != nil {
				return err
			}
			if !ok {
				return cartCompleted()
			}
			out = own
		}
		if out, err = s.store.ByID(ctx, out.ID, false, s.now()); err != nil {
			return err
		}
		// The buyer's own cart keeps the email they gave it; a guest
		// cart's gives way to the account's: the cart cookie of someone
		// else (a shared device, a planted cookie) must not send the
		// signed-in buyer's order mails to their address.
		if out.ID == guest.ID || out.Email == "" {
			email, err := s.buyerEmail(ctx, buyer)
			if err != nil {
				return err
			}
			if email != "" && email != out.Email {
				out.Email, out.UpdatedAt = email, s.now()
				if err := s.store.Update(ctx, out, "email"); err != nil {
					return err
				}
			}
		}
		if out.Lines, err = s.store.Lines(ctx, out.ID); err != nil {
			return err
		}
		_, err = s.price(ctx, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mergeInto adds guest's lines, email and addresses to own (see Merge).
func (s *Service) mergeInto(ctx context.Context, own, guest *Cart) error {
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, len(guest.Lines))
	for i, l := range guest.Lines {
		ids[i] = l.VariantID
	}
	variants, err := s.catalog.CheckoutVariants(ctx, ids, own.Currency)
	if err != nil {
		return err
	}
	byVariant := map[string]*Line{}
	for _, l := range own.Lines {
		byVariant[l.VariantID] = l
	}
	count := len(own.Lines)
	now := s.now()
	var added []*Line
	for _, g := range guest.Lines {
		v, found := variants[g.VariantID]
		if !found || !v.ForSale() || v.Price == nil {
			continue
		}
		limit := min(set.LineQuantityLimit, v.Available)
		if l := byVariant[g.VariantID]; l != nil {
			q := max(l.Quantity, min(l.Quantity+g.Quantity, limit))
			if q != l.Quantity {
				if err := s.store.SetQuantity(ctx, own.ID, l.ID, q); err != nil {
					return err
				}
			}
			continue
		}
		if q := min(g.Quantity, limit); q > 0 && count < MaxLines {
			added = append(added, &Line{ID: id.New(LinePrefix), CartID: own.ID, VariantID: g.VariantID, Quantity: q, CreatedAt: now})
			count++
		}
	}
	if err := s.store.InsertLines(ctx, added); err != nil {
		return err
	}
	var cols []string
	if own.ShippingAddress == nil && guest.ShippingAddress != nil {
		own.ShippingAddress, cols = guest.ShippingAddress, append(cols, "shipping_address")
	}
	if own.BillingAddress == nil && guest.BillingAddress != nil {
		own.BillingAddress, cols = guest.BillingAddress, append(cols, "billing_address")
	}
	if len(cols) == 0 {
		return nil
	}
	own.UpdatedAt = now
	return s.store.Update(ctx, own, cols...)
}
