// Command alipay is Kassa's Alipay (支付宝) payment gateway plugin
// (payment.alipay), speaking the Alipay Open Platform's OpenAPI
// (gateway.do) with RSA2 signatures, in public-key mode, with the standard
// library only.
//
// # Payment methods
//
// CreateRequest.PaymentMethod chooses the product:
//
//	alipay_page  computer website payment, alipay.trade.page.pay: REDIRECT to the signed gateway URL (the default)
//	alipay_wap   mobile website payment, alipay.trade.wap.pay: REDIRECT
//	alipay_qr    QR code payment (当面付), alipay.trade.precreate: QR_CODE with Alipay's qr_code
//
// out_trade_no is Kassa's attempt id and out_request_no a refund's id, so
// Alipay itself refuses to charge or refund twice for one id. Amounts are
// CNY only, sent as yuan with two decimals.
//
// # Signatures
//
// Requests are signed over the sorted "k=v&..." string of the parameters
// with a non-empty value, without sign (RSA2: SHA256WithRSA, PKCS#1 v1.5,
// base64). Answers are verified over the raw bytes of the
// "<method>_response" node as Alipay sent them; notifications over their
// sorted parameters without sign and sign_type, and must carry this
// shop's app_id.
//
// # Notifications
//
// HandleWebhook answers the literal "success" (Kassa sends it only after
// committing the events) and "failure" to anything it refuses; Alipay then
// retries at 4m, 10m, 10m, 1h, 2h, 6h and 15h. The event id is Alipay's
// notify_id, the same on every retry. TRADE_SUCCESS and TRADE_FINISHED are
// payment.succeeded, TRADE_CLOSED payment.canceled, and notifications with
// gmt_refund / refund_fee refund.succeeded with the refund's own amount
// (asked of alipay.trade.fastpay.refund.query: refund_fee is the trade's
// refunded total).
//
// # State
//
// Alipay creates a page or wap trade only when the buyer opens the
// cashier. $KASSA_PLUGIN_DATA_DIR/alipay-attempts.jsonl (a plugins/sdk/state journal) remembers the
// attempts the plugin started (no personal data), so GetPayment answers
// REQUIRES_ACTION rather than NOT_FOUND before that, and CANCELED after a
// close of a trade the buyer never opened.
//
// # Reconciliation
//
// ListTransactions reads the daily trade bills (对账单,
// alipay.data.dataservice.bill.downloadurl.query: a zip of GBK CSV files)
// day by day in Beijing time: 交易 rows are charges, 退款 rows refunds
// (negative), 服务费 the fee. A day's bill exists from the next day on.
//
// The package internal/sandbox is a local imitation of gateway.do for
// tests. The owner's guide is docs/gateways/alipay.md.
package main
