package sdk

import (
	"context"
	"encoding/json"
)

// Plugin is what every plugin implements, whatever its kind. Each kind's
// interface (payment.Gateway, invoice.Rule, notify.Channel) embeds it.
//
// The lifecycle the host drives is: start the process -> Describe ->
// Configure -> Health -> calls (and Health now and then) -> stop. Configure
// may be called again with new settings at any time.
type Plugin interface {
	// Describe returns the plugin's identity card. It must not depend on
	// settings: the host calls it before Configure, also at install time.
	Describe(ctx context.Context) (Info, error)
	// Configure applies new settings, a JSON object the host already
	// validated against Info.ConfigSchema. Refusals are data
	// (ConfigureResult.Errors); an error means the call itself failed. On
	// refusal the previous settings stay in effect.
	Configure(ctx context.Context, config json.RawMessage) (ConfigureResult, error)
	// Health reports whether the plugin can work right now.
	Health(ctx context.Context) (Health, error)
	// HandleHTTP serves a request the host received under
	// /plugins/{plugin id}/ on the plugin's behalf. Optional: return
	// ErrUnimplemented (the kinds' Unimplemented* types do).
	HandleHTTP(ctx context.Context, req HTTPRequest) (HTTPResponse, error)
}

// Money is an amount in minor units of an ISO 4217 currency. Kassa never uses
// floats for money.
type Money struct {
	// Amount in minor units (cents for EUR, yen for JPY).
	Amount int64 `json:"amount"`
	// Currency is the ISO 4217 code in upper case, e.g. "EUR".
	Currency string `json:"currency"`
}

// IsZero reports whether m is the zero value (no amount, no currency).
func (m Money) IsZero() bool { return m.Amount == 0 && m.Currency == "" }
