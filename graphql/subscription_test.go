package graphql_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/httpauth"
)

const (
	orderUpdatedDoc = `subscription($id: ID!, $token: String) { orderUpdated(id: $id, token: $token) { number status paymentStatus } }`
	// live waits this long for anything the server should send.
	liveWait = 10 * time.Second
)

// execOrSubscribe runs a query or mutation with exec, and a subscription
// in-process with Server.Subscribe, answering its refusal or first
// result.
func (e *accountsEnv) execOrSubscribe(sub authz.Subject, query string, vars map[string]any) gqlResult {
	e.t.Helper()
	if !strings.HasPrefix(query, "subscription") {
		return e.exec(sub, query, vars)
	}
	ctx, cancel := context.WithTimeout(authz.WithSubject(context.Background(), sub), liveWait)
	defer cancel()
	results, res := e.srv.Subscribe(ctx, graphql.Request{Query: query, Variables: vars})
	if res == nil {
		var ok bool
		if res, ok = <-results; !ok {
			e.t.Fatalf("%s ended without a result", query)
		}
	}
	b, _ := json.Marshal(res)
	var out gqlResult
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// wsMsg is a graphql-transport-ws message as the test client reads it.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClient is a graphql-ws client of a test server.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

// dialWS opens a graphql-transport-ws connection to base (http://...)
// with the headers given.
func dialWS(t *testing.T, base string, header http.Header, client *http.Client) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{graphql.WSProtocol}, HTTPHeader: header, HTTPClient: client})
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{t: t, c: c}
	t.Cleanup(func() { _ = c.CloseNow() })
	return w, resp, nil
}

// mustDialWS dials and sends connection_init with payload, expecting
// connection_ack.
func mustDialWS(t *testing.T, base string, header http.Header, payload any) *wsClient {
	t.Helper()
	w, resp, err := dialWS(t, base, header, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	w.send(wsMsg{Type: "connection_init", Payload: mustJSON(t, payload)})
	if m := w.read(); m.Type != "connection_ack" {
		t.Fatalf("after connection_init: %+v", m)
	}
	return w
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (w *wsClient) send(m wsMsg) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, mustJSON(w.t, m)); err != nil {
		w.t.Fatalf("send %s: %v", m.Type, err)
	}
}

// raw sends data as a text message as it is (send would encode it as
// JSON, which makes text valid UTF-8).
func (w *wsClient) raw(data string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(data)); err != nil {
		w.t.Fatalf("send: %v", err)
	}
}

func (w *wsClient) subscribe(id, query string, vars map[string]any) {
	w.t.Helper()
	w.send(wsMsg{ID: id, Type: "subscribe", Payload: mustJSON(w.t, map[string]any{"query": query, "variables": vars})})
}

// read returns the next message, failing the test when none comes.
func (w *wsClient) read() wsMsg {
	w.t.Helper()
	m, err := w.readErr()
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return m
}

func (w *wsClient) readErr() (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	_, b, err := w.c.Read(ctx)
	if err != nil {
		return wsMsg{}, err
	}
	var m wsMsg
	if err := json.Unmarshal(b, &m); err != nil {
		return wsMsg{}, fmt.Errorf("%s: %w", b, err)
	}
	return m, nil
}

