package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// ModelColumns returns the columns of the bun model whose type model
// points to (a *T of a struct with bun tags), as bun names them, in the
// order of its fields, each prefixed with prefix ("o." or ""). They are
// the select list or insert columns of a fixed statement of QueryStmt or
// ExecStmt that reads or writes the whole model.
func (db *DB) ModelColumns(model any, prefix string) string {
	key := modelColumnsKey{reflect.TypeOf(model).Elem(), prefix}
	if cols, ok := modelColumns.Load(key); ok {
		return cols.(string)
	}
	t := db.DB.Dialect().Tables().Get(key.t)
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = prefix + f.Name
	}
	cols := strings.Join(names, ", ")
	modelColumns.Store(key, cols)
	return cols
}

// modelColumns keeps the lists of ModelColumns: they are built on the hot
// path (every payment statement names its model's columns), from a
// handful of model types and prefixes. Both dialects name columns alike.
var modelColumns sync.Map // modelColumnsKey -> string

type modelColumnsKey struct {
	t      reflect.Type
	prefix string
}

// ModelValues returns the values of model's columns (a *T, as for
// ModelColumns) in the order of ModelColumns, to bind to an INSERT of
// ExecStmt; nil for a nullzero field holding its zero value.
func (db *DB) ModelValues(model any) []any {
	v := reflect.ValueOf(model).Elem()
	t := db.DB.Dialect().Tables().Get(v.Type())
	out := make([]any, len(t.Fields))
	for i, f := range t.Fields {
		// A nullzero field's zero value is NULL, as bun writes it.
		if f.NullZero && f.HasZeroValue(v) {
			continue
		}
		out[i] = f.Value(v).Interface()
	}
	return out
}

// ScanStmt runs a read (or a write with RETURNING) as QueryStmt does and
// scans what it returns into dest as bun scans a model: into a *T of a
// bun model the first row, into a *[]T or *[]*T every row. It returns how
// many rows there were; no row is 0, not an error.
func (db *DB) ScanStmt(ctx context.Context, dest any, query string, args ...any) (int, error) {
	rows, err := db.QueryStmt(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if v := reflect.ValueOf(dest); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Slice {
		if err := db.DB.ScanRows(ctx, rows, dest); err != nil {
			return 0, err
		}
		return v.Elem().Len(), nil
	}
	if !rows.Next() {
		return 0, rows.Err()
	}
	if err := db.DB.ScanRow(ctx, rows, dest); err != nil {
		return 0, fmt.Errorf("scan %T: %w", dest, err)
	}
	// Read to the end: SQLite may report a write's error after its first
	// row.
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return 1, rows.Close()
}
