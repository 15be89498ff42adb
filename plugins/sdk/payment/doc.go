// Package payment is what payment gateway plugins implement: the [Gateway]
// interface, its request and result types, [UnimplementedGateway] for the
// optional methods and [Serve] for main.
//
// A minimal gateway (see sdk/examples/gateway for a complete one):
//
//	type Gateway struct {
//		payment.UnimplementedGateway
//	}
//
//	func (g *Gateway) Describe(context.Context) (sdk.Info, error) {
//		return sdk.Info{
//			ID: "payment.mybank", Kind: sdk.KindPayment, Version: "0.1.0",
//			DisplayName:  "My Bank",
//			Capabilities: []string{payment.CapActionRedirect},
//			ConfigSchema: `{"type":"object","additionalProperties":false}`,
//		}, nil
//	}
//
//	// Configure, Health, CreatePayment and GetPayment ...
//
//	func main() { payment.Serve(&Gateway{}) }
//
// Outcomes are data: a decline is a [CreateResult] with [StatusFailed] and a
// DeclineCode; an error returned from a method means "outcome unknown" and
// makes Kassa reconcile. Every mutating request carries an IdempotencyKey;
// honour it. Declare optional features in sdk.Info.Capabilities (Cap*
// constants): Kassa only calls what is declared and the conformance kit
// (sdk/plugintest) checks everything that is.
package payment
