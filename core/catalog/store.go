package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// catalogStore is the catalog's persistence: the only place with SQL,
// split by concept into store.go (products, variants, prices),
// store_inventory.go and store_collection.go. Every method runs on the
// transaction carried by ctx, if any (store.DB.Conn), so the service
// composes them into one transaction with RunInTx, and a caller's outer
// transaction takes them in. Other packages never reach it: they call
// the Service (or Reservations).
type catalogStore struct {
	db *store.DB
}

// newCatalogStore returns the catalog store on db.
func newCatalogStore(db *store.DB) *catalogStore { return &catalogStore{db: db} }

// productRow is a product with the columns the store derives from it.
type productRow struct {
	Product `bun:",extend"`

	TitleSort  string `bun:"title_sort"`
	SearchText string `bun:"search_text"`
}

// priceRow is one variant_prices row; Price carries money.Money instead.
type priceRow struct {
	bun.BaseModel `bun:"table:variant_prices"`

	VariantID       string         `bun:"variant_id,pk"`
	Currency        money.Currency `bun:"currency,pk"`
	Amount          int64          `bun:"amount"`
	CompareAtAmount *int64         `bun:"compare_at_amount"`
}

func (r *priceRow) price() Price {
	p := Price{VariantID: r.VariantID, Amount: money.New(r.Amount, r.Currency)}
	if r.CompareAtAmount != nil {
		c := money.New(*r.CompareAtAmount, r.Currency)
		p.CompareAt = &c
	}
	return p
}

func newPriceRow(p Price) priceRow {
	r := priceRow{VariantID: p.VariantID, Currency: p.Amount.Currency(), Amount: p.Amount.Amount()}
	if p.CompareAt != nil {
		c := p.CompareAt.Amount()
		r.CompareAtAmount = &c
	}
	return r
}

// listRow is a product as ListProducts reads it: with the columns its
// cursor needs.
type listRow struct {
	Product `bun:",extend"`

	TitleSort string `bun:"title_sort"`
	// Position is the product's place in the filtered collection; read
	// only for MANUAL listings.
	Position int `bun:"position,scanonly"`
}

// listColumns are read by ListProducts; search_text never leaves the
// database.
var listColumns = []string{"id", "handle", "title", "description", "status", "vendor", "product_type",
	"tags", "options", "created_at", "updated_at", "title_sort"}

// listQuery is a validated ProductFilter with the paging of one request.
type listQuery struct {
	terms        []string
	collectionID string
	// status keeps one status; empty keeps all.
	status  ProductStatus
	sortKey ProductSortKey
	reverse bool
	after   *page.Cursor
	limit   int
}

