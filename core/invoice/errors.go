package invoice

import (
	"fmt"
	"strings"

	"github.com/kassahq/kassa/core/kit/errs"
)

// The stable error codes of invoicing. Clients switch on them; never
// change a released one. Calls to the rules add core/plugin's codes
// (PLUGIN_UNAVAILABLE, PLUGIN_TIMEOUT).
const (
	// CodeNotFound: no such document, or not one the caller may see.
	CodeNotFound = "INVOICE_NOT_FOUND"
	// CodeRefused: the rule refused to issue a document (its problems, such
	// as an incomplete seller or an invalid tax id, are in the message);
	// the event waits as a dead letter until staff fix the cause and
	// replay it.
	CodeRefused = "INVOICE_REFUSED"
	// CodeBadDocument: the rule answered a document Kassa cannot keep (no
	// number, no content, too large).
	CodeBadDocument = "INVOICE_BAD_DOCUMENT"
	// CodeTooManyOrders: a batched read of more than MaxBatch orders.
	CodeTooManyOrders = "TOO_MANY_ORDERS"
)

func notFound() *errs.Error {
	return errs.NotFound(CodeNotFound, "no such invoice")
}

// refused reports the problems a rule gave instead of a document.
func refused(ruleID string, problems []Problem) *errs.Error {
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = p.Code + ": " + p.Message
		if p.Field != "" {
			parts[i] = p.Field + ": " + parts[i]
		}
	}
	return errs.Conflict("", CodeRefused, fmt.Sprintf("%s issued no document: %s", ruleID, strings.Join(parts, "; ")))
}

func badDocument(ruleID, why string) *errs.Error {
	return errs.Invalid("", CodeBadDocument, fmt.Sprintf("%s answered a document Kassa cannot keep: %s", ruleID, why))
}

func tooManyOrders() *errs.Error {
	return errs.Invalid("", CodeTooManyOrders, fmt.Sprintf("at most %d orders at once", MaxBatch))
}
