package catalog

import (
	"context"
	"strconv"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
)

// CollectionInput is a new collection.
type CollectionInput struct {
	// Handle is derived from the title when empty.
	Handle      string
	Title       string
	Description string
	// ProductIDs are the first products, in the merchant's order.
	ProductIDs []string
}

// UpdateCollectionInput changes a collection; nil fields stay as they are.
type UpdateCollectionInput struct {
	ID          string
	Handle      *string
	Title       *string
	Description *string
}

// CollectionProductsInput names products to add to or remove from a
// collection.
type CollectionProductsInput struct {
	CollectionID string
	ProductIDs   []string
}

// CreateCollection creates a collection with its first products.
func (s *Service) CreateCollection(ctx context.Context, in CollectionInput) (Collection, error) {
	if err := s.authz.Can(ctx, authz.Collection, authz.Write); err != nil {
		return Collection{}, err
	}
	var out Collection
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		now := s.now()
		c := Collection{
			ID:          id.New("col"),
			Title:       strings.TrimSpace(in.Title),
			Description: in.Description,
			CreatedAt:   now,
			UpdatedAt:   now,
		}
		var v errs.Validator
		checkText(&v, c.Title, "title", true, MaxTitleLen)
		checkText(&v, c.Description, "description", false, MaxDescriptionLen)
		if h := strings.TrimSpace(in.Handle); h != "" {
			c.Handle = h
			if err := s.checkCollectionHandle(ctx, &v, h); err != nil {
				return err
			}
		}
		ids, err := s.checkProductIDs(ctx, &v, in.ProductIDs, "productIds")
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if c.Handle == "" {
			if c.Handle, err = s.freeCollectionHandle(ctx, c.Title); err != nil {
				return err
			}
		}
		if err := s.store.InsertCollection(ctx, &c); err != nil {
			return uniqueConflict(err, "handle", "")
		}
		if err := s.store.AddToCollection(ctx, c.ID, ids); err != nil {
			return err
		}
		out = c
		return s.collectionEvent(ctx, SubjectCollectionCreated, &c)
	})
	return out, err
}

func (s *Service) checkCollectionHandle(ctx context.Context, v *errs.Validator, h string) error {
	if !validHandle(h) {
		v.Add(errs.Invalid("handle", CodeInvalidHandle, "a handle is lower-case letters and digits joined by single dashes, like summer-sale"))
		return nil
	}
	taken, err := s.store.TakenCollectionHandles(ctx, []string{h})
	if err != nil {
		return err
	}
	if taken[h] {
		v.Add(errs.Conflict("handle", CodeHandleTaken, "this handle is taken"))
	}
	return nil
}

func (s *Service) freeCollectionHandle(ctx context.Context, title string) (string, error) {
	base := Slugify(title)
	if base == "" {
		base = "collection"
	}
	like, err := s.store.HandlesLike(ctx, "collections", base)
	if err != nil {
		return "", err
	}
	if !like[base] {
		return base, nil
	}
	for n := 2; ; n++ {
		if h := base + "-" + strconv.Itoa(n); !like[h] {
			return h, nil
		}
	}
}

// checkProductIDs reports ids that name no product and returns the ids
// without duplicates, in order.
func (s *Service) checkProductIDs(ctx context.Context, v *errs.Validator, ids []string, field string) ([]string, error) {
	if len(ids) > 1000 {
		v.Add(errs.Invalid(field, CodeTooMany, "at most 1000 products at once"))
		return nil, nil
	}
	found, err := s.store.ProductsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for i, pid := range ids {
		if _, ok := found[pid]; !ok {
			v.Add(productNotFound(path(field, i)))
			continue
		}
		if !seen[pid] {
			seen[pid] = true
			out = append(out, pid)
		}
	}
	return out, nil
}

// UpdateCollection changes the given fields of a collection.
func (s *Service) UpdateCollection(ctx context.Context, in UpdateCollectionInput) (Collection, error) {
	if err := s.authz.Can(ctx, authz.Collection, authz.Write); err != nil {
		return Collection{}, err
	}
	var out Collection
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		c, err := s.store.CollectionByID(ctx, in.ID)
		if err != nil {
			return withField(err, "id")
		}
		var v errs.Validator
		if in.Title != nil {
			c.Title = strings.TrimSpace(*in.Title)
			checkText(&v, c.Title, "title", true, MaxTitleLen)
		}
		if in.Description != nil {
			c.Description = *in.Description
			checkText(&v, c.Description, "description", false, MaxDescriptionLen)
		}
		if in.Handle != nil && strings.TrimSpace(*in.Handle) != c.Handle {
			c.Handle = strings.TrimSpace(*in.Handle)
			if err := s.checkCollectionHandle(ctx, &v, c.Handle); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		if err := s.store.UpdateCollection(ctx, &c); err != nil {
			return uniqueConflict(err, "handle", "")
		}
		out = c
		return s.collectionEvent(ctx, SubjectCollectionUpdated, &c)
	})
	return out, err
}

// DeleteCollection deletes a collection; its products stay.
func (s *Service) DeleteCollection(ctx context.Context, id string) error {
	if err := s.authz.Can(ctx, authz.Collection, authz.Write); err != nil {
		return err
	}
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		c, err := s.store.CollectionByID(ctx, id)
		if err != nil {
			return withField(err, "id")
		}
		if err := s.store.DeleteCollection(ctx, id); err != nil {
			return withField(err, "id")
		}
		return s.collectionEvent(ctx, SubjectCollectionDeleted, &c)
	})
}

// AddProductsToCollection appends products to a collection in the given
// order; products already in it keep their place.
func (s *Service) AddProductsToCollection(ctx context.Context, in CollectionProductsInput) (Collection, error) {
	return s.changeMembers(ctx, in, true)
}

// RemoveProductsFromCollection removes products from a collection; ids not
// in it are ignored.
func (s *Service) RemoveProductsFromCollection(ctx context.Context, in CollectionProductsInput) (Collection, error) {
	return s.changeMembers(ctx, in, false)
}

func (s *Service) changeMembers(ctx context.Context, in CollectionProductsInput, add bool) (Collection, error) {
	if err := s.authz.Can(ctx, authz.Collection, authz.Write); err != nil {
		return Collection{}, err
	}
	var out Collection
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		c, err := s.store.CollectionByID(ctx, in.CollectionID)
		if err != nil {
			return withField(err, "collectionId")
		}
		var v errs.Validator
		v.Check(len(in.ProductIDs) > 0, "productIds", CodeRequired, "name at least one product")
		ids := in.ProductIDs
		if add {
			if ids, err = s.checkProductIDs(ctx, &v, in.ProductIDs, "productIds"); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if add {
			err = s.store.AddToCollection(ctx, c.ID, ids)
		} else {
			err = s.store.RemoveFromCollection(ctx, c.ID, ids)
		}
		if err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		if err := s.store.TouchCollection(ctx, c.ID, c.UpdatedAt); err != nil {
			return err
		}
		out = c
		return s.collectionEvent(ctx, SubjectCollectionUpdated, &c)
	})
	return out, err
}
