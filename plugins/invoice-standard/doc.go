// Command invoice-standard is Kassa's standard invoicing plugin
// (invoice.standard): PDF invoices and credit notes with gapless numbers
// per store.
//
// # When documents are issued
//
// Evaluate decides per order event, by the issue_on setting:
//
//	event               on_paid   on_fulfilled   on_request
//	order.paid          invoice   -              -
//	order.fulfilled     -         invoice        -
//	invoice.requested   invoice   invoice        invoice
//	refund.succeeded    credit note, when the order has an invoice (all modes; credit_note_on_refund)
//
// order.shipped is accepted as a synonym of order.fulfilled. An order gets
// one invoice: when Event.InvoiceNumbers already holds one, nothing more is
// issued. Every decision has a reason for the order's timeline.
//
// # Numbers
//
// Plugins have no database, so numbers come from Kassa's sequence service,
// offered over the go-plugin broker during IssueInvoice (invoice.Sequence).
// A number is the prefix (number_prefix, default "INV-"; credit notes
// credit_note_prefix, default "CN-"), the year when yearly_numbering is on,
// and the running number padded to number_digits (default 6):
// INV-000042, INV-2026-000042. Credit notes have their own sequence, or
// share the invoices' one with credit_note_numbering "shared" (then the
// numbers across both kinds are gapless: INV-000001, CN-000002).
//
// A number is consumed only when a document is actually issued: the request
// is checked (seller and buyer named, tax ids plausible, one currency,
// lines present, a credit note names the invoice it corrects) and the PDF
// rendered once with a placeholder before the sequence is asked. Refusals
// are Document.Problems with stable codes (invalid_tax_id,
// currency_mismatch, ...). The sequence call carries the request's
// idempotency key: a retry gets the same number, so a crash or a timeout
// between numbering and answering leaves no gap. The plugin's journal in
// KASSA_PLUGIN_DATA_DIR (numbers, keys, order ids and dates only) pins the
// date of a document Kassa sent without one, so a retry renders the same
// PDF.
//
// # Documents
//
// An A4 PDF drawn with github.com/go-pdf/fpdf: the seller (from the store,
// overridden field by field by the seller setting), the buyer with company
// name and tax id, the order's lines (quantity, unit price, tax rate,
// amount, SKU and discount), the tax breakdown per rate, subtotal,
// discount, shipping, total, paid and amount due, amounts with the
// currency's own decimals (JPY none, KWD three), and footer_note. Credit
// notes show the credited amounts as negative numbers and reference the
// corrected invoice; a credit note without lines credits Totals.Total as
// one line. Long orders continue on further pages.
//
// Text is drawn with the PDF core font Helvetica, which covers Western
// European text (Windows-1252) only. For other scripts configure
// unicode_font, a TrueType (.ttf) font such as Droid Sans Fallback or a
// Noto Sans SC .ttf: characters Helvetica cannot show are then drawn with
// it, and embedded as a subset. Only a regular file of at most 50 MB is
// read, and every path the plugin cannot use gets the same answer
// (font_unusable), so the setting tells staff nothing about which files
// exist on the server; the plugin logs the reason for the owner. Without it they print as '?', a warning is
// logged, and the parties' names as written are kept in the PDF's
// metadata (Subject), where viewers and search indexes find them.
//
// # Voiding
//
// VoidInvoice voids an invoice of an order that was never paid; a paid
// invoice must be corrected with a credit note (problem
// credit_note_required), and credit notes cannot be voided. A voided
// number stays used: Kassa keeps the document marked void.
package main
