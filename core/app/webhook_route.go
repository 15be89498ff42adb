package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/reqid"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/httpauth"
)

// WebhookPath is where payment gateways send their notifications: POST
// {public URL}/webhooks/{plugin id}, e.g.
// https://shop.example/webhooks/payment.testpay. Core/plugin gives each
// gateway plugin this URL as the notify URL of its payments; a gateway
// whose notification URL is set in its own dashboard must be given it
// there. A path below it (/webhooks/{plugin id}/...) reaches the plugin
// too, for gateways that notify several endpoints.
const WebhookPath = "/webhooks/"

// MaxWebhookBody is the largest notification accepted, in bytes: gateways
// send a few kilobytes; a larger body is refused with 413 before the
// plugin sees it.
const MaxWebhookBody = 1 << 20

// webhookTimeout bounds the application of one notification. It runs
// detached from the gateway's connection: a gateway that hangs up does
// not cut a notification in half, and its retry then finds duplicates.
const webhookTimeout = 30 * time.Second

// webhookPluginID is the form of a payment plugin's id (the SDK's id
// pattern, kind payment). Anything else is answered 404 without asking
// the plugin host.
var webhookPluginID = regexp.MustCompile(`^payment\.[a-z0-9][a-z0-9_-]{0,62}$`)

// webhookDroppedHeaders never reach a plugin: hop-by-hop headers (RFC
// 9110 7.6.1), cookies and the API key header, which a browser or a
// misdirected client might attach and which are the shop's credentials,
// not the gateway's. Authorization stays: some gateways authenticate
// their notifications with it (HTTP basic auth).
var webhookDroppedHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Cookie", "Proxy-Authorization", httpauth.APIKeyHeader}

// webhookApplier applies a gateway's notification: *payment.Service.
type webhookApplier interface {
	ApplyWebhook(ctx context.Context, gatewayID string, req payment.WebhookRequest) (*payment.WebhookOutcome, error)
}

// webhookRoutes mounts the notification endpoint on mux. It is not behind
// the session and CSRF middleware: gateways have no cookies, and each
// plugin authenticates its gateway's notifications by their signature.
func webhookRoutes(mux *http.ServeMux, p webhookApplier, log *slog.Logger) {
	h := webhookHandler(p, log)
	// Other methods get 405 with Allow: POST from the mux.
	mux.Handle("POST "+WebhookPath+"{plugin}", h)
	mux.Handle("POST "+WebhookPath+"{plugin}/{path...}", h)
}

// webhookHandler hands a notification's raw body and headers to the
// plugin through the payment service and answers the gateway. The
// plugin's own answer (status, headers, body) is sent only when every
// event of the notification is committed; otherwise the status makes the
// gateway retry: 503 when the plugin is down, 500 when the notification
// could not be applied. An unknown gateway is 404; a disabled one still
// settles what it took (ADR 0014), so its notifications are applied. The
// answer never carries an internal error's text.
func webhookHandler(p webhookApplier, log *slog.Logger) http.Handler {
	log = log.With("component", "webhook")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received := time.Now()
		id := r.PathValue("plugin")
		rlog := log.With(attrRequestID, reqid.From(r.Context()), "plugin", id)
		w.Header().Set("Cache-Control", "no-store")
		if !webhookPluginID.MatchString(id) {
			webhookRefuse(w, http.StatusNotFound, "unknown payment gateway")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				rlog.WarnContext(r.Context(), "webhook refused: body too large", "limit", MaxWebhookBody, "remote", r.RemoteAddr)
				webhookRefuse(w, http.StatusRequestEntityTooLarge, "notification too large")
				return
			}
			// The gateway sent less than it announced or hung up.
			rlog.WarnContext(r.Context(), "webhook refused: body not read", "err", err, "remote", r.RemoteAddr)
			webhookRefuse(w, http.StatusBadRequest, "notification body could not be read")
			return
		}
		header := r.Header.Clone()
		for _, k := range webhookDroppedHeaders {
			header.Del(k)
		}
		req := payment.WebhookRequest{Method: r.Method, Query: r.URL.RawQuery, Header: header, Body: body, ReceivedAt: received}
		if sub := r.PathValue("path"); sub != "" {
			req.Path = "/" + sub
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), webhookTimeout)
		defer cancel()
		out, err := p.ApplyWebhook(ctx, id, req)
		if err != nil {
			status, msg := webhookErrorStatus(err)
			lvl := slog.LevelWarn
			switch status {
			case http.StatusInternalServerError:
				lvl = slog.LevelError
			case http.StatusNotFound:
				// A misconfigured gateway, or someone probing: not
				// Kassa's failure.
				lvl = slog.LevelInfo
			}
			rlog.Log(r.Context(), lvl, "webhook not applied", attrStatus, status, "err", err, "remote", r.RemoteAddr)
			webhookRefuse(w, status, msg)
			return
		}
		if out.Response.Status == 0 {
			out.Response.Status = http.StatusOK
		}
		lvl := slog.LevelInfo
		if out.Rejected == "" && out.Applied == 0 && out.Flagged == 0 {
			lvl = slog.LevelDebug // duplicates only: a gateway's retry
		}
		rlog.Log(r.Context(), lvl, "webhook answered", attrStatus, out.Response.Status, "rejected", out.Rejected,
			"applied", out.Applied, "duplicates", out.Duplicates, "flagged", out.Flagged, attrDuration, time.Since(received))
		writeWebhookResponse(w, out.Response)
	})
}

// webhookErrorStatus is the status and the public message of an
// ApplyWebhook error: only the kind of failure is told, never its text.
func webhookErrorStatus(err error) (int, string) {
	var de *errs.Error
	switch {
	case errors.Is(err, errs.ErrNotFound), errors.Is(err, errs.ErrInvalid):
		// No such plugin, not a payment plugin, or one that takes no
		// notifications: nothing here for the gateway, ever.
		return http.StatusNotFound, "unknown payment gateway"
	case errors.As(err, &de) && de.Code == payment.CodeWebhookFailed:
		return http.StatusInternalServerError, "the notification was not applied; retry later"
	case errors.Is(err, errs.ErrUnavailable):
		return http.StatusServiceUnavailable, "the payment gateway's plugin is unavailable; retry later"
	}
	return http.StatusInternalServerError, "the notification was not applied; retry later"
}

// writeWebhookResponse sends the plugin's answer as it chose it, less
// the headers a plugin may not set on the shop's domain.
func writeWebhookResponse(w http.ResponseWriter, res payment.WebhookResponse) {
	h := w.Header()
	for k, vs := range res.Header {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Set-Cookie" || ck == "Content-Length" || isDroppedWebhookHeader(ck) {
			continue
		}
		h.Del(ck)
		for _, v := range vs {
			h.Add(ck, v)
		}
	}
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}

func isDroppedWebhookHeader(k string) bool {
	for _, d := range webhookDroppedHeaders {
		if d == k {
			return true
		}
	}
	return false
}

// webhookRefuse answers a notification Kassa did not hand on or apply,
// in plain text.
func webhookRefuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
