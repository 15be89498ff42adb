package resolver

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
)

// moneyResolver resolves the Money type.
type moneyResolver struct{ m money.Money }

func newMoney(m money.Money) *moneyResolver { return &moneyResolver{m: m} }

func (r *moneyResolver) Amount() string       { return r.m.Decimal() }
func (r *moneyResolver) CurrencyCode() string { return r.m.Currency().Code() }

// MoneyInput is the GraphQL MoneyInput.
type MoneyInput struct {
	Amount       string
	CurrencyCode string
}

// parseMoney converts a MoneyInput, reporting problems against field.
func parseMoney(in MoneyInput, field string) (money.Money, error) {
	cur, err := money.ParseCurrency(in.CurrencyCode)
	if err != nil {
		return money.Money{}, errs.Invalid(field+".currencyCode", "INVALID_CURRENCY", err.Error())
	}
	m, err := money.Parse(in.Amount, cur)
	if err != nil {
		return money.Money{}, errs.Invalid(field+".amount", "INVALID_AMOUNT", err.Error())
	}
	return m, nil
}

// pageInfo resolves PageInfo.
type pageInfo struct {
	hasNext, hasPrev bool
	start, end       *string
}

func newPageInfo[T any](p page.Page[T]) *pageInfo {
	pi := &pageInfo{hasNext: p.HasNext, hasPrev: p.HasPrevious}
	if n := len(p.Cursors); n > 0 {
		s, e := p.Cursors[0].Encode(), p.Cursors[n-1].Encode()
		pi.start, pi.end = &s, &e
	}
	return pi
}

func (p *pageInfo) HasNextPage() bool     { return p.hasNext }
func (p *pageInfo) HasPreviousPage() bool { return p.hasPrev }
func (p *pageInfo) StartCursor() *string  { return p.start }
func (p *pageInfo) EndCursor() *string    { return p.end }

// userError resolves UserError.
type userError struct{ e *errs.Error }

func (u *userError) Field() *[]string {
	if len(u.e.Field) == 0 {
		return nil
	}
	return &u.e.Field
}
func (u *userError) Message() string { return u.e.Message }
func (u *userError) Code() string    { return u.e.Code }

// userErrors splits the error of a mutation: problems with the input
// (invalid, conflict, not found) become userErrors under the "input" path;
// anything else (forbidden, unavailable, bugs) is returned as a top-level
// error for the handler to map. A nil err gives (nil, nil).
func userErrors(err error) ([]*userError, error) {
	if err == nil {
		return nil, nil
	}
	all := errs.All(err)
	if len(all) == 0 {
		return nil, err
	}
	out := make([]*userError, 0, len(all))
	for _, e := range all {
		if !errors.Is(e, errs.ErrInvalid) && !errors.Is(e, errs.ErrConflict) && !errors.Is(e, errs.ErrNotFound) {
			return nil, err
		}
		if len(e.Field) == 0 || e.Field[0] != "input" {
			e = e.WithField("input")
		}
		out = append(out, &userError{e: e})
	}
	return out, nil
}

// JSON is the JSON scalar.
type JSON struct{ Value any }

// ImplementsGraphQLType maps JSON to the JSON scalar.
func (JSON) ImplementsGraphQLType(name string) bool { return name == "JSON" }

// UnmarshalGraphQL accepts any input value.
func (j *JSON) UnmarshalGraphQL(input any) error {
	j.Value = input
	return nil
}

// MarshalJSON writes the value as is.
func (j JSON) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(j.Value)
	if err != nil {
		return nil, fmt.Errorf("marshal JSON scalar: %w", err)
	}
	return b, nil
}
