// Package page carries keyset pagination between the GraphQL layer and the
// stores: a request for the first N items after an opaque cursor, and a
// page of items that knows whether more follow.
//
// A cursor encodes the sort key and id of the last item seen, so paging is
// stable under inserts and costs the same on page 1 and page 1000.
package page

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/kassahq/kassa/core/kit/errs"
)

// MaxFirst is the largest page a client may ask for.
const MaxFirst = 100

// DefaultFirst is the page size when the client names none.
const DefaultFirst = 20

// Request asks for First items after the item encoded in After.
type Request struct {
	First int
	After *Cursor
}

// Cursor is the position after which a page starts: the sort value of the
// last item seen and its id as tie-breaker.
type Cursor struct {
	// Key is the sort value (a title, a price, a timestamp) as text.
	Key string `json:"k,omitempty"`
	// ID breaks ties between equal keys.
	ID string `json:"i"`
}

// Encode returns the opaque cursor string handed to clients.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by Encode.
func DecodeCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errs.Invalid("after", "INVALID_CURSOR", "cursor is not valid")
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, errs.Invalid("after", "INVALID_CURSOR", "cursor is not valid")
	}
	return &c, nil
}

// NewRequest validates client input: first defaults to DefaultFirst and may
// not exceed MaxFirst; after, when given, must be a cursor from this API.
func NewRequest(first *int32, after *string) (Request, error) {
	r := Request{First: DefaultFirst}
	if first != nil {
		if *first < 0 || *first > MaxFirst {
			return r, errs.Invalid("first", "INVALID_PAGE_SIZE", fmt.Sprintf("first must be between 0 and %d", MaxFirst))
		}
		r.First = int(*first)
	}
	if after != nil && *after != "" {
		c, err := DecodeCursor(*after)
		if err != nil {
			return r, err
		}
		r.After = c
	}
	return r, nil
}

// Page is one page of items.
type Page[T any] struct {
	Items []T
	// HasNext tells whether items follow the last one.
	HasNext bool
	// HasPrevious tells whether the page started after a cursor.
	HasPrevious bool
	// Cursors holds the cursor of each item, in order.
	Cursors []Cursor
}
