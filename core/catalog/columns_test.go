package catalog

import (
	"database/sql"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// TestStockMovementColumnsAreTheModel keeps the hand-written column list
// of the ledger's prepared insert in step with stockMovementRow.
func TestStockMovementColumnsAreTheModel(t *testing.T) {
	db := bun.NewDB(&sql.DB{}, sqlitedialect.New())
	var want []string
	for _, f := range db.Table(reflect.TypeOf(stockMovementRow{})).Fields {
		want = append(want, f.Name)
	}
	got := strings.Split(stockMovementColumns, ", ")
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("columns (-model +insert):\n%s", diff)
	}
}
