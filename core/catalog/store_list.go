package catalog

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
)

// scanListRows reads the rows of a page query of ListProducts, whose
// columns are listColumns (then the position when withPosition), by hand:
// bun's reflection and its encoding/json of the options cost more than the
// statement on a storefront's page. It closes rs.
func scanListRows(rs *sql.Rows, limit int, withPosition bool) ([]listRow, error) {
	defer rs.Close()
	rows := make([]listRow, 0, limit)
	for rs.Next() {
		var (
			r             listRow
			tags, options string
			position      int64
		)
		dest := []any{&r.ID, &r.Handle, &r.Title, &r.Description, &r.Status, &r.Vendor, &r.ProductType,
			&tags, &options, &r.CreatedAt, &r.UpdatedAt, &r.TitleSort}
		if withPosition {
			dest = append(dest, &position)
		}
		var err error
		if err = rs.Scan(dest...); err != nil {
			return nil, err
		}
		r.Position = int(position)
		if r.Tags, err = parseStringArray(tags); err != nil {
			return nil, fmt.Errorf("read product %s tags: %w", r.ID, err)
		}
		if r.Options, err = parseOptions(options); err != nil {
			return nil, fmt.Errorf("read product %s options: %w", r.ID, err)
		}
		rows = append(rows, r)
	}
	return rows, rs.Err()
}

// parseOptions reads a product's options as bun writes them (encoding/json
// of []Option). The rule, names and values without escapes in the form
// encoding/json writes, is sliced by hand; anything else goes to
// encoding/json, so the result is the same either way.
func parseOptions(s string) ([]Option, error) {
	switch s {
	case "null", "":
		return nil, nil
	case "[]":
		return []Option{}, nil
	}
	if strings.IndexByte(s, '\\') < 0 {
		if out, ok := sliceOptions(s); ok {
			return out, nil
		}
	}
	var out []Option
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// sliceOptions parses [{"name":"…","values":["…",…]},…] without escapes;
// false when s is in any other form.
func sliceOptions(s string) ([]Option, bool) {
	const head, mid = `{"name":"`, `","values":`
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	rest := s[1 : len(s)-1]
	out := make([]Option, 0, strings.Count(rest, head))
	for {
		if !strings.HasPrefix(rest, head) {
			return nil, false
		}
		rest = rest[len(head):]
		end := strings.IndexByte(rest, '"')
		if end < 0 || !strings.HasPrefix(rest[end:], mid) {
			return nil, false
		}
		o := Option{Name: rest[:end]}
		rest = rest[end+len(mid):]
		var values string
		if strings.HasPrefix(rest, "null}") {
			values, rest = "null", rest[len("null}"):]
		} else {
			close := strings.Index(rest, "]}")
			if close < 0 || rest[0] != '[' {
				return nil, false
			}
			values, rest = rest[:close+1], rest[close+2:]
		}
		var err error
		if o.Values, err = parseStringArray(values); err != nil || (values != "null" && values != "[]" && o.Values == nil) {
			return nil, false
		}
		out = append(out, o)
		if rest == "" {
			return out, true
		}
		if rest[0] != ',' {
			return nil, false
		}
		rest = rest[1:]
	}
}
