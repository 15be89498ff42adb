package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/httpauth"
)

// WSProtocol is the WebSocket subprotocol of GraphQL over WebSocket that
// /graphql speaks: graphql-transport-ws, the protocol of the graphql-ws
// library (github.com/enisdenjo/graphql-ws, PROTOCOL.md).
const WSProtocol = "graphql-transport-ws"

// The close codes of graphql-transport-ws, and the standard ones used.
const (
	closeBadRequest       websocket.StatusCode = 4400
	closeUnauthorized     websocket.StatusCode = 4401
	closeForbidden        websocket.StatusCode = 4403
	closeBadSubprotocol   websocket.StatusCode = 4406
	closeInitTimeout      websocket.StatusCode = 4408
	closeDuplicateID      websocket.StatusCode = 4409
	closeTooManyInitTries websocket.StatusCode = 4429
)

// wsMessage is one message of graphql-transport-ws, either way.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClose is the cause of a connection's end that closes it with a code.
type wsClose struct {
	code   websocket.StatusCode
	reason string
}

func (c *wsClose) Error() string { return fmt.Sprintf("websocket closed %d: %s", c.code, c.reason) }

// isWebSocket reports whether r asks to upgrade to a WebSocket.
func isWebSocket(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// serveWebSocket upgrades r to a graphql-transport-ws connection, after
// the checks that need no WebSocket: the page's origin and the client's
// connection limit. The caller authenticated by the upgrade request (the
// session cookie, a bearer token or an API key header) is the caller of
// every subscription, unless connection_init names another; either way
// its credential is checked again while the connection lives
// (liveCaller).
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	l := s.live
	if !l.originAllowed(r) {
		l.dropped.WithLabelValues("origin").Inc()
		writeJSON(w, http.StatusForbidden, Response{Errors: []*Error{{Message: "pages of this origin may not open a WebSocket to the shop",
			Extensions: map[string]any{"code": CodeOriginRefused}}}})
		return
	}
	ctx, cancel, release, refused := l.admit(r, "ws")
	if refused != nil {
		writeJSON(w, statusOf(&Response{Errors: []*Error{refused}}), Response{Errors: []*Error{refused}})
		return
	}
	defer release()
	// The HTTP server's read and write timeouts are for requests, not
	// for a connection that lives for hours; this one has its own.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols: []string{WSProtocol},
		// The origin was checked above, against the shop's allowed
		// origins as well as its own host.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept answered the request
	}
	if c.Subprotocol() != WSProtocol {
		_ = c.Close(closeBadSubprotocol, "Subprotocol not acceptable")
		return
	}
	c.SetReadLimit(l.opts.MaxMessageBytes)
	conn := &wsConn{s: s, c: c, ctx: ctx, cancel: cancel, out: make(chan []byte, l.opts.QueueLength),
		upgrade: httpauth.CredentialFrom(r.Context()), subs: map[string]context.CancelFunc{}}
	conn.run()
}

// wsConn is one graphql-transport-ws connection.
type wsConn struct {
	s      *Server
	c      *websocket.Conn
	ctx    context.Context
	cancel context.CancelCauseFunc
	// out is the queue of messages to the client, written by one
	// goroutine; a full queue drops the client.
	out      chan []byte
	dropOnce sync.Once
	// upgrade is the credential of the upgrade request; zero for a guest.
	upgrade httpauth.Credential

	mu    sync.Mutex
	acked bool
	// caller is the caller of the subscriptions, set by connection_init:
	// the credential it named, else that of the upgrade.
	caller *liveCaller
	// callerCtx is the context subscriptions run in: ctx with caller as
	// its subject.
	callerCtx context.Context
	subs      map[string]context.CancelFunc
}

// run serves the connection until it ends: it reads the client's
// messages here, writes and pings in goroutines of its own, and closes
// the connection with the code its end calls for.
func (w *wsConn) run() {
	opts := w.s.live.opts
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); w.write() }()
	go func() { defer wg.Done(); w.ping(opts.PingInterval, opts.PingTimeout) }()
	go func() { defer wg.Done(); w.closeOnEnd() }()
	init := time.AfterFunc(opts.InitTimeout, func() {
		w.mu.Lock()
		acked := w.acked
		w.mu.Unlock()
		if !acked {
			w.cancel(&wsClose{closeInitTimeout, "Connection initialisation timeout"})
		}
	})
	defer init.Stop()
	// Reads, writes and pings get contexts of their own: coder/websocket
	// closes the connection at once when one ends, before the close frame
	// that tells the client why could leave. closeOnEnd closes it instead,
	// which ends them all.
	for {
		typ, data, err := w.c.Read(context.WithoutCancel(w.ctx))
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				w.cancel(&wsClose{websocket.StatusMessageTooBig, "message too big"})
			} else {
				w.cancel(err)
			}
			break
		}
		if typ != websocket.MessageText {
			w.cancel(&wsClose{closeBadRequest, "messages are JSON text"})
			break
		}
		if cause := w.handle(data); cause != nil {
			w.cancel(cause)
			break
		}
	}
	wg.Wait()
}

