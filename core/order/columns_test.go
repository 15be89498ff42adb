package order

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

// TestInsertColumnsAreTheModels keeps the hand-written column lists of the
// prepared inserts in step with the models bun reads the rows into: a
// field added to Order, Line or TimelineEntry without its column in the
// insert fails here, not with a silently empty column.
func TestInsertColumnsAreTheModels(t *testing.T) {
	db := bun.NewDB(&sql.DB{}, sqlitedialect.New())
	for _, tt := range []struct {
		name    string
		model   any
		columns string
	}{
		{"orders", orderRow{}, orderColumns},
		{"order_lines", Line{}, lineColumns},
		{"order_timeline", TimelineEntry{}, timelineColumns},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, f := range db.Table(reflect.TypeOf(tt.model)).Fields {
				want = append(want, f.Name)
			}
			got := strings.Split(tt.columns, ", ")
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("columns (-model +insert):\n%s", diff)
			}
		})
	}
}
