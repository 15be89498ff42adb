// Package gateway is a minimal, complete example of a Kassa payment
// gateway: the plugin's logic, served by the one-line command in the parent
// directory. Copy that directory to start your own: replace the in-memory
// "bank" below with calls to your gateway's API, keep the shape.
//
// What it shows:
//   - Describe with capabilities and a config JSON Schema (secret marked
//     "writeOnly"), Configure with sdk.Schema.Decode (refusals as data);
//   - CreatePayment answering by test token: "tok_ok" succeeds, "tok_decline"
//     is declined (as data), "tok_pending" waits for the buyer;
//   - idempotency keys honoured on every mutating call;
//   - CancelPayment (ALREADY_PAID when paid), partial and full refunds with
//     over-refunds refused as data;
//   - HandleWebhook verifying HMAC-SHA256 signatures with a timestamp and a
//     replay cache (sdk/webhook).
//
// The plugin's main is one call:
//
//	func main() { payment.Serve(gateway.New()) }
//
// Its test (../main_test.go) runs the conformance kit against the built
// binary. The SDK's own tests embed Gateway in a deliberately broken
// gateway (internal/testplugin/broken) to prove that the kit catches each
// violation.
package gateway
