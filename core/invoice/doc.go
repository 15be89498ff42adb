// Package invoice is the invoicing domain: the invoices and credit notes
// of orders, issued by the invoice rule plugins, numbered from gapless
// sequences Kassa keeps, and read by staff and buyers.
//
// Rules are a port, [Rule], in the shop's words: core/plugin adapts plugin
// processes to it, and this package never imports the plugin SDK. The
// service is an event consumer: an order paid (kassa.order.paid) may call
// for an invoice, a refund that succeeded (kassa.payment.refund_succeeded)
// for a credit note of the order's invoice; each enabled rule decides
// (Evaluate) and renders the document (IssueInvoice), and the service
// stores it, with kassa.invoice.issued, once per rule and event:
//
//	svc, _ := invoice.NewService(db, invoice.Options{Authz: az, Outbox: outbox, Rules: plugins, Orders: orders,
//		Seller: invoice.Party{Name: "Tea House"}})
//	h := journal.Wrap("invoices-0", svc.Handle, events.DefaultMaxDeliver)
//	bus.Subscribe(ctx, "invoices-0", invoice.SubjectOrderPaid, h)
//	...
//	docs, _ := svc.InvoicesOf(staffCtx, []invoice.OrderRef{{ID: "ord_01J..."}})
//	pdf, _ := svc.Download(guestCtx, invoice.DownloadInput{OrderID: "ord_01J...", DocumentID: docs["ord_01J..."][0].ID, AccessToken: token})
//
// Documents are kept in the database, content included (a PDF of some
// tens of kilobytes): one transaction stores a document with its event,
// and a backup of the database holds every document. Sequences
// ([Service.Sequence]) are scoped to the store and the rule; a value is
// handed out once per idempotency key, in the same transaction as the
// increment, so a retried call gets the same number and the numbers have
// no gaps.
package invoice