// ListProducts returns up to q.limit products after q.after in q's order,
// each with its cursor.
func (s *catalogStore) ListProducts(ctx context.Context, q listQuery) ([]Product, []page.Cursor, error) {
	sel := s.db.Conn(ctx).NewSelect().Model((*listRow)(nil)).Column(listColumns...)
	// The values are bound, not inlined by bun, so that the statement of
	// a page's shape is prepared once (store.DB.QueryStmt): bind puts a
	// placeholder in the text and the value in args, in the order of the
	// text (joins, then the conditions as added). After a cursor of a date
	// order, every value is inlined and the page runs through bun: the
	// time must be written in bun's format, the one the rows hold.
	var args []any
	inlined := q.after != nil && (q.sortKey == SortCreatedAt || q.sortKey == SortUpdatedAt)
	bind := func(v any) any {
		if inlined {
			return v
		}
		args = append(args, v)
		return bun.Safe("?")
	}
	var sortCol string
	switch q.sortKey {
	case SortTitle:
		sortCol = "product.title_sort"
	case SortCreatedAt:
		sortCol = "product.created_at"
	case SortUpdatedAt:
		sortCol = "product.updated_at"
	case SortManual:
		sortCol = "cp.position"
	}
	switch {
	case q.collectionID != "" && q.sortKey == SortManual && s.db.Dialect == store.Postgres:
		// A collection in its own order is read from its memberships, in
		// order, each product found by its key: the LATERAL subquery with
		// its OFFSET fence keeps PostgreSQL from turning the join around.
		// A generic plan made before the tables had statistics (a new
		// shop's first minute) would otherwise walk every ACTIVE product
		// and sort (TestProductListPlansOnANewShop).
		sel = sel.ModelTableExpr(`collection_products AS cp CROSS JOIN LATERAL (SELECT * FROM products WHERE id = cp.product_id OFFSET 0) AS "product"`).
			ColumnExpr("cp.position AS position").
			Where("cp.collection_id = ?", bind(q.collectionID))
	case q.collectionID != "":
		sel = sel.Join("JOIN collection_products AS cp ON cp.product_id = product.id AND cp.collection_id = ?", bind(q.collectionID))
		if q.sortKey == SortManual {
			sel = sel.ColumnExpr("cp.position AS position")
		}
	}
	if q.status != "" {
		sel = sel.Where("product.status = ?", bind(string(q.status)))
	}
	for _, t := range q.terms {
		sel = sel.Where("product.search_text LIKE ? ESCAPE '!'", bind("%"+escapeLike(t)+"%"))
	}
	op, dir := ">", "ASC"
	if q.reverse {
		op, dir = "<", "DESC"
	}
	// The tie-breaker is the product id; in MANUAL order it is read from
	// the membership row, so the (collection_id, position, product_id)
	// index gives the order without a sort.
	idCol := "product.id"
	if q.sortKey == SortManual {
		idCol = "cp.product_id"
	}
	if q.after != nil {
		if sortCol == "" {
			sel = sel.Where(idCol+" "+op+" ?", bind(q.after.ID))
		} else {
			key, err := cursorValue(q.sortKey, q.after.Key)
			if err != nil {
				return nil, nil, err
			}
			// A row value compares (key, id) as a pair, which both
			// engines answer from the (key, id) index.
			sel = sel.Where("("+sortCol+", "+idCol+") "+op+" (?, ?)", bind(key), bind(q.after.ID))
		}
	}
	if sortCol != "" {
		sel = sel.OrderExpr(sortCol + " " + dir)
	}
	sel = sel.OrderExpr(idCol + " " + dir).Limit(int64(q.limit))
	var (
		rs  *sql.Rows
		err error
	)
	if inlined {
		rs, err = sel.Rows(ctx)
	} else {
		rs, err = s.db.QueryStmt(ctx, sel.String(), args...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list products: %w", err)
	}
	rows, err := scanListRows(rs, q.limit, q.sortKey == SortManual && q.collectionID != "")
	if err != nil {
		return nil, nil, fmt.Errorf("list products: %w", err)
	}
	out := make([]Product, len(rows))
	cursors := make([]page.Cursor, len(rows))
	for i := range rows {
		out[i] = rows[i].Product
		c := page.Cursor{ID: rows[i].ID}
		switch q.sortKey {
		case SortTitle:
			c.Key = rows[i].TitleSort
		case SortCreatedAt:
			c.Key = formatCursorTime(rows[i].CreatedAt)
		case SortUpdatedAt:
			c.Key = formatCursorTime(rows[i].UpdatedAt)
		case SortManual:
			c.Key = strconv.Itoa(rows[i].Position)
		}
		cursors[i] = c
	}
	return out, cursors, nil
}

// cursorValue converts a cursor key back to the SQL value of the sort
// column.
func cursorValue(k ProductSortKey, key string) (any, error) {
	switch k {
	case SortCreatedAt, SortUpdatedAt:
		t, err := time.Parse(time.RFC3339Nano, key)
		if err != nil {
			return nil, errs.Invalid("after", CodeInvalidCursor, "cursor is not valid")
		}
		return t.UTC(), nil
	case SortManual:
		n, err := strconv.Atoi(key)
		if err != nil {
			return nil, errs.Invalid("after", CodeInvalidCursor, "cursor is not valid")
		}
		return n, nil
	}
	return key, nil
}

func formatCursorTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// escapeLike escapes LIKE wildcards with '!', an escape character that
// needs no quoting on either engine.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, "%_!") {
		return s
	}
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s)
}

