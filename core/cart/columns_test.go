package cart

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

// TestCartColumnsAreTheModel keeps the hand-written column list of the
// prepared statements in step with Cart: a field added to it without its
// column fails here.
func TestCartColumnsAreTheModel(t *testing.T) {
	db := bun.NewDB(&sql.DB{}, sqlitedialect.New())
	var want []string
	for _, f := range db.Table(reflect.TypeOf(Cart{})).Fields {
		want = append(want, f.Name)
	}
	got := strings.Split(cartColumns, ", ")
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("columns (-model +statements):\n%s", diff)
	}
}
