// Command notify-email is Kassa's email plugin (notify.email): it renders
// order and account emails from embedded templates and sends them through
// the shop's SMTP server.
//
// # Settings
//
// host, port (default 587 with STARTTLS, 465 with TLS, 25 without), tls
// (starttls: upgrade with STARTTLS and refuse a server that does not offer
// it, never falling back to plain text; tls: TLS from the first byte;
// none: plain text, only to a server on this machine), username and
// password (AUTH PLAIN; the password is writeOnly and never logged),
// from_address, from_name, reply_to, helo_name, insecure_skip_verify
// (accept self-signed certificates, for development only) and
// timeout_seconds.
//
// # Templates
//
// templates/<locale>/<template id>.tmpl define "subject" and "text"
// (text/template) and "html" (html/template, so every value is escaped),
// in English (en) and Simplified Chinese (zh-CN; also for zh, zh-Hans,
// zh-SG). Other locales get English. The ids are the SDK's:
// order.placed, order.paid, order.shipped, order.refunded,
// account.verify_email, account.password_reset, staff.invitation
// (customer.email_verification, customer.verification_requested,
// customer.password_reset, customer.password_reset_requested and
// staff.invited are accepted as aliases), and Kassa's order and payment
// events': order.cancelled, order.delivered, order.completed,
// order.payment_reminder, payment.failed (a declined payment the buyer
// may retry), payment.instructions (how to pay offline, e.g. by bank
// transfer) and staff.order_paid (to staff: an order to prepare).
//
// Message.Data is a JSON object (type Data): store {name, url,
// support_email}; order {number, url, placed_at, lines [{name, sku,
// quantity, total}], subtotal, discount, shipping, tax, total,
// shipping_address {name, lines, postal_code, city, region, country},
// payment_method}; shipment {carrier, tracking_number, tracking_url};
// refund {amount, reason}; invitation {inviter_name, role}; payment
// {state, amount, decline_code, message, action, instructions,
// reference, expires_at}; customer {name, email}; expires_at.
// Amounts are {amount (minor units), currency}. Message.SecretData
// (type SecretData) carries {link, code}: the account emails' link with
// its token, which is never logged nor kept. Order emails need
// order.number and order.total, order.refunded also refund.amount,
// payment.failed and payment.instructions also payment.amount (the
// instructions payment.instructions, order.payment_deadline
// payment.failed and order.payment_reminder), the
// account emails secret_data.link (an absolute http(s) URL); a message
// without them fails with invalid_data.
//
// # Messages
//
// multipart/alternative with a text/plain and a text/html part, UTF-8,
// quoted-printable (7-bit clean), RFC 2047 encoded headers for non-ASCII
// names and subjects, Date, Content-Language, Auto-Submitted and a
// Message-ID derived from Kassa's message id.
//
// # Delivery and idempotency
//
// Send returns SENT with the Message-ID as delivery id once the server
// accepted the message, or FAILED with a code: invalid_recipient,
// template_missing, invalid_data, recipient_rejected (5xx to RCPT) and
// message_rejected are final; smtp_unavailable, starttls_unsupported,
// tls_failed, auth_failed, sender_rejected, temporary_failure (4xx) and
// outcome_unknown are Retryable. Sent message ids are kept in memory and in
// KASSA_PLUGIN_DATA_DIR/notify-email-sent.jsonl for 30 days, so a retry
// with the same id, also after a restart, returns the first delivery
// without sending again. A crash between the server's acceptance and that
// journal line can still lead to a second copy; it carries the same
// Message-ID, which mail clients use to show one message.
//
// Health logs in to the server (EHLO, STARTTLS, AUTH) at most every two
// minutes: NOT_SERVING when the login or TLS is refused, DEGRADED when the
// server is unreachable. Log lines carry message ids, template ids and
// error codes, never addresses, links or settings.
package main
