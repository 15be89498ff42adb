package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// gridQuery reads a page's variants with their stock and their price in
// one currency. It leaves the timestamps out, and its rows are scanned by
// hand: on SQLite, parsing timestamps and bun's reflection cost more than
// running the statement. It has no ORDER BY: both engines walk the
// (product_id, position) index and return each product's variants
// together and in order, which VariantGrid checks (and sorts otherwise)
// for less than SQLite's sorter costs. It runs as a prepared statement
// (store.DB.QueryStmt), one per IN list length: a grid's page has one
// size, so SQLite parses it once instead of on every request.
const gridQuery = `SELECT v.id, v.product_id, v.sku, v.title, v.option_values, v.position, v.weight_grams, v.archived,
	l.on_hand, l.reserved, p.amount, p.compare_at_amount
FROM product_variants AS v%s
LEFT JOIN inventory_levels AS l ON l.variant_id = v.id
LEFT JOIN variant_prices AS p ON p.variant_id = v.id AND p.currency = ?
WHERE v.product_id IN (%s)`

// gridActiveOnly keeps the variants of ACTIVE products.
const gridActiveOnly = `
JOIN products AS pr ON pr.id = v.product_id AND pr.status = 'ACTIVE'`

// gridText is the grid statement for n products.
func gridText(n int, activeOnly bool) string {
	join := ""
	if activeOnly {
		join = gridActiveOnly
	}
	return fmt.Sprintf(gridQuery, join, store.Placeholders(n))
}

// gridListLen is the length of the IN list that reads n products: the
// next power of two up to 256, so that the products a buyer's grid misses
// in memory (any number up to a page) take a few prepared statements, not
// one per count.
func gridListLen(n int) int {
	if n <= 1 || n > 256 {
		return n
	}
	return 1 << bits.Len(uint(n-1))
}

// VariantGrid reads the variants of the given products with their stock
// and their price in cur, in one statement. activeOnly keeps the variants
// of ACTIVE products.
func (s *catalogStore) VariantGrid(ctx context.Context, ids []string, cur money.Currency, activeOnly bool) (map[string][]GridVariant, error) {
	out := make(map[string][]GridVariant, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	listLen := gridListLen(len(ids))
	args := make([]any, 0, listLen+1)
	args = append(args, cur.Code())
	for _, id := range ids {
		args = append(args, id)
	}
	for len(args) < listLen+1 {
		args = append(args, ids[len(ids)-1]) // IN ignores the repeats
	}
	rows, err := s.db.QueryStmt(ctx, gridText(listLen, activeOnly), args...)
	if err != nil {
		return nil, fmt.Errorf("read variant grid: %w", err)
	}
	defer rows.Close()
	vs := make([]GridVariant, 0, 4*len(ids))
	prices := make([]Price, 0, 4*len(ids))
	for rows.Next() {
		var (
			g                 GridVariant
			options           string
			position, weight  int64
			onHand, reserved  sql.NullInt64
			amount, compareAt sql.NullInt64
		)
		if err := rows.Scan(&g.ID, &g.ProductID, &g.SKU, &g.Title, &options, &position, &weight, &g.Archived,
			&onHand, &reserved, &amount, &compareAt); err != nil {
			return nil, fmt.Errorf("read variant grid: %w", err)
		}
		g.Position, g.WeightGrams = int(position), int(weight)
		if g.OptionValues, err = parseStringArray(options); err != nil {
			return nil, fmt.Errorf("read variant %s options: %w", g.ID, err)
		}
		if onHand.Valid {
			g.Level = InventoryLevel{VariantID: g.ID, OnHand: onHand.Int64, Reserved: reserved.Int64}
		}
		if amount.Valid {
			p := Price{VariantID: g.ID, Amount: money.New(amount.Int64, cur)}
			if compareAt.Valid {
				c := money.New(compareAt.Int64, cur)
				p.CompareAt = &c
			}
			prices = append(prices, p)
			// Points into prices once it stops growing (below).
			g.Price = &Price{VariantID: g.ID}
		}
		vs = append(vs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read variant grid: %w", err)
	}
	// One backing array for the prices, and one for the variants sliced
	// per product, instead of an allocation per row.
	n := 0
	for i := range vs {
		if vs[i].Price != nil {
			vs[i].Price = &prices[n]
			n++
		}
	}
	byProductAndPosition := func(a, b GridVariant) int {
		if c := strings.Compare(a.ProductID, b.ProductID); c != 0 {
			return c
		}
		return a.Position - b.Position
	}
	if !slices.IsSortedFunc(vs, byProductAndPosition) {
		slices.SortFunc(vs, byProductAndPosition)
	}
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

// parseStringArray reads a JSON array of strings as bun writes it. Values
// without escapes, the rule, are sliced without encoding/json.
func parseStringArray(s string) ([]string, error) {
	switch s {
	case "null", "":
		return nil, nil
	case "[]":
		return []string{}, nil
	}
	if len(s) >= 4 && s[0] == '[' && s[len(s)-1] == ']' && strings.IndexByte(s, '\\') < 0 {
		inner := s[1 : len(s)-1]
		out := make([]string, 0, strings.Count(inner, `","`)+1)
		for len(inner) > 0 && inner[0] == '"' {
			end := strings.IndexByte(inner[1:], '"')
			if end < 0 {
				break
			}
			out = append(out, inner[1:1+end])
			inner = inner[2+end:]
			if inner == "" {
				return out, nil
			}
			if inner[0] != ',' {
				break
			}
			inner = inner[1:]
		}
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	return out, nil
}
