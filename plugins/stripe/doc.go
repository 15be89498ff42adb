// Command stripe is Kassa's Stripe payment gateway plugin
// (payment.stripe): cards and wallets through PaymentIntents and Checkout
// Sessions, with the official github.com/stripe/stripe-go (v82).
//
// # Payment methods
//
// CreateRequest.PaymentMethod chooses the flow ("" uses the
// default_method setting):
//
//	stripe_element   a PaymentIntent; CLIENT_SECRET with Action.Details publishable_key and payment_intent, for Stripe.js and the Payment Element
//	stripe_checkout  a hosted Checkout Session; REDIRECT to its url (the session id cs_... is the gateway reference)
//	pm_...           a Stripe PaymentMethod collected by the storefront, confirmed on the server: SUCCEEDED, AUTHORIZED, FAILED, or a 3-D Secure REDIRECT
//
// Capture is automatic, or manual when the capture_method setting or the
// request asks for it (AUTHORIZED, then CapturePayment, partial allowed).
// Amounts are converted to Stripe's units: zero-decimal currencies (JPY,
// KRW ...) unchanged, ISK times 100, three-decimal currencies in steps of
// 10 (currency.go).
//
// # Idempotency
//
// Kassa's idempotency key becomes Stripe's Idempotency-Key, prefixed by the
// operation ("kassa-create-pay_…", "kassa-refund-ref_…"), since Stripe's
// keys are per account. The metadata of every PaymentIntent and refund
// carries kassa_attempt_id (and kassa_refund_id), and
// $KASSA_PLUGIN_DATA_DIR/stripe-attempts.jsonl (a plugins/sdk/state journal) maps attempts to Stripe ids,
// so a retry after Stripe's 24-hour key window creates nothing new.
//
// # Webhooks
//
// HandleWebhook parses Stripe-Signature (t=…,v1=…) once with the SDK's
// webhook.ParseHeader, which refuses a header with more than one t; checks
// any v1 against stripe-go's HMAC-SHA256 of "t.payload" under the signing
// secret or the previous one during a roll; judges that same t against
// Kassa's receive time (300 s); then refuses a replay, keyed on t and the
// payload rather than on the header's spelling; and maps
// payment_intent.succeeded / amount_capturable_updated / payment_failed /
// canceled, checkout.session.expired, refund.created / updated / failed
// and charge.refunded to Kassa events under Stripe's event id
// (charge.refunded: "<event id>:<refund id>" per refund). Other event
// types are acknowledged with no events.
//
// The package internal/sandbox is a stateful local imitation of Stripe for
// tests; TestAgainstStripeMock checks request shapes against stripe-mock.
// The owner's guide is docs/gateways/stripe.md.
package main
