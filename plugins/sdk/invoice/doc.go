// Package invoice is what invoicing rule plugins implement: the [Rule]
// interface (Evaluate, IssueInvoice, VoidInvoice), the order snapshot types,
// [UnimplementedRule] and [Serve] for main.
//
// Plugins have no database, so gapless numbers come from Kassa: IssueInvoice
// receives a [Sequence] backed by the host over the go-plugin broker:
//
//	func (r *Rule) IssueInvoice(ctx context.Context, req invoice.IssueRequest, seq invoice.Sequence) (invoice.Document, error) {
//		n, err := seq.Next(ctx, "invoice/"+req.IssuedAt.Format("2006"), req.IdempotencyKey)
//		if err != nil {
//			return invoice.Document{}, err
//		}
//		number := fmt.Sprintf("INV-%s-%06d", req.IssuedAt.Format("2006"), n)
//		// render the PDF ...
//	}
//
//	func main() { invoice.Serve(&Rule{}) }
//
// Business problems (an invalid tax id) are data: Document.Problems.
package invoice