// ProductByID returns one product, or errs.ErrNotFound.
func (s *catalogStore) ProductByID(ctx context.Context, id string) (Product, error) {
	return s.productWhere(ctx, "product.id = ?", id)
}

// ProductByHandle returns one product, or errs.ErrNotFound.
func (s *catalogStore) ProductByHandle(ctx context.Context, handle string) (Product, error) {
	return s.productWhere(ctx, "product.handle = ?", handle)
}

func (s *catalogStore) productWhere(ctx context.Context, where string, arg any) (Product, error) {
	var p Product
	err := s.db.Conn(ctx).NewSelect().Model(&p).Where(where, arg).Limit(1).Scan(ctx)
	if store.IsNoRows(err) {
		return Product{}, productNotFound("")
	}
	if err != nil {
		return Product{}, fmt.Errorf("read product: %w", err)
	}
	return p, nil
}

// ProductsByIDs returns the products with the given ids that exist, by id.
func (s *catalogStore) ProductsByIDs(ctx context.Context, ids []string) (map[string]Product, error) {
	if len(ids) == 0 {
		return map[string]Product{}, nil
	}
	var ps []Product
	if err := s.db.Conn(ctx).NewSelect().Model(&ps).Where("product.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read products: %w", err)
	}
	out := make(map[string]Product, len(ps))
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// TakenHandles returns which of handles are used by products.
func (s *catalogStore) TakenHandles(ctx context.Context, handles []string) (map[string]bool, error) {
	return s.taken(ctx, "products", "handle", handles)
}

// TakenSKUs returns which of skus are used by variants, with the id of the
// variant using each.
func (s *catalogStore) TakenSKUs(ctx context.Context, skus []string) (map[string]string, error) {
	out := map[string]string{}
	if len(skus) == 0 {
		return out, nil
	}
	var rows []struct {
		ID  string `bun:"id"`
		SKU string `bun:"sku"`
	}
	if err := s.db.Conn(ctx).NewSelect().Table("product_variants").Column("id", "sku").
		// "sku <> ''" lets both engines use the partial unique index.
		Where("sku IN (?) AND sku <> ''", bun.In(skus)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read skus: %w", err)
	}
	for _, r := range rows {
		out[r.SKU] = r.ID
	}
	return out, nil
}

func (s *catalogStore) taken(ctx context.Context, table, col string, vals []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(vals) == 0 {
		return out, nil
	}
	var got []string
	if err := s.db.Conn(ctx).NewSelect().Table(table).Column(col).
		Where("? IN (?)", bun.Ident(col), bun.In(vals)).Scan(ctx, &got); err != nil {
		return nil, fmt.Errorf("read %s %ss: %w", table, col, err)
	}
	for _, g := range got {
		out[g] = true
	}
	return out, nil
}

// HandlesLike returns the product handles equal to base or starting with
// base + "-", to pick a free derived handle in one query.
func (s *catalogStore) HandlesLike(ctx context.Context, table, base string) (map[string]bool, error) {
	var got []string
	if err := s.db.Conn(ctx).NewSelect().Table(table).Column("handle").
		Where("handle = ? OR handle LIKE ? ESCAPE '!'", base, escapeLike(base)+"-%").
		Scan(ctx, &got); err != nil {
		return nil, fmt.Errorf("read %s handles: %w", table, err)
	}
	out := make(map[string]bool, len(got))
	for _, g := range got {
		out[g] = true
	}
	return out, nil
}

// newProduct is everything written when a product is created.
type newProduct struct {
	Product     Product
	Variants    []Variant
	Prices      []Price
	Levels      []InventoryLevel
	Adjustments []InventoryAdjustment
}