// closeOnEnd closes the WebSocket when the connection's context ends,
// with the code of its cause.
func (w *wsConn) closeOnEnd() {
	<-w.ctx.Done()
	cause := context.Cause(w.ctx)
	var wc *wsClose
	switch {
	case errors.As(cause, &wc):
		_ = w.c.Close(wc.code, wc.reason)
	case errors.Is(cause, errShutdown):
		_ = w.c.Close(websocket.StatusGoingAway, "server shutting down")
	case errors.Is(cause, errSlow):
		_ = w.c.CloseNow() // a close frame would wait behind what it cannot take
	default:
		_ = w.c.CloseNow()
	}
}

// write sends the queued messages, each within the write timeout.
func (w *wsConn) write() {
	timeout := w.s.live.opts.WriteTimeout
	for {
		select {
		case msg := <-w.out:
			ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), timeout)
			err := w.c.Write(ctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					w.drop()
				}
				w.cancel(err)
				return
			}
		case <-w.ctx.Done():
			return
		}
	}
}

// drop ends the connection of a client too slow to take its messages.
// coder/websocket closes the connection itself when a write times out, so
// the reader may see the end first: the drop is counted here.
func (w *wsConn) drop() {
	w.dropOnce.Do(func() {
		w.s.live.dropped.WithLabelValues("slow").Inc()
		w.cancel(errSlow)
	})
}

// ping pings the client every interval; one that does not answer within
// timeout is gone and its connection ends.
func (w *wsConn) ping(interval, timeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), timeout)
			err := w.c.Ping(ctx)
			cancel()
			if err != nil {
				if w.ctx.Err() == nil {
					w.s.live.dropped.WithLabelValues("ping").Inc()
					w.cancel(err)
				}
				return
			}
		case <-w.ctx.Done():
			return
		}
	}
}

// send queues a message without waiting: a client whose queue is full
// is too slow and is dropped.
func (w *wsConn) send(m wsMessage) bool {
	b, err := json.Marshal(m)
	if err != nil {
		w.cancel(fmt.Errorf("encode %s message: %w", m.Type, err))
		return false
	}
	select {
	case w.out <- b:
		return true
	default:
		w.drop()
		return false
	}
}

// handle acts on one message of the client; a non-nil answer ends the
// connection with that cause.
func (w *wsConn) handle(data []byte) error {
	var m wsMessage
	if !validJSONText(data) {
		return &wsClose{closeBadRequest, "Invalid message received: text that is not UTF-8"}
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		return &wsClose{closeBadRequest, "Invalid message received"}
	}
	switch m.Type {
	case "connection_init":
		return w.init(m.Payload)
	case "ping":
		w.send(wsMessage{Type: "pong"})
	case "pong":
	case "subscribe":
		return w.subscribe(m)
	case "complete":
		w.mu.Lock()
		if stop, ok := w.subs[m.ID]; ok {
			delete(w.subs, m.ID)
			stop()
		}
		w.mu.Unlock()
	default:
		return &wsClose{closeBadRequest, "Invalid message type"}
	}
	return nil
}

// init acknowledges connection_init, after resolving the credentials its
// payload may carry: "Authorization": "Bearer <session token or API
// key>" or "X-Kassa-Api-Key": "<key>" (names in any case), which then
// replace those of the upgrade request. A credential that signs nobody
// in closes the connection 4403. From then on the caller's credential is
// checked again (liveCaller); once it signs nobody in, the connection is
// closed 4401.
func (w *wsConn) init(payload json.RawMessage) error {
	w.mu.Lock()
	if w.acked {
		w.mu.Unlock()
		return &wsClose{closeTooManyInitTries, "Too many initialisation requests"}
	}
	w.mu.Unlock()
	cred, sub, err := w.authenticate(payload)
	if err != nil {
		return err
	}
	opts := w.s.live.opts
	caller := newLiveCaller(cred, sub, opts.Access, opts.RecheckInterval, w.credentialEnded)
	go caller.run(w.ctx)
	w.mu.Lock()
	w.caller = caller
	w.callerCtx = authz.WithSubjectSource(w.ctx, caller)
	w.acked = true
	w.mu.Unlock()
	w.send(wsMessage{Type: "connection_ack"})
	return nil
}

// credentialEnded ends the connection whose credential signs nobody in
// any more (4401), or could not be checked (1013: try again later, since
// serving on would keep a revoked credential alive).
func (w *wsConn) credentialEnded(err error) {
	if w.ctx.Err() != nil {
		return // ending already, for another cause
	}
	w.s.live.dropped.WithLabelValues("credential").Inc()
	if unauthenticated(err) {
		w.cancel(&wsClose{closeUnauthorized, "Unauthorized"})
		return
	}
	w.s.log.ErrorContext(w.ctx, "check websocket credential", "err", err)
	w.cancel(&wsClose{websocket.StatusTryAgainLater, "temporarily unavailable"})
}

