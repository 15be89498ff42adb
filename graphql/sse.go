package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/httpauth"
)

// StreamPath is where StreamHandler is mounted: subscriptions as
// server-sent events, for clients without WebSocket.
const StreamPath = "/graphql/stream"

// StreamHandler serves subscriptions as server-sent events, one
// subscription per request (the "distinct connections" mode of the
// graphql-sse protocol): GET with the parameters query, variables (JSON)
// and operationName, which is what a browser's EventSource sends, or POST
// with a JSON body as on /graphql. The answer is text/event-stream: an
// "event: next" whose data is one result, for each result; a comment
// every PingInterval to keep proxies from closing an idle stream; and
// "event: complete" when the subscription ends (the client then closes
// the stream: an EventSource would otherwise connect again). A refused
// subscription is answered with the JSON error envelope and a 4xx status
// instead, before any event.
//
// A request that carries the session cookie must come from a page of the
// shop itself (Origin or Sec-Fetch-Site say so): a page elsewhere gets
// ORIGIN_REFUSED, so it cannot follow a buyer's orders with the buyer's
// cookie. Guests name their order with its access token, which no other
// site knows.
//
// The stream's credential is checked again while it is open (at once
// after a notice that concerns its caller, at the session's expiry, and
// every RecheckInterval): the stream ends, without "complete", when it
// signs nobody in any more, and the subscription reads with the
// caller's roles of the moment.
func (s *Server) StreamHandler() http.Handler {
	return http.HandlerFunc(s.serveStream)
}

func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	var req Request
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		req = Request{Query: q.Get("query"), OperationName: q.Get("operationName")}
		if v := q.Get("variables"); v != "" {
			if !validJSONText([]byte(v)) {
				writeJSON(w, http.StatusBadRequest, invalidText())
				return
			}
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				writeJSON(w, http.StatusBadRequest, badRequest("variables are not valid JSON"))
				return
			}
		}
	case http.MethodPost:
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, badRequest("Content-Type must be application/json"))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.Limits.MaxBodyBytes))
		if err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, Response{Errors: []*Error{{Message: "request body too large", Extensions: map[string]any{"code": CodeLimitExceeded}}}})
			return
		}
		if !validJSONText(body) {
			writeJSON(w, http.StatusBadRequest, invalidText())
			return
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeJSON(w, http.StatusBadRequest, badRequest("body is not a valid GraphQL request"))
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, badRequest("use GET or POST"))
		return
	}
	if req.Query == "" {
		writeJSON(w, http.StatusBadRequest, badRequest("send a subscription in the query parameter"))
		return
	}
	l := s.live
	if httpauth.SessionFrom(r.Context()).Cookie && !l.sameSite(r) {
		l.dropped.WithLabelValues("origin").Inc()
		writeJSON(w, http.StatusForbidden, Response{Errors: []*Error{{
			Message:    "pages of another site may not open an event stream with the buyer's cookie; name a guest's order by its access token",
			Extensions: map[string]any{"code": CodeOriginRefused}}}})
		return
	}
	ctx, cancel, release, refused := l.admit(r, "sse")
	if refused != nil {
		writeJSON(w, statusOf(&Response{Errors: []*Error{refused}}), Response{Errors: []*Error{refused}})
		return
	}
	defer release()
	// The client going away ends the stream too.
	stopWithRequest := context.AfterFunc(r.Context(), func() { cancel(context.Canceled) })
	defer stopWithRequest()

	caller := newLiveCaller(httpauth.CredentialFrom(r.Context()), authz.SubjectFrom(r.Context()), l.opts.Access, l.opts.RecheckInterval,
		func(err error) {
			l.dropped.WithLabelValues("credential").Inc()
			if !unauthenticated(err) {
				s.log.ErrorContext(ctx, "check event stream credential", "err", err)
			}
			cancel(errCredentialEnded)
		})
	// Once more now that the caller listens for notices: one that came
	// after the request was authenticated would otherwise be missed.
	if err := caller.check(ctx, false); err != nil {
		caller.stop()
		if unauthenticated(err) {
			writeJSON(w, http.StatusUnauthorized, Response{Errors: []*Error{{Message: "the session is invalid or has expired; sign in again",
				Extensions: map[string]any{"code": "UNAUTHENTICATED"}}}})
			return
		}
		s.log.ErrorContext(ctx, "check event stream credential", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, Response{Errors: []*Error{{Message: "temporarily unavailable",
			Extensions: map[string]any{"code": "UNAVAILABLE"}}}})
		return
	}
	go caller.run(ctx)
	ctx = authz.WithSubjectSource(ctx, caller)

	sctx, results, out := s.subscribe(ctx, req)
	for out == nil {
		select {
		case v, ok := <-results:
			var first *Response
			if ok {
				if first = s.result(sctx, v); first == nil {
					continue
				}
			}
			switch {
			case !ok:
				out = &Response{Errors: []*Error{{Message: "the subscription ended before it started", Extensions: map[string]any{"code": "UNAVAILABLE"}}}}
			case refusal(first):
				out = first
			default:
				s.stream(ctx, sctx, w, cancel, first, results)
				return
			}
		case <-ctx.Done():
			return
		}
	}
	writeJSON(w, statusOf(out), out)
}

