// Package gateway is a minimal, complete example of a Kassa payment
// gateway: the plugin's logic, served by the one-line command in the parent
// directory. Copy that directory to start your own: replace the in-memory
// "bank" below with calls to your gateway's API, keep the shape.
//
// What it shows, file by file:
//   - gateway.go: Describe with capabilities, display names in other
//     languages and a config JSON Schema (secret marked "writeOnly");
//     Configure with sdk.Schema.Decode (refusals as data) and an HTTP client
//     behind the SDK's network guard (netguard); CreatePayment by payment
//     method hint: "page" (or none) redirects the buyer to a hosted payment
//     page, "qr" shows that page as a QR code, the test tokens "tok_ok",
//     "tok_decline" and "tok_pending" succeed at once, are declined (as data,
//     with a buyer message in English or Chinese) or wait; idempotency keys
//     honoured on every mutating call; GetPayment by attempt id alone;
//     CancelPayment (ALREADY_PAID when paid), partial and full refunds with
//     over-refunds refused as data.
//   - page.go: the hosted page, served by Kassa through HandleHTTP under
//     /plugins/payment.example/pay/{attempt}: an unguessable token in the
//     link, Pay and Cancel as POSTs carrying it (no JavaScript, no cross-site
//     requests), then a redirect back to the shop's ReturnURL.
//   - webhook.go: settlement announced by a signed notification to
//     Kassa's notify URL (the example's bank lives in the plugin, so the
//     plugin plays the gateway's servers), and HandleWebhook verifying
//     HMAC-SHA256 signatures with a timestamp and a replay cache
//     (sdk/webhook).
//
// The plugin's main is one call:
//
//	func main() { payment.Serve(gateway.New()) }
//
// Its test (../main_test.go) runs the conformance kit against the built
// binary, with Complete hooks that play the buyer on the page; page_test.go
// tests the page's refusals and the network guard in process. The SDK's
// own tests embed Gateway in a deliberately broken gateway
// (internal/testplugin/broken) to prove that the kit catches each
// violation.
package gateway
