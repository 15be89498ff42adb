package app

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/core/kit/errs"
)

// InvoicePattern is where an order's invoices and credit notes are
// downloaded, as invoice.DownloadPath writes it:
// GET /orders/{orderId}/invoices/{documentId}.pdf. Staff with invoice
// read download any; the order's signed-in buyer theirs (authenticated
// like /graphql: session cookie, bearer token); a guest adds
// ?token=ACCESS_TOKEN, the order's access token from checkout. Everyone
// else gets 404, as for a document that does not exist.
const InvoicePattern = "GET /orders/{orderId}/invoices/{file}"

// maxAccessToken bounds the token parameter; access tokens are 43
// characters.
const maxAccessToken = 200

// validDownloadID matches the ids of orders and documents (prefix,
// underscore, Crockford base32): anything else names nothing, and is
// refused before any lookup.
var validDownloadID = regexp.MustCompile(`^[a-z]{2,8}_[0-9A-Z]{26}$`)

// downloadInvoice serves InvoicePattern (and HEAD, which the GET pattern
// covers). The caller is in the request's context (httpauth.Authenticate);
// the invoice service decides who may read the document. The answer is
// the document as an attachment that no shared cache keeps.
func downloadInvoice(invoices *invoice.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orderID := r.PathValue("orderId")
		docID, isPDF := strings.CutSuffix(r.PathValue("file"), ".pdf")
		q := r.URL.Query()
		token := q.Get("token")
		if !isPDF || !validDownloadID.MatchString(orderID) || !validDownloadID.MatchString(docID) ||
			len(q["token"]) > 1 || len(token) > maxAccessToken {
			http.NotFound(w, r)
			return
		}
		d, err := invoices.Download(r.Context(), invoice.DownloadInput{OrderID: orderID, DocumentID: docID, AccessToken: token})
		switch {
		case err == nil:
		case errors.Is(err, errs.ErrNotFound), errors.Is(err, errs.ErrForbidden), errors.Is(err, errs.ErrUnauthenticated):
			// Never 401 or 403: whether the document exists is not told.
			http.NotFound(w, r)
			return
		default:
			log.ErrorContext(r.Context(), "invoice download failed", "order", orderID, "document", docID, "err", err)
			http.Error(w, "the document cannot be read now", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		// The rule's media type is trusted only for PDF; anything else
		// is offered as opaque bytes, never rendered by the browser.
		if d.MimeType == "application/pdf" {
			h.Set("Content-Type", "application/pdf")
		} else {
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("Content-Disposition", `attachment; filename="`+downloadName(d)+`"`)
		// A buyer's document: browsers may keep it, shared caches not.
		h.Set("Cache-Control", "private, no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Referrer-Policy", "no-referrer")
		http.ServeContent(w, r, "", d.IssuedAt, bytes.NewReader(d.Content))
	})
}

// downloadName is the document's file name, safe in a quoted
// Content-Disposition parameter on every browser: the rule's name with
// anything but letters, digits, dot, dash and underscore replaced, or
// the number's when that leaves nothing useful.
func downloadName(d *invoice.Invoice) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
				return r
			}
			return '_'
		}, s)
	}
	name := strings.TrimLeft(clean(d.FileName), "._")
	if len(name) > 100 || !strings.HasSuffix(strings.ToLower(name), ".pdf") || len(name) <= len(".pdf") {
		name = strings.TrimLeft(clean(d.Number), "._")
		if name == "" || len(name) > 96 {
			name = d.ID
		}
		name += ".pdf"
	}
	return name
}