// stream writes the results of a started subscription as server-sent
// events: results is the executor's channel (Server.subscribe) and sctx
// the subscription's context, in which they are converted. A queue of
// QueueLength results sits between the subscription and the client; a
// client that lets it fill, or takes longer than WriteTimeout for one
// event, is dropped.
func (s *Server) stream(ctx, sctx context.Context, w http.ResponseWriter, cancel context.CancelCauseFunc, first *Response, results <-chan any) {
	opts := s.live.opts
	rc := http.NewResponseController(w)
	// The HTTP server's read timeout would end the stream; the write
	// deadline is set before each event instead.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)

	queue := make(chan *Response, opts.QueueLength)
	queue <- first
	completed := make(chan bool, 1)
	go func() {
		completed <- pump(ctx, results, func(v any) bool {
			res := s.result(sctx, v)
			if res == nil {
				return true
			}
			select {
			case queue <- res:
				return true
			default:
				cancel(errSlow)
				return false
			}
		})
		close(queue)
	}()
	write := func(chunk []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(opts.WriteTimeout))
		_, err := w.Write(chunk)
		if err == nil {
			err = rc.Flush()
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			cancel(errSlow)
		case err != nil:
			cancel(err) // the client went away
		}
		return err == nil
	}
	heartbeat := time.NewTicker(opts.PingInterval)
	defer heartbeat.Stop()
	var chunk []byte // reused: each event is written before the next
	for {
		select {
		case res, ok := <-queue:
			if !ok {
				if <-completed {
					write([]byte("event: complete\ndata:\n\n"))
				}
				s.noteDrop(ctx)
				return
			}
			var err error
			if chunk, err = appendEvent(chunk[:0], res); err != nil {
				cancel(err)
				continue
			}
			if !write(chunk) {
				s.noteDrop(ctx)
				return
			}
		case <-heartbeat.C:
			if !write([]byte(": ping\n\n")) {
				s.noteDrop(ctx)
				return
			}
		case <-ctx.Done():
			// Drain: the pump stops with the context.
			for range queue {
			}
			<-completed
			s.noteDrop(ctx)
			return
		}
	}
}

// noteDrop counts a stream the server ended because its client was slow.
func (s *Server) noteDrop(ctx context.Context) {
	if errors.Is(context.Cause(ctx), errSlow) {
		s.live.dropped.WithLabelValues("slow").Inc()
	}
}

// appendEvent appends res to b as an "event: next" of the stream. A
// result without errors, nearly every one, is the executor's data put in
// its envelope as it is: compact JSON, with no line break that would end
// the event's data line.
func appendEvent(b []byte, res *Response) ([]byte, error) {
	b = append(b, "event: next\ndata: "...)
	if len(res.Errors) == 0 && len(res.Data) > 0 && !bytes.ContainsAny(res.Data, "\r\n") {
		b = append(b, `{"data":`...)
		b = append(b, res.Data...)
		b = append(b, '}')
	} else {
		j, err := json.Marshal(res)
		if err != nil {
			return b, err
		}
		b = append(b, j...)
	}
	return append(b, "\n\n"...), nil
}
