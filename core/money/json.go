package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MarshalJSON encodes m as {"amount":"12.34","currencyCode":"USD"}, the same
// shape as the GraphQL Money type. The amount is a string because JSON
// numbers are floats to most clients. The zero Money has no currency and is
// an error; use *Money for an optional field.
func (m Money) MarshalJSON() ([]byte, error) {
	if m.currency.IsZero() {
		return nil, noCurrency("marshal money")
	}
	b := make([]byte, 0, 48)
	b = append(b, `{"amount":"`...)
	b = append(b, m.Decimal()...) // digits, '-' and '.': nothing to escape
	b = append(b, `","currencyCode":"`...)
	b = append(b, m.currency.code...) // three ASCII letters
	b = append(b, `"}`...)
	return b, nil
}

// UnmarshalJSON decodes the shape MarshalJSON writes, strictly: both fields
// are required, exactly once, spelled exactly so, and both must be strings;
// any other field is an error. The amount follows Parse's rules for the
// currency, so {"amount":"12.345","currencyCode":"USD"} is an error rather
// than 12.34 or 12.35. Errors wrap ErrInvalidAmount or ErrUnknownCurrency.
//
// JSON null leaves m unchanged, as encoding/json expects of an Unmarshaler.
func (m *Money) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	fields, err := decodeStringObject(data)
	if err != nil {
		return fmt.Errorf("money: decode JSON money: %w: %w", ErrInvalidAmount, err)
	}
	for _, name := range [...]string{"amount", "currencyCode"} {
		if _, ok := fields[name]; !ok {
			return fmt.Errorf("money: decode JSON money: %w: missing field %q", ErrInvalidAmount, name)
		}
	}
	cur, err := ParseCurrency(fields["currencyCode"])
	if err != nil {
		return fmt.Errorf("money: decode JSON money: %w", err)
	}
	parsed, err := Parse(fields["amount"], cur)
	if err != nil {
		return fmt.Errorf("money: decode JSON money: %w", err)
	}
	*m = parsed
	return nil
}

// decodeStringObject reads a JSON object whose members are all "amount" or
// "currencyCode" with string values. It walks tokens instead of using a
// struct because encoding/json matches names case-insensitively, keeps the
// last of duplicate names and would accept a number for a string field.
func decodeStringObject(data []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // never let a stray number become a float64
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	fields := make(map[string]string, 2)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name := tok.(string) // object keys are always strings
		if name != "amount" && name != "currencyCode" {
			return nil, fmt.Errorf("unknown field %q", name)
		}
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("duplicate field %q", name)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, err
		}
		value, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("field %q must be a string", name)
		}
		fields[name] = value
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return fields, nil
}
