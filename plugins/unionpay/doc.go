// Command unionpay is Kassa's UnionPay online gateway plugin
// (payment.unionpay, 银联在线支付), speaking UnionPay's 全渠道 interface
// version 5.1.0 with signMethod 01 (RSA-SHA256), with the standard library
// only.
//
// # Payment methods
//
// CreateRequest.PaymentMethod chooses the channel:
//
//	unionpay      网关支付 on a computer, channelType 07 (the default)
//	unionpay_wap  手机网页支付 on a phone, channelType 08
//
// Both are front consumptions (frontTransReq.do, txnType 01): a form the
// buyer's browser must post to UnionPay. CreatePayment answers a REDIRECT
// to the plugin's own page /plugins/payment.unionpay/pay/{attempt}?k=...,
// which signs the form when the buyer opens it (payTimeout at most 15
// minutes ahead, never past the order's deadline) and posts it with a
// script; without scripts the buyer presses the button. frontUrl is the
// plugin's /return/{attempt}, which sends the buyer back to Kassa's return
// URL: the front notification is never proof of payment.
//
// orderId (8-40 letters and digits) is derived from the attempt id (see
// orderIDFor), the attempt id travels in reqReserved, and amounts are fen
// in CNY only (currencyCode 156).
//
// # Signatures
//
// Requests carry certId, the decimal serial of the merchant's signing
// certificate (a .pfx, read by the small PKCS#12 reader in pkcs12.go, or
// PEM), and signature: SHA256withRSA over the lowercase hex SHA-256 of
// the "k=v&..." string of all other fields sorted by name, base64.
// UnionPay's answers and notifications carry the certificate they are
// signed with (signPubKeyCert); it must be valid, chain to the configured
// middle and root certificates and name 中国银联股份有限公司 in the third
// "@" part of its CN (00040000:SIGN is accepted too with the test
// environment on).
//
// # Refunds and cancels
//
// Refund is backTransReq.do: a void (消费撤销, txnType 31) for the whole
// amount on the day of payment, a refund (退货, txnType 04, partial
// allowed) otherwise; each refund has its own orderId and notification.
// UnionPay cannot close an unpaid front consumption, so CancelPayment
// stops the plugin's pay page and asks queryTrans.do whether the buyer
// paid first (ALREADY_PAID); a buyer already on UnionPay's cashier can
// still pay until payTimeout, and that late payment is notified and
// reported like any other.
//
// # Notifications
//
// HandleWebhook answers HTTP 200 "ok" (sent by Kassa only after commit)
// and 400 to anything refused, which UnionPay sends again. Notifications
// carry no id: the event id is derived from merId, orderId, txnTime,
// txnType and respCode. UnionPay repeats a message byte for byte, so
// replays (keyed on the signed content, not on the body's encoding) are
// refused only within replayWindow.
//
// # State
//
// $KASSA_PLUGIN_DATA_DIR/unionpay-attempts.jsonl (a plugins/sdk/state journal) remembers each attempt's
// orderId and txnTime (the query needs both), its refunds and cancels.
//
// The package internal/sandbox is a local imitation of the gateway for
// tests. The owner's guide is docs/gateways/unionpay.md.
package main