// authenticate reads the credentials of a connection_init payload and
// returns the connection's credential with the subject it signs in:
// those of the upgrade request when the payload carries none.
func (w *wsConn) authenticate(payload json.RawMessage) (httpauth.Credential, authz.Subject, error) {
	var fields map[string]any
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &fields); err != nil {
			return httpauth.Credential{}, authz.Subject{}, &wsClose{closeBadRequest, "connection_init payload is not an object"}
		}
	}
	var bearer, apiKey string
	for k, v := range fields {
		s, _ := v.(string)
		switch strings.ToLower(k) {
		case "authorization":
			scheme, token, ok := strings.Cut(s, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				return httpauth.Credential{}, authz.Subject{}, &wsClose{closeForbidden, "Forbidden: Authorization is Bearer <token>"}
			}
			bearer = strings.TrimSpace(token)
		case "x-kassa-api-key":
			apiKey = s
		}
	}
	if bearer == "" && apiKey == "" {
		return w.upgrade, authz.SubjectFrom(w.ctx), nil
	}
	a := w.s.live.opts.Authenticator
	if a == nil {
		return httpauth.Credential{}, authz.Subject{}, &wsClose{closeForbidden, "Forbidden: credentials are not accepted in connection_init"}
	}
	cred := httpauth.BearerCredential(a, bearer)
	if apiKey != "" {
		cred = httpauth.APIKeyCredential(a, apiKey)
	}
	sub, err := cred.Authenticate(w.ctx)
	if err != nil {
		if errors.Is(err, errs.ErrUnauthenticated) {
			return httpauth.Credential{}, authz.Subject{}, &wsClose{closeForbidden, "Forbidden"}
		}
		w.s.log.ErrorContext(w.ctx, "authenticate websocket", "err", err)
		return httpauth.Credential{}, authz.Subject{}, &wsClose{websocket.StatusInternalError, "temporarily unavailable"}
	}
	return cred, sub, nil
}

// subscribe starts the subscription of a subscribe message in a
// goroutine of its own, after checking the caller's credential again: a
// subscription starts as the caller is now, and not at all once the
// credential signs nobody in (the connection is closed 4401).
func (w *wsConn) subscribe(m wsMessage) error {
	var req Request
	if m.ID == "" || json.Unmarshal(m.Payload, &req) != nil || req.Query == "" {
		return &wsClose{closeBadRequest, "Invalid subscribe message"}
	}
	w.mu.Lock()
	acked, caller := w.acked, w.caller
	w.mu.Unlock()
	if !acked {
		return &wsClose{closeUnauthorized, "Unauthorized"}
	}
	if err := caller.check(w.ctx, false); err != nil {
		w.credentialEnded(err)
		return context.Cause(w.ctx)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.subs[m.ID]; ok {
		return &wsClose{closeDuplicateID, "Subscriber for " + truncate(m.ID, 64) + " already exists"}
	}
	if max := w.s.live.opts.MaxSubscriptions; len(w.subs) >= max {
		w.sendErrors(m.ID, []*Error{{Message: fmt.Sprintf("at most %d subscriptions per connection", max),
			Extensions: map[string]any{"code": CodeLimitExceeded, "limit": max}}})
		return nil
	}
	ctx, stop := context.WithCancel(w.callerCtx)
	w.subs[m.ID] = stop
	go w.serveSubscription(ctx, m.ID, req)
	return nil
}

// serveSubscription runs one subscription: an error message when it is
// refused, else a next message per result and complete at its end,
// unless the client completed it first.
func (w *wsConn) serveSubscription(ctx context.Context, id string, req Request) {
	results, refused := w.s.Subscribe(ctx, req)
	if refused == nil {
		select {
		case first, ok := <-results:
			if ok && refusal(first) {
				refused = first
				break
			}
			if (!ok || w.next(id, first)) && pump(ctx, results, func(r *Response) bool { return w.next(id, r) }) {
				w.finish(id, func() { w.send(wsMessage{ID: id, Type: "complete"}) })
				return
			}
		case <-ctx.Done():
		}
	}
	w.finish(id, func() {
		if refused != nil && ctx.Err() == nil {
			w.sendErrors(id, refused.Errors)
		}
	})
}

// finish forgets the subscription id and, if the client had not
// completed it, sends its last message.
func (w *wsConn) finish(id string, last func()) {
	w.mu.Lock()
	stop, running := w.subs[id]
	delete(w.subs, id)
	w.mu.Unlock()
	if running {
		last()
		stop()
	}
}

func (w *wsConn) next(id string, r *Response) bool {
	b, err := json.Marshal(r)
	if err != nil {
		w.cancel(fmt.Errorf("encode result: %w", err))
		return false
	}
	return w.send(wsMessage{ID: id, Type: "next", Payload: b})
}

func (w *wsConn) sendErrors(id string, list []*Error) {
	b, _ := json.Marshal(list)
	w.send(wsMessage{ID: id, Type: "error", Payload: b})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
