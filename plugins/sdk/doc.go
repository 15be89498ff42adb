// Package sdk holds what every Kassa plugin shares, whatever its kind: the
// plugin's identity card ([Info]), its settings ([Schema], [ConfigError]),
// its health ([Health]), pages served through Kassa ([HTTPRequest],
// [HTTPResponse]), the go-plugin handshake ([Handshake]) and the errors that
// cross the process boundary ([ErrUnimplemented], [ErrUnavailable]).
//
// Plugin authors import one kind package next to this one and write a main
// that is one call:
//
//	package main
//
//	import "github.com/kassahq/kassa/plugins/sdk/payment"
//
//	func main() { payment.Serve(&Gateway{}) }
//
// The kind packages are [github.com/kassahq/kassa/plugins/sdk/payment],
// [github.com/kassahq/kassa/plugins/sdk/invoice] and
// [github.com/kassahq/kassa/plugins/sdk/notify]. The host side (what Kassa
// itself and the conformance kit use to start plugins) is
// [github.com/kassahq/kassa/plugins/sdk/host]; the conformance kit is
// [github.com/kassahq/kassa/plugins/sdk/plugintest].
//
// A plugin that must remember something across restarts uses
// [github.com/kassahq/kassa/plugins/sdk/state], a durable key → record
// store in $KASSA_PLUGIN_DATA_DIR ([EnvDataDir]) that returns once a
// change is on disk. Kassa may restart a plugin between two calls about
// one payment, so whatever an answer relied on must survive: a gateway
// that creates its trade only when the buyer opens the cashier must know,
// after a restart, that an attempt it started is "not opened yet" rather
// than "never created", and a retried CreatePayment must get the answer
// of the first:
//
//	type attempt struct {
//		Ref     string    `json:"ref"`
//		Created time.Time `json:"created"`
//	}
//	attempts, err := state.Open(state.Options[attempt]{
//		Dir: os.Getenv(sdk.EnvDataDir), File: "mybank-attempts.jsonl",
//		Expired: func(a attempt, now time.Time) bool { return now.Sub(a.Created) > 30*24*time.Hour },
//	})
//	...
//	if a, ok := attempts.Get(req.AttemptID); ok {
//		return payment.CreateResult{Status: payment.StatusPending, GatewayRef: a.Ref}, nil // a retry
//	}
//	err = attempts.Put(req.AttemptID, attempt{Ref: ref, Created: time.Now()})
//
// Gateways that reconcile from daily files (trade bills, settlement
// files) serve ListTransactions with
// [github.com/kassahq/kassa/plugins/sdk/payment.DayPager].
//
// The SDK never exposes generated protobuf types: they live in an internal
// package, so upgrading protobuf or adding fields never breaks a plugin.
package sdk