// InsertProducts writes new products with their variants, prices, stock
// and ledger rows, with one multi-row INSERT per table, so a thousand
// products cost a handful of statements.
func (s *catalogStore) InsertProducts(ctx context.Context, ps []newProduct) error {
	if len(ps) == 0 {
		return nil
	}
	db := s.db.Conn(ctx)
	rows := make([]productRow, len(ps))
	var (
		vs  []Variant
		prs []priceRow
		ls  []InventoryLevel
		as  []InventoryAdjustment
	)
	for i := range ps {
		np := &ps[i]
		var skus []string
		for _, v := range np.Variants {
			skus = append(skus, v.SKU)
		}
		rows[i] = productRow{Product: np.Product, TitleSort: sortKey(np.Product.Title), SearchText: searchText(&np.Product, skus)}
		vs = append(vs, np.Variants...)
		for _, p := range np.Prices {
			prs = append(prs, newPriceRow(p))
		}
		ls = append(ls, np.Levels...)
		as = append(as, np.Adjustments...)
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert products: %w", err)
	}
	if err := s.insertVariantRows(ctx, vs, prs, ls, as); err != nil {
		return err
	}
	return nil
}

// InsertVariants writes new variants of existing products with their
// prices, stock and ledger rows.
func (s *catalogStore) InsertVariants(ctx context.Context, vs []Variant, ps []Price, ls []InventoryLevel, as []InventoryAdjustment) error {
	prs := make([]priceRow, len(ps))
	for i, p := range ps {
		prs[i] = newPriceRow(p)
	}
	return s.insertVariantRows(ctx, vs, prs, ls, as)
}

func (s *catalogStore) insertVariantRows(ctx context.Context, vs []Variant, prs []priceRow, ls []InventoryLevel, as []InventoryAdjustment) error {
	db := s.db.Conn(ctx)
	if len(vs) > 0 {
		if _, err := db.NewInsert().Model(&vs).Exec(ctx); err != nil {
			return fmt.Errorf("insert variants: %w", err)
		}
	}
	if len(prs) > 0 {
		if _, err := db.NewInsert().Model(&prs).Exec(ctx); err != nil {
			return fmt.Errorf("insert prices: %w", err)
		}
	}
	if len(ls) > 0 {
		if _, err := db.NewInsert().Model(&ls).Exec(ctx); err != nil {
			return fmt.Errorf("insert inventory levels: %w", err)
		}
	}
	if len(as) > 0 {
		if _, err := db.NewInsert().Model(&as).Exec(ctx); err != nil {
			return fmt.Errorf("insert inventory adjustments: %w", err)
		}
	}
	return nil
}

// UpdateProduct writes every column of p and refreshes its derived
// columns with the given SKUs.
func (s *catalogStore) UpdateProduct(ctx context.Context, p *Product, skus []string) error {
	row := productRow{Product: *p, TitleSort: sortKey(p.Title), SearchText: searchText(p, skus)}
	res, err := s.db.Conn(ctx).NewUpdate().Model(&row).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("update product: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return productNotFound("")
	}
	return nil
}

// SKUsOfProduct returns the SKUs of every variant of a product, for its
// search text.
func (s *catalogStore) SKUsOfProduct(ctx context.Context, productID string) ([]string, error) {
	var skus []string
	if err := s.db.Conn(ctx).NewSelect().Table("product_variants").Column("sku").
		Where("product_id = ?", productID).OrderExpr("position").Scan(ctx, &skus); err != nil {
		return nil, fmt.Errorf("read skus: %w", err)
	}
	return skus, nil
}

