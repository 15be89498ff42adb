package catalog_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// listTexts records the texts of the product list statements.
type listTexts struct {
	mu    sync.Mutex
	texts []string
}

func (h *listTexts) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *listTexts) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	// The page's statement, not the plan check's own PREPARE of it.
	if strings.HasPrefix(e.Query, "SELECT ") && strings.Contains(e.Query, `"product"."title_sort"`) && strings.Contains(e.Query, "LIMIT") {
		h.mu.Lock()
		h.texts = append(h.texts, e.Query)
		h.mu.Unlock()
	}
}

func (h *listTexts) last(t *testing.T) string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.texts) == 0 {
		t.Fatal("no product list statement ran")
	}
	return h.texts[len(h.texts)-1]
}

// The pages a storefront reads run as prepared statements, whose generic
// plan PostgreSQL keeps until the tables' statistics change. Planned on a
// new shop (tables without statistics), each must still walk an index in
// the list's order and stop at the page's end, and a collection's page
// read its members and find each product by its key: never read the
// whole catalog, which a shop's first minute under load (before
// autovacuum's first ANALYZE) would otherwise do for every page.
func TestProductListPlansOnANewShop(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != store.Postgres {
			t.Skip("PostgreSQL's plans")
		}
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		log := &listTexts{}
		db.AddQueryHook(log)
		for _, tt := range []struct {
			name string
			f    catalog.ProductFilter
			// uses are the indexes the plan must read by.
			uses []string
			// sorts: the plan may sort what it read (a collection's
			// members, bounded by the collection, never the catalog).
			sorts bool
		}{
			{"default order", catalog.ProductFilter{}, []string{"products_status_id"}, false},
			{"newest first", catalog.ProductFilter{SortKey: catalog.SortCreatedAt, Reverse: true}, []string{"products_status_created"}, false},
			{"by title", catalog.ProductFilter{SortKey: catalog.SortTitle}, []string{"products_status_title"}, false},
			{"recently updated", catalog.ProductFilter{SortKey: catalog.SortUpdatedAt, Reverse: true}, []string{"products_status_updated"}, false},
			{"a collection in its order", catalog.ProductFilter{Collection: shop.Teaware.ID}, []string{"collection_products_position", "products_pkey"}, true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := svc.ListProducts(catalogtest.Anonymous(), tt.f, page.Request{First: 24}); err != nil {
					t.Fatal(err)
				}
				text := log.last(t)
				plan := storetest.GenericPlan(t, db, text)
				bad := strings.Contains(plan, "Seq Scan on products") || (!tt.sorts && strings.Contains(plan, "Sort"))
				for _, ix := range tt.uses {
					bad = bad || !strings.Contains(plan, ix)
				}
				if bad {
					t.Errorf("the page does not read by %v in its order:\n%s\n%s", tt.uses, text, plan)
				}
			})
		}
	})
}