// closeCode reads until the server closes the connection and returns its
// close code.
func (w *wsClient) closeCode() websocket.StatusCode {
	w.t.Helper()
	for {
		if _, err := w.readErr(); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// nextOrder reads a next message of subscription id and returns its
// orderUpdated.
func (w *wsClient) nextOrder(id string) map[string]any {
	w.t.Helper()
	m := w.read()
	if m.Type != "next" || m.ID != id {
		w.t.Fatalf("want next of %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var res struct {
		Data   map[string]map[string]any `json:"data"`
		Errors []any                     `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &res); err != nil || len(res.Errors) > 0 {
		w.t.Fatalf("next %s: %v %v", m.Payload, err, res.Errors)
	}
	return res.Data["orderUpdated"]
}

// errorCode reads an error message of subscription id and returns the
// code of its first error.
func (w *wsClient) errorCode(id string) string {
	w.t.Helper()
	m := w.read()
	if m.Type != "error" || m.ID != id {
		w.t.Fatalf("want error of %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var errs []struct {
		Extensions map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 {
		w.t.Fatalf("error payload %s: %v", m.Payload, err)
	}
	code, _ := errs[0].Extensions["code"].(string)
	return code
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// sseStream is an open event stream.
type sseStream struct {
	t      *testing.T
	events chan sseEvent
	cancel context.CancelFunc
}

// openSSE sends a subscription to /graphql/stream with GET. It returns the
// stream when the server answered 200 text/event-stream, else the status
// and the JSON body.
func openSSE(t *testing.T, base string, header http.Header, query string, vars map[string]any) (*sseStream, int, gqlResult) {
	t.Helper()
	q := url.Values{"query": {query}}
	if vars != nil {
		q.Set("variables", string(mustJSON(t, vars)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+graphql.StreamPath+"?"+q.Encode(), nil)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		defer cancel()
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out gqlResult
		_ = json.Unmarshal(b, &out)
		return nil, resp.StatusCode, out
	}
	s := &sseStream{t: t, events: make(chan sseEvent, 16), cancel: cancel}
	t.Cleanup(cancel)
	go func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data:"):
				ev.data = strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	return s, resp.StatusCode, gqlResult{}
}

func (s *sseStream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(liveWait):
		s.t.Fatal("no event")
	}
	return sseEvent{}
}

func (s *sseStream) nextOrder() map[string]any {
	s.t.Helper()
	ev := s.next()
	var res struct {
		Data map[string]map[string]any `json:"data"`
	}
	if ev.name != "next" || json.Unmarshal([]byte(ev.data), &res) != nil {
		s.t.Fatalf("want a next event, got %+v", ev)
	}
	return res.Data["orderUpdated"]
}

// buyerSession registers a buyer and signs them in.
func buyerSession(t *testing.T, acc *account.Service, email string) string {
	t.Helper()
	anon := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	const pw = "a long enough passphrase 42"
	if err := acc.Register(anon, account.Registration{Email: email, Password: pw}); err != nil {
		t.Fatal(err)
	}
	_, sess, err := acc.Login(anon, email, pw)
	if err != nil {
		t.Fatal(err)
	}
	return sess.Token
}

func cookie(token string) http.Header {
	return http.Header{"Cookie": {httpauth.SessionCookie + "=" + token}}
}

// TestOrderSubscription follows orders live through the app's own HTTP
// server on both engines: a guest with the access token over WebSocket
// and over server-sent events sees the order at once and then PAID; staff
// (an API key in connection_init) follow a cancellation to the end of the
// subscription; the wrong token, no token, another buyer, a query over the
// socket and pages of another site are refused.
func TestOrderSubscription(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		w := newOrderWorld(t, ta)
		guest := vars("id", w.ids["#1003"], "token", w.token)
		system := as(authz.SystemSubject("test"))

		t.Run("guest sees PAID over WebSocket and SSE", func(t *testing.T) {
			ws := mustDialWS(t, ta.URL, nil, map[string]any{})
			ws.subscribe("1", orderUpdatedDoc, guest)
			if got := ws.nextOrder("1"); got["paymentStatus"] != "PENDING" || got["number"] != "#1003" {
				t.Fatalf("first: %v", got)
			}
			sse, status, res := openSSE(t, ta.URL, nil, orderUpdatedDoc, guest)
			if sse == nil {
				t.Fatalf("stream: %d %+v", status, res)
			}
			if got := sse.nextOrder(); got["paymentStatus"] != "PENDING" {
				t.Fatalf("first event: %v", got)
			}
			if _, err := ta.Orders.MovePayment(system, order.PaymentMove{OrderID: w.ids["#1003"], From: order.PaymentPending, To: order.PaymentPaid}); err != nil {
				t.Fatal(err)
			}
			if got := ws.nextOrder("1"); got["paymentStatus"] != "PAID" || got["status"] != "OPEN" {
				t.Errorf("over WebSocket after payment: %v", got)
			}
			if got := sse.nextOrder(); got["paymentStatus"] != "PAID" {
				t.Errorf("over SSE after payment: %v", got)
			}
			// The client stops: nothing more comes for that id, and the
			// connection serves on.
			ws.send(wsMsg{ID: "1", Type: "complete"})
			ws.send(wsMsg{Type: "ping"})
			if m := ws.read(); m.Type != "pong" {
				t.Errorf("after complete and ping: %+v", m)
			}
		})

		t.Run("staff follow a cancellation to its end", func(t *testing.T) {
			_, key, err := ta.Accounts.Service.CreateAPIKey(system, "live", authz.RoleDeveloper)
			if err != nil {
				t.Fatal(err)
			}
			ws := mustDialWS(t, ta.URL, nil, map[string]any{"Authorization": "Bearer " + key})
			ws.subscribe("s", orderUpdatedDoc, vars("id", w.ids["#1002"]))
			if got := ws.nextOrder("s"); got["status"] != "OPEN" {
				t.Fatalf("first: %v", got)
			}
			sse, status, res := openSSE(t, ta.URL, http.Header{"Authorization": {"Bearer " + key}}, orderUpdatedDoc, vars("id", w.ids["#1002"]))
			if sse == nil {
				t.Fatalf("stream: %d %+v", status, res)
			}
			sse.nextOrder()
			if _, err := ta.Orders.Cancel(as(ordOwner), order.CancelInput{OrderID: w.ids["#1002"], Reason: "out of stock"}); err != nil {
				t.Fatal(err)
			}
			if got := ws.nextOrder("s"); got["status"] != "CANCELLED" {
				t.Errorf("after cancel: %v", got)
			}
			if m := ws.read(); m.Type != "complete" || m.ID != "s" {
				t.Errorf("after the final state: %+v", m)
			}
			if got := sse.nextOrder(); got["status"] != "CANCELLED" {
				t.Errorf("SSE after cancel: %v", got)
			}
			if ev := sse.next(); ev.name != "complete" {
				t.Errorf("SSE after the final state: %+v", ev)
			}
		})

		t.Run("refusals", func(t *testing.T) {
			eve := buyerSession(t, ta.Accounts.Service, "eve@example.com")
			ws := mustDialWS(t, ta.URL, nil, map[string]any{"authorization": "Bearer " + eve})
			for _, c := range []struct {
				name string
				vars map[string]any
			}{
				{"another order's token", vars("id", w.ids["#1004"], "token", w.token)},
				{"a made-up token", vars("id", w.ids["#1003"], "token", strings.Repeat("A", 43))},
				{"another buyer's order", vars("id", w.ids["#1001"])},
			} {
				ws.subscribe(c.name, orderUpdatedDoc, c.vars)
				if code := ws.errorCode(c.name); code != order.CodeOrderNotFound {
					t.Errorf("%s: %s", c.name, code)
				}
			}
			ws.subscribe("q", `{ serverVersion }`, nil)
			if code := ws.errorCode("q"); code != graphql.CodeSubscriptionsOnly {
				t.Errorf("a query over the socket: %s", code)
			}
			ws.subscribe("invalid", `subscription($id: ID!) { orderUpdated(id: $id) { number nope } }`, vars("id", w.ids["#1001"]))
			if code := ws.errorCode("invalid"); code != graphql.CodeValidationFailed {
				t.Errorf("an invalid document: %s", code)
			}

			guestWS := mustDialWS(t, ta.URL, nil, nil)
			guestWS.subscribe("n", orderUpdatedDoc, vars("id", w.ids["#1003"]))
			if code := guestWS.errorCode("n"); code != order.CodeOrderNotFound {
				t.Errorf("a guest without the token: %s", code)
			}
			if _, status, res := openSSE(t, ta.URL, nil, orderUpdatedDoc, vars("id", w.ids["#1003"])); status != http.StatusNotFound || !res.has(order.CodeOrderNotFound) {
				t.Errorf("SSE without the token: %d %v", status, res.codes())
			}
			if _, status, res := openSSE(t, ta.URL, cookie(eve), orderUpdatedDoc, vars("id", w.ids["#1001"])); status != http.StatusNotFound || !res.has(order.CodeOrderNotFound) {
				t.Errorf("SSE of another buyer's order: %d %v", status, res.codes())
			}
			// A token that opens another order is answered as one that
			// opens none, word for word.
			_, _, other := openSSE(t, ta.URL, nil, orderUpdatedDoc, vars("id", w.ids["#1004"], "token", w.token))
			_, _, madeUp := openSSE(t, ta.URL, nil, orderUpdatedDoc, vars("id", w.ids["#1003"], "token", strings.Repeat("A", 43)))
			if len(other.Errors) != 1 || len(madeUp.Errors) != 1 || other.Errors[0].Message != madeUp.Errors[0].Message {
				t.Errorf("SSE refusals differ: another order's token %+v, a made-up one %+v", other.Errors, madeUp.Errors)
			}

			// POST: to /graphql a subscription is refused, to the stream
			// it is read like GET.
			post := func(path string) (int, gqlResult) {
				body := mustJSON(t, map[string]any{"query": orderUpdatedDoc, "variables": vars("id", w.ids["#1003"])})
				resp, err := http.Post(ta.URL+path, "application/json", strings.NewReader(string(body)))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out gqlResult
				_ = json.NewDecoder(resp.Body).Decode(&out)
				return resp.StatusCode, out
			}
			if _, res := post("/graphql"); !res.has("BAD_REQUEST") {
				t.Errorf("a subscription to POST /graphql: %v", res.codes())
			}
			if status, res := post(graphql.StreamPath); status != http.StatusNotFound || !res.has(order.CodeOrderNotFound) {
				t.Errorf("POST to the stream without the token: %d %v", status, res.codes())
			}

			// A credential in connection_init that signs nobody in.
			bad, _, err := dialWS(t, ta.URL, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			bad.send(wsMsg{Type: "connection_init", Payload: mustJSON(t, map[string]any{"Authorization": "Bearer nope"})})
			if code := bad.closeCode(); code != 4403 {
				t.Errorf("a bad token in connection_init: closed %d", code)
			}

			// Pages of another site get nothing with the buyer's cookie.
			evil := cookie(eve)
			evil.Set("Origin", "http://evil.example")
			if _, resp, err := dialWS(t, ta.URL, evil, nil); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site WebSocket with a cookie: %v %v", err, resp)
			}
			evil.Set("Sec-Fetch-Site", "cross-site")
			if _, status, res := openSSE(t, ta.URL, evil, orderUpdatedDoc, vars("id", w.ids["#1001"])); status != http.StatusForbidden || !res.has(graphql.CodeOriginRefused) {
				t.Errorf("cross-site SSE with a cookie: %d %v", status, res.codes())
			}
			// The shop's own pages connect with the cookie.
			own := cookie(eve)
			own.Set("Origin", ta.URL)
			mustDialWS(t, ta.URL, own, nil)
		})
	})
}

// smallBuffers shrinks the socket buffers of accepted connections, so that
// a client that stops reading makes the server's writes wait at once.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// slowHTTPClient dials with a small receive buffer.
func slowHTTPClient() *http.Client {
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// dropped reads kassa_graphql_live_dropped_total for reason.
func dropped(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	return metricSum(t, reg, "kassa_graphql_live_dropped_total", reason)
}

// openConnections reads kassa_graphql_live_connections, every transport.
func openConnections(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	return metricSum(t, reg, "kassa_graphql_live_connections", "")
}

// metricSum adds up the counters or gauges called name whose first label
// has value label ("" for all).
func metricSum(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// TestLiveLimits runs the transports' limits on a server with small ones,
// over the order service and event listener of a whole app: too many
// subscriptions on a socket, too many connections from one address, no
// connection_init in time, subscribing before it, a message too large,
// a client that stops reading, which is dropped while another follows
// the same order without delay, and the shutdown (1001, then 503).
func TestLiveLimits(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		w := newOrderWorld(t, ta)
		reg := prometheus.NewRegistry()
		quiet := slog.New(slog.DiscardHandler)
		limits := graphql.DefaultLimits
		limits.MaxSelections, limits.MaxQueryBytes = 20000, 128<<10 // for the large results of the slow client
		srv, err := graphql.New(resolver.Services{Catalog: ta.Catalog, Accounts: ta.Accounts.Service, Access: ta.Accounts.Enforcer,
			Orders: ta.Orders, Live: ta.Live}, graphql.Options{Version: "test", Logger: quiet, Registerer: reg, Limits: limits,
			Live: graphql.LiveOptions{Authenticator: ta.Accounts.Service, MaxSubscriptions: 2, MaxConnectionsPerClient: 4,
				InitTimeout: 300 * time.Millisecond, MaxMessageBytes: 128 << 10, QueueLength: 2, WriteTimeout: 300 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		mw := httpauth.Authenticate(ta.Accounts.Service, httpauth.Options{CSRF: httpauth.HeaderCSRF{}, Responder: httpauth.JSON{}})
		mux := http.NewServeMux()
		mux.Handle("/graphql", mw(srv))
		mux.Handle(graphql.StreamPath, mw(srv.StreamHandler()))
		hs := httptest.NewUnstartedServer(mux)
		hs.Listener = smallBuffers{hs.Listener}
		hs.Start()
		t.Cleanup(hs.Close)
		t.Cleanup(srv.CloseLive)
		guest := vars("id", w.ids["#1003"], "token", w.token)

		t.Run("subscriptions per connection", func(t *testing.T) {
			ws := mustDialWS(t, hs.URL, nil, nil)
			ws.subscribe("a", orderUpdatedDoc, guest)
			ws.nextOrder("a")
			ws.subscribe("b", orderUpdatedDoc, guest)
			ws.nextOrder("b")
			ws.subscribe("c", orderUpdatedDoc, guest)
			if code := ws.errorCode("c"); code != graphql.CodeLimitExceeded {
				t.Errorf("a third subscription: %s", code)
			}
			ws.subscribe("a", orderUpdatedDoc, guest)
			if code := ws.closeCode(); code != 4409 {
				t.Errorf("a duplicate id: closed %d", code)
			}
		})

		t.Run("protocol", func(t *testing.T) {
			for _, c := range []struct {
				name string
				do   func(ws *wsClient)
				want websocket.StatusCode
			}{
				{"no connection_init", func(*wsClient) {}, 4408},
				{"subscribe before connection_init", func(ws *wsClient) { ws.subscribe("x", orderUpdatedDoc, guest) }, 4401},
				{"two connection_init", func(ws *wsClient) {
					ws.send(wsMsg{Type: "connection_init"})
					ws.read()
					ws.send(wsMsg{Type: "connection_init"})
				}, 4429},
				{"not a message", func(ws *wsClient) { ws.send(wsMsg{Type: "hello"}) }, 4400},
				// Text that is not UTF-8, which encoding/json would read as
				// U+FFFD: refused like any message that is not one.
				{"an unpaired surrogate", func(ws *wsClient) {
					ws.send(wsMsg{Type: "connection_init"})
					ws.read()
					ws.raw(`{"id":"s","type":"subscribe","payload":{"query":"subscription($id: ID!) { orderUpdated(id: $id) { status } }","variables":{"id":"ord_\ud800"}}}`)
				}, 4400},
				{"bytes that are not UTF-8", func(ws *wsClient) { ws.raw("{\"type\":\"connection_init\",\"payload\":{\"x\":\"\xff\"}}") }, 4400},
				{"too large", func(ws *wsClient) {
					ws.send(wsMsg{Type: "connection_init", Payload: mustJSON(t, map[string]string{"pad": strings.Repeat("x", 130<<10)})})
				}, websocket.StatusMessageTooBig},
			} {
				ws, _, err := dialWS(t, hs.URL, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				c.do(ws)
				if code := ws.closeCode(); code != c.want {
					t.Errorf("%s: closed %d, want %d", c.name, code, c.want)
				}
			}
			// Without the subprotocol the server speaks nothing.
			ctx, cancel := context.WithTimeout(context.Background(), liveWait)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/graphql", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != 4406 {
				t.Errorf("no subprotocol: %v", err)
			}
		})

		// The server ends its side of the connections of the subtests
		// above a moment after they end.
		waitFor(t, func() bool { return openConnections(t, reg) == 0 })
		t.Run("connections per client", func(t *testing.T) {
			for i := range 4 {
				if _, _, err := dialWS(t, hs.URL, nil, nil); err != nil {
					t.Fatalf("connection %d: %v", i+1, err)
				}
			}
			if _, resp, err := dialWS(t, hs.URL, nil, nil); err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("a fifth connection: %v %v", err, resp)
			}
			if _, status, res := openSSE(t, hs.URL, nil, orderUpdatedDoc, guest); status != http.StatusTooManyRequests || !res.has(graphql.CodeLimitExceeded) {
				t.Errorf("a fifth connection as a stream: %d %v", status, res.codes())
			}
		})
		waitFor(t, func() bool { return openConnections(t, reg) == 0 })

		t.Run("a slow client is dropped, the others go on", func(t *testing.T) {
			// Each result of this document is tens of kilobytes: more
			// than the small socket buffers hold.
			var fat strings.Builder
			fat.WriteString(`subscription($id: ID!, $token: String) { orderUpdated(id: $id, token: $token) { paymentStatus `)
			for i := range 80 {
				fmt.Fprintf(&fat, "l%d: lines { id variantId productId sku productTitle variantTitle weightGrams quantity quantityShipped "+
					"unitPrice { amount currencyCode } subtotal { amount currencyCode } discount { amount currencyCode } "+
					"tax { amount currencyCode } total { amount currencyCode } } ", i)
			}
			fat.WriteString("} }")
			slow, resp, err := dialWS(t, hs.URL, nil, slowHTTPClient())
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			slow.send(wsMsg{Type: "connection_init"})
			slow.subscribe("fat", fat.String(), guest)
			// slow reads nothing from now on.
			fast := mustDialWS(t, hs.URL, nil, nil)
			fast.subscribe("f", orderUpdatedDoc, guest)
			first := fast.nextOrder("f")
			if _, err := ta.Orders.MovePayment(as(authz.SystemSubject("test")), order.PaymentMove{OrderID: w.ids["#1003"],
				From: order.PaymentPending, To: order.PaymentFailed}); err != nil {
				t.Fatal(err)
			}
			if got := fast.nextOrder("f"); got["paymentStatus"] != "FAILED" {
				t.Errorf("the fast client after the move: %v (first %v)", got, first)
			}
			waitFor(t, func() bool { return dropped(t, reg, "slow") >= 1 })
			// The slow client finds its connection ended after what had
			// left before the drop.
			_, err = slow.readErr()
			for err == nil {
				_, err = slow.readErr()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("the slow connection is still open: %v", err)
			}
		})

		t.Run("shutdown", func(t *testing.T) {
			ws := mustDialWS(t, hs.URL, nil, nil)
			ws.subscribe("s", orderUpdatedDoc, guest)
			ws.nextOrder("s")
			srv.CloseLive()
			if code := ws.closeCode(); code != websocket.StatusGoingAway {
				t.Errorf("open at shutdown: closed %d", code)
			}
			if _, resp, err := dialWS(t, hs.URL, nil, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("connecting after shutdown: %v %v", err, resp)
			}
		})
	})
}

// waitFor polls cond for up to liveWait.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(liveWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
