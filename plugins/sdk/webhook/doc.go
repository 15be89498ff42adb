// Package webhook has the signature helpers gateway plugins need to verify
// notifications and sign test deliveries, using only the standard library:
//
//   - HMAC-SHA256 with a signed timestamp in a Stripe-style header
//     ("t=1700000000,v1=<hex>"): [Sign], [Verifier] with a tolerance window
//     for stale timestamps and a bounded in-memory [ReplayCache]; for
//     another HMAC scheme, its parts: [EqualMAC], [CheckFresh], [DeliveryKey];
//   - RSA-SHA256 (PKCS #1 v1.5) as used by Alipay (RSA2) and WeChat Pay v3:
//     [SignRSASHA256], [VerifyRSASHA256], PEM key parsing, and the canonical
//     messages those gateways sign ([AlipaySignContent], [WeChatPayMessage]);
//   - AES-256-GCM, which WeChat Pay v3 uses to encrypt notification
//     resources: [OpenAESGCM], [DecryptWeChatResource].
//
// Verifying a Stripe-style notification in HandleWebhook:
//
//	v := &webhook.Verifier{Secrets: [][]byte{secret}, Tolerance: 5 * time.Minute, Replay: cache}
//	switch err := v.Verify(req.Header.Get("Testpay-Signature"), req.Body, req.ReceivedAt); {
//	case errors.Is(err, webhook.ErrStale):     // reject as STALE
//	case errors.Is(err, webhook.ErrReplay):    // reject as REPLAY
//	case err != nil:                           // reject as BAD_SIGNATURE
//	}
//
// A note on replays: a delivery is a replay when one with the same signed
// timestamp and body was already accepted within the tolerance window,
// however its header is spelled. A header with two t values is refused as
// malformed, so the t whose MAC verified is the one judged for freshness.
// Gateways that sign each retry anew (Stripe) are unaffected; for gateways
// whose retries are byte for byte identical, a refused retry is harmless
// because Kassa applies each gateway event id once and reconciles lost
// notifications with GetPayment.
package webhook
