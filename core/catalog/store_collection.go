package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
)

// The queries of collections and their products.

// collectionRow is a collection with its derived sort column.
type collectionRow struct {
	Collection `bun:",extend"`

	TitleSort string `bun:"title_sort"`
}

// membershipRow is one collection_products row.
type membershipRow struct {
	bun.BaseModel `bun:"table:collection_products"`

	CollectionID string `bun:"collection_id,pk"`
	ProductID    string `bun:"product_id,pk"`
	Position     int    `bun:"position"`
}

// TakenCollectionHandles returns which of handles are used by collections.
func (s *catalogStore) TakenCollectionHandles(ctx context.Context, handles []string) (map[string]bool, error) {
	return s.taken(ctx, "collections", "handle", handles)
}

// InsertCollection writes a new collection.
func (s *catalogStore) InsertCollection(ctx context.Context, c *Collection) error {
	row := collectionRow{Collection: *c, TitleSort: sortKey(c.Title)}
	if _, err := s.db.Conn(ctx).NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("insert collection: %w", err)
	}
	return nil
}

// UpdateCollection writes every column of c.
func (s *catalogStore) UpdateCollection(ctx context.Context, c *Collection) error {
	row := collectionRow{Collection: *c, TitleSort: sortKey(c.Title)}
	res, err := s.db.Conn(ctx).NewUpdate().Model(&row).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("update collection: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return collectionNotFound("")
	}
	return nil
}

// DeleteCollection removes a collection and its memberships.
func (s *catalogStore) DeleteCollection(ctx context.Context, id string) error {
	db := s.db.Conn(ctx)
	// Memberships go first explicitly: the cascade would do it, but only
	// where foreign keys are enforced.
	if _, err := db.NewDelete().Model((*membershipRow)(nil)).Where("collection_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete collection products: %w", err)
	}
	res, err := db.NewDelete().Model((*Collection)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete collection: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return collectionNotFound("")
	}
	return nil
}

// CollectionByID returns one collection, or errs.ErrNotFound.
func (s *catalogStore) CollectionByID(ctx context.Context, id string) (Collection, error) {
	return s.collectionWhere(ctx, "collection.id = ?", id)
}

// CollectionByHandle returns one collection, or errs.ErrNotFound.
func (s *catalogStore) CollectionByHandle(ctx context.Context, handle string) (Collection, error) {
	return s.collectionWhere(ctx, "collection.handle = ?", handle)
}

func (s *catalogStore) collectionWhere(ctx context.Context, where string, arg any) (Collection, error) {
	var c Collection
	err := s.db.Conn(ctx).NewSelect().Model(&c).Where(where, arg).Limit(1).Scan(ctx)
	if store.IsNoRows(err) {
		return Collection{}, collectionNotFound("")
	}
	if err != nil {
		return Collection{}, fmt.Errorf("read collection: %w", err)
	}
	return c, nil
}

// ListCollections returns up to limit collections after the cursor, by
// title.
func (s *catalogStore) ListCollections(ctx context.Context, after *page.Cursor, limit int) ([]Collection, []page.Cursor, error) {
	var rows []collectionRow
	q := s.db.Conn(ctx).NewSelect().Model(&rows)
	if after != nil {
		q = q.Where("(collection.title_sort, collection.id) > (?, ?)", after.Key, after.ID)
	}
	if err := q.OrderExpr("collection.title_sort, collection.id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("list collections: %w", err)
	}
	out := make([]Collection, len(rows))
	cursors := make([]page.Cursor, len(rows))
	for i := range rows {
		out[i] = rows[i].Collection
		cursors[i] = page.Cursor{Key: rows[i].TitleSort, ID: rows[i].ID}
	}
	return out, cursors, nil
}

// CollectionsByProductIDs returns the collections of the given products, by
// product id, ordered by title.
func (s *catalogStore) CollectionsByProductIDs(ctx context.Context, ids []string) (map[string][]Collection, error) {
	out := make(map[string][]Collection, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		Collection `bun:",extend"`
		ProductID  string `bun:"product_id"`
	}
	if err := s.db.Conn(ctx).NewSelect().Model(&rows).
		Column("id", "handle", "title", "description", "created_at", "updated_at").
		ColumnExpr("cp.product_id AS product_id").
		Join("JOIN collection_products AS cp ON cp.collection_id = collection.id").
		Where("cp.product_id IN (?)", bun.In(ids)).
		OrderExpr("collection.title_sort, collection.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read product collections: %w", err)
	}
	for _, r := range rows {
		out[r.ProductID] = append(out[r.ProductID], r.Collection)
	}
	return out, nil
}

// AddToCollection appends products to a collection, after its last one,
// in the given order; products already in it keep their place.
func (s *catalogStore) AddToCollection(ctx context.Context, collectionID string, productIDs []string) error {
	if len(productIDs) == 0 {
		return nil
	}
	db := s.db.Conn(ctx)
	var next int
	if err := db.NewSelect().Table("collection_products").ColumnExpr("COALESCE(MAX(position) + 1, 0)").
		Where("collection_id = ?", collectionID).Scan(ctx, &next); err != nil {
		return fmt.Errorf("read collection positions: %w", err)
	}
	rows := make([]membershipRow, len(productIDs))
	for i, id := range productIDs {
		rows[i] = membershipRow{CollectionID: collectionID, ProductID: id, Position: next + i}
	}
	if _, err := db.NewInsert().Model(&rows).On("CONFLICT (collection_id, product_id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("add products to collection: %w", err)
	}
	return nil
}

// RemoveFromCollection removes products from a collection.
func (s *catalogStore) RemoveFromCollection(ctx context.Context, collectionID string, productIDs []string) error {
	if len(productIDs) == 0 {
		return nil
	}
	if _, err := s.db.Conn(ctx).NewDelete().Model((*membershipRow)(nil)).
		Where("collection_id = ?", collectionID).Where("product_id IN (?)", bun.In(productIDs)).Exec(ctx); err != nil {
		return fmt.Errorf("remove products from collection: %w", err)
	}
	return nil
}

// TouchCollection sets a collection's updated_at.
func (s *catalogStore) TouchCollection(ctx context.Context, id string, now time.Time) error {
	if _, err := s.db.Conn(ctx).NewUpdate().Model((*Collection)(nil)).Set("updated_at = ?", now).
		Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("touch collection: %w", err)
	}
	return nil
}