// VariantsByProductIDs returns the variants of the given products, by
// product id, in position order. activeOnly leaves out variants of
// products that are not ACTIVE.
func (s *catalogStore) VariantsByProductIDs(ctx context.Context, ids []string, activeOnly bool) (map[string][]Variant, error) {
	out := make(map[string][]Variant, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var vs []Variant
	q := s.db.Conn(ctx).NewSelect().Model(&vs).Where("variant.product_id IN (?)", bun.In(ids))
	if activeOnly {
		q = q.Join("JOIN products AS p ON p.id = variant.product_id AND p.status = ?", StatusActive)
	}
	if err := q.OrderExpr("variant.product_id, variant.position").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read variants: %w", err)
	}
	// Slice one backing array instead of allocating a slice per product.
	for i := 0; i < len(vs); {
		j := i + 1
		for j < len(vs) && vs[j].ProductID == vs[i].ProductID {
			j++
		}
		out[vs[i].ProductID] = vs[i:j:j]
		i = j
	}
	return out, nil
}

// VariantByID returns one variant, or errs.ErrNotFound.
func (s *catalogStore) VariantByID(ctx context.Context, id string) (Variant, error) {
	var v Variant
	err := s.db.Conn(ctx).NewSelect().Model(&v).Where("variant.id = ?", id).Limit(1).Scan(ctx)
	if store.IsNoRows(err) {
		return Variant{}, variantNotFound("")
	}
	if err != nil {
		return Variant{}, fmt.Errorf("read variant: %w", err)
	}
	return v, nil
}

// UpdateVariant writes every column of v.
func (s *catalogStore) UpdateVariant(ctx context.Context, v *Variant) error {
	res, err := s.db.Conn(ctx).NewUpdate().Model(v).WherePK().ExcludeColumn("id", "product_id", "created_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("update variant: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return variantNotFound("")
	}
	return nil
}

// NextVariantPosition returns the position after the product's last
// variant.
func (s *catalogStore) NextVariantPosition(ctx context.Context, productID string) (int, error) {
	var n int
	if err := s.db.Conn(ctx).NewSelect().Table("product_variants").ColumnExpr("COALESCE(MAX(position) + 1, 0)").
		Where("product_id = ?", productID).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("read variant positions: %w", err)
	}
	return n, nil
}

// PricesByVariantIDs returns the prices of the given variants, by variant
// id, ordered by currency.
func (s *catalogStore) PricesByVariantIDs(ctx context.Context, ids []string) (map[string][]Price, error) {
	out := make(map[string][]Price, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []priceRow
	if err := s.db.Conn(ctx).NewSelect().Model(&rows).Where("variant_id IN (?)", bun.In(ids)).
		OrderExpr("variant_id, currency").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read prices: %w", err)
	}
	all := make([]Price, len(rows))
	for i := range rows {
		all[i] = rows[i].price()
	}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].VariantID == all[i].VariantID {
			j++
		}
		out[all[i].VariantID] = all[i:j:j]
		i = j
	}
	return out, nil
}

// UpsertPrices sets the given prices, replacing the variant's price in the
// same currency.
func (s *catalogStore) UpsertPrices(ctx context.Context, ps []Price) error {
	if len(ps) == 0 {
		return nil
	}
	rows := make([]priceRow, len(ps))
	for i, p := range ps {
		rows[i] = newPriceRow(p)
	}
	if _, err := s.db.Conn(ctx).NewInsert().Model(&rows).
		On("CONFLICT (variant_id, currency) DO UPDATE").
		Set("amount = EXCLUDED.amount").
		Set("compare_at_amount = EXCLUDED.compare_at_amount").
		Exec(ctx); err != nil {
		return fmt.Errorf("upsert prices: %w", err)
	}
	return nil
}

// DeletePrices removes a variant's prices in the given currencies.
func (s *catalogStore) DeletePrices(ctx context.Context, variantID string, currencies []string) error {
	if len(currencies) == 0 {
		return nil
	}
	if _, err := s.db.Conn(ctx).NewDelete().Model((*priceRow)(nil)).
		Where("variant_id = ?", variantID).Where("currency IN (?)", bun.In(currencies)).Exec(ctx); err != nil {
		return fmt.Errorf("delete prices: %w", err)
	}
	return nil
}
