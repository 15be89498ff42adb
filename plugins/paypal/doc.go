// Command paypal is Kassa's PayPal payment gateway plugin
// (payment.paypal), speaking PayPal's REST API (Orders v2, Payments v2,
// webhooks) through github.com/plutov/paypal/v4 and, where that library
// falls short (see api.go), its authorized request helper.
//
// # Payments
//
// CreatePayment creates an order (intent CAPTURE, or AUTHORIZE when the
// intent setting says so or Kassa asks for manual capture) with the
// attempt id as custom_id and invoice_id, and answers REQUIRES_ACTION with
// the order's approve link as a REDIRECT; the buyer returns to Kassa's
// return URL (with ?paypal=cancel when they gave up). An approved order
// is captured (or authorized) by whichever comes first: GetPayment (the
// buyer's return, the reconciler) or the CHECKOUT.ORDER.APPROVED webhook,
// with a PayPal-Request-Id derived from the attempt, so there is one
// capture. CapturePayment captures an authorization, CancelPayment voids
// one, Refund refunds a capture (partially or in full), with Kassa's
// idempotency keys as PayPal-Request-Id.
//
// PayPal has no call to cancel an order the buyer has not approved (it
// expires after three hours), so CancelPayment closes the attempt in the
// plugin's journal ($KASSA_PLUGIN_DATA_DIR/paypal-orders.jsonl, a plugins/sdk/state journal, which also
// maps attempt ids to order ids, no personal data): the plugin never
// captures a closed attempt, and a late approval moves no money.
//
// # Webhooks
//
// Deliveries are verified with verify-webhook-signature (setting
// webhook_verification "api", the default) or offline ("offline"):
// SHA256withRSA over "<transmission id>|<transmission time>|<webhook
// id>|<crc32 of the body>" with the certificate at PAYPAL-CERT-URL, which
// is fetched only from PayPal's API hosts of the configured environment
// and must chain to a public root for messageverificationcerts(.sandbox).paypal.com.
// Transmissions older than 15 minutes are stale; a copy of an accepted
// transmission is a replay. The signature covers a CRC-32 of the body,
// which a forger can match, so the capture, authorization or refund an
// event names is read back from PayPal (GET /v2/payments/...) and its
// status, amount and custom_id are what the plugin reports. Events: CHECKOUT.ORDER.APPROVED (captured or
// authorized now, then payment.succeeded or payment.authorized),
// PAYMENT.CAPTURE.COMPLETED (payment.succeeded), PAYMENT.CAPTURE.DENIED
// (payment.failed), PAYMENT.CAPTURE.PENDING (acknowledged, no event),
// PAYMENT.CAPTURE.REFUNDED (refund.succeeded, or refund.failed when PayPal
// says the refund failed),
// PAYMENT.AUTHORIZATION.CREATED (payment.authorized) and
// PAYMENT.AUTHORIZATION.VOIDED (payment.canceled), each with PayPal's
// event id, the same on every retry.
//
// The package internal/sandbox is a local imitation of PayPal for tests.
// The owner's guide is docs/gateways/paypal.md.
package main
