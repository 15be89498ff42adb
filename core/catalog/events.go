package catalog

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/core/events"
)

// The catalog's event subjects.
const (
	// SubjectProductCreated: a product was created (ProductEvent).
	SubjectProductCreated = "kassa.product.created"
	// SubjectProductUpdated: a product, one of its variants or their
	// prices changed, or it was archived or unarchived (ProductEvent).
	SubjectProductUpdated = "kassa.product.updated"
	// SubjectInventoryAdjusted: stock on hand was adjusted by hand
	// (InventoryAdjustedEvent).
	SubjectInventoryAdjusted = "kassa.inventory.adjusted"
	// SubjectStockMoved: orders reserved, released or shipped stock
	// (Reservations; StockMovedEvent), so available quantities changed.
	SubjectStockMoved = "kassa.inventory.moved"
	// SubjectCollectionCreated: a collection was created
	// (CollectionEvent).
	SubjectCollectionCreated = "kassa.collection.created"
	// SubjectCollectionUpdated: a collection's fields or products changed
	// (CollectionEvent).
	SubjectCollectionUpdated = "kassa.collection.updated"
	// SubjectCollectionDeleted: a collection was deleted
	// (CollectionEvent).
	SubjectCollectionDeleted = "kassa.collection.deleted"
)

// CacheSubjects returns the subject filters of every catalog event: after
// any of them a public catalog read (products, prices, stock, collections)
// may answer differently, so every instance drops the public answers it
// cached (the GraphQL response cache, graphql/resolver.Cache). A new
// event subject belongs under one of them; TestEvents fails otherwise.
func CacheSubjects() []string {
	return []string{"kassa.product.>", "kassa.inventory.>", "kassa.collection.>"}
}

// Outbox records events in the caller's transaction; they leave for the
// bus once it committed. core/events' Outbox implements it.
type Outbox interface {
	Add(ctx context.Context, e events.Event) error
}

// ProductEvent is the payload of product events: enough to find the
// product again, not a copy of it (consumers read the current state).
type ProductEvent struct {
	ProductID string        `json:"productId"`
	Handle    string        `json:"handle"`
	Status    ProductStatus `json:"status"`
}

// CollectionEvent is the payload of collection events.
type CollectionEvent struct {
	CollectionID string `json:"collectionId"`
	Handle       string `json:"handle"`
}

// InventoryAdjustedEvent is the payload of kassa.inventory.adjusted.
type InventoryAdjustedEvent struct {
	AdjustmentID string           `json:"adjustmentId"`
	VariantID    string           `json:"variantId"`
	Delta        int64            `json:"delta"`
	Reason       AdjustmentReason `json:"reason"`
	OnHandAfter  int64            `json:"onHandAfter"`
}

// StockMovedEvent is the payload of kassa.inventory.moved: one move of
// Reservations, for every variant it touched.
type StockMovedEvent struct {
	// Reference names the order (reserve, release) or the shipment
	// (commit) the stock moved for.
	Reference string           `json:"reference"`
	Reason    AdjustmentReason `json:"reason"`
	Variants  []StockMove      `json:"variants"`
}

// StockMove is what one move did to one variant's stock.
type StockMove struct {
	VariantID     string `json:"variantId"`
	OnHandDelta   int64  `json:"onHandDelta"`
	ReservedDelta int64  `json:"reservedDelta"`
}

// emit adds an event to the outbox in ctx's transaction.
func (s *Service) emit(ctx context.Context, subject string, payload any) error {
	e, err := events.New(subject, payload)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	e.Actor = actor(ctx)
	// Every change of the catalog emits an event: the one place to drop
	// the checkout answers it makes stale.
	s.cache.changedAll(ctx)
	return s.outbox.Add(ctx, e)
}

// productsCreated emits kassa.product.created for each product, in one
// statement when the outbox can add several events at once.
func (s *Service) productsCreated(ctx context.Context, ps []Product) error {
	batch, ok := s.outbox.(interface {
		AddAll(ctx context.Context, es ...events.Event) error
	})
	if !ok {
		for i := range ps {
			if err := s.productEvent(ctx, SubjectProductCreated, &ps[i]); err != nil {
				return err
			}
		}
		return nil
	}
	who := actor(ctx)
	es := make([]events.Event, len(ps))
	for i := range ps {
		e, err := events.New(SubjectProductCreated, ProductEvent{ProductID: ps[i].ID, Handle: ps[i].Handle, Status: ps[i].Status})
		if err != nil {
			return fmt.Errorf("catalog: %w", err)
		}
		e.Actor = who
		es[i] = e
	}
	return batch.AddAll(ctx, es...)
}

func (s *Service) productEvent(ctx context.Context, subject string, p *Product) error {
	return s.emit(ctx, subject, ProductEvent{ProductID: p.ID, Handle: p.Handle, Status: p.Status})
}

func (s *Service) collectionEvent(ctx context.Context, subject string, c *Collection) error {
	return s.emit(ctx, subject, CollectionEvent{CollectionID: c.ID, Handle: c.Handle})
}
