// Command testpay is Kassa's sandbox payment gateway plugin
// (payment.testpay), for development, demos and tests. No money moves and no
// card number ever reaches Kassa: the "card" is a test token in the payment
// method hint (CreateRequest.PaymentMethod), modelled on Stripe's test cards.
//
// # Scenarios
//
// The hint may be the card number (spaces and a "card:" or "tok_" prefix are
// ignored) or the scenario's name. Without a hint the buyer is sent to the
// payment page, unless the setting amount_triggers is on: then the amount's
// last two digits (minor units) choose, and other amounts succeed.
//
//	card              name                amount   outcome
//	4242424242424242  succeed             -        SUCCEEDED at once (AUTHORIZED with manual capture); notifies payment.succeeded
//	4000000000000002  decline             .02      FAILED, decline code card_declined; notifies payment.failed
//	4000000000009995  insufficient_funds  .05      FAILED, decline code insufficient_funds
//	4000000000000069  expired_card        .06      FAILED, decline code expired_card
//	4000000000003220  redirect            .50      REQUIRES_ACTION, REDIRECT to the payment page; the buyer clicks Pay or Fail
//	4000000000000085  qr                  .60      REQUIRES_ACTION, QR_CODE holding the payment page's URL
//	4000000000000010  async               .10      PENDING; SUCCEEDED after async_delay_ms, then notifies
//	4000000000000028  async_decline       .15      PENDING; FAILED (insufficient_funds) after async_delay_ms, then notifies
//	4000000000000036  never_notify        .20      PENDING; SUCCEEDED after async_delay_ms, never notifies (reconciliation must find it)
//	4000000000000044  notify_twice        .30      SUCCEEDED at once; the notification is delivered twice (same event id)
//	4000000000000051  timeout             .40      SUCCEEDED at the gateway, but CreatePayment blocks past Kassa's deadline
//
// The payment page is served by Kassa on the plugin's behalf under
// /plugins/payment.testpay/pay/{ref} (HandleHTTP). Paying or failing there
// notifies Kassa and redirects the buyer to the shop's return URL.
//
// # Notifications
//
// Testpay POSTs JSON events to the payment's notify_url, signed in the header
// Testpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
// with the webhook_secret setting, retrying twice on failure. Its
// HandleWebhook verifies them, refuses stale (older than
// webhook_tolerance_seconds) and replayed deliveries and answers 200
// {"received":true}.
//
// # Everything else
//
// A page left open past CreateRequest.ExpiresAt (the order's payment
// deadline) takes no money: it closes the payment as CANCELED with
// decline code "expired", as a real gateway's trade expires.
//
// Manual capture (CaptureMethod manual), CancelPayment (ALREADY_PAID when
// paid), partial and full refunds (over-refunds refused with
// amount_exceeds_captured, refund.succeeded notified) and ListTransactions
// work as with a real gateway. Idempotency keys are honoured on every
// mutating call. State is kept in memory and in
// $KASSA_PLUGIN_DATA_DIR/testpay-records.jsonl (the journal of
// plugins/sdk/state: one JSON line per change, compacted as it grows), so
// a restart loses nothing; pending
// asynchronous payments resume after the restart.
package main
