package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/httpauth"
)

// The findings these tests replay: an open WebSocket or event stream kept
// the credentials and roles it was opened with. A staff member disabled or
// demoted, a revoked API key, a buyer who signed out could start new
// orderUpdated subscriptions on a socket opened before, and running ones
// kept sending the order.

// liveWho is one way of signing in to a live connection, and the order
// it may follow.
type liveWho struct {
	header http.Header
	init   map[string]any
	vars   map[string]any
}

// liveAccess is a shop for the access tests: orders, an owner, a
// developer (order:read) and roles without order:read.
type liveAccess struct {
	t     *testing.T
	ta    *testkit.TestApp
	w     *orderWorld
	owner context.Context
	// quiet is a server on the same app that hears of no account change
	// (no live.Access): only the check of every new subscription, the
	// session's expiry and the periodic check protect its connections.
	quiet string
	n     int
}

func newLiveAccess(t *testing.T, ta *testkit.TestApp) *liveAccess {
	t.Helper()
	e := &liveAccess{t: t, ta: ta, w: newOrderWorld(t, ta)}
	ownerID, _ := e.staff("owner", authz.RoleOwner)
	e.owner = as(authz.Subject{Kind: authz.KindStaff, ID: ownerID, Roles: []string{authz.RoleOwner}, Store: authz.DefaultStore})
	for name, perms := range map[string][]authz.Permission{
		"catalog": {{Object: authz.Product, Action: authz.Read}},
		"reader":  {{Object: authz.Order, Action: authz.Read}},
	} {
		if _, err := ta.Accounts.Enforcer.CreateRole(e.owner, authz.RoleInput{Name: name, Permissions: perms}); err != nil {
			t.Fatal(err)
		}
	}
	e.quiet = serveWithoutNotices(t, ta, 0)
	return e
}

// serveWithoutNotices serves the app's services on a GraphQL server of its
// own that hears of no account change; every is its RecheckInterval (0:
// the default).
func serveWithoutNotices(t *testing.T, ta *testkit.TestApp, every time.Duration) string {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	srv, err := graphql.New(resolver.Services{Catalog: ta.Catalog, Accounts: ta.Accounts.Service, Access: ta.Accounts.Enforcer,
		Plugins: ta.Plugins, Deliveries: ta.Deliveries, Shop: ta.Settings.Shop, Shipping: ta.Settings.Shipping, Tax: ta.Settings.Tax,
		Carts: ta.Checkout.Carts, RunInTx: ta.DB.RunInTx, Orders: ta.Orders, Payments: ta.Payments, Live: ta.Live},
		graphql.Options{Version: "test", Logger: quiet, Live: graphql.LiveOptions{Authenticator: ta.Accounts.Service, RecheckInterval: every}})
	if err != nil {
		t.Fatal(err)
	}
	auth := httpauth.Authenticate(ta.Accounts.Service, httpauth.Options{Logger: quiet})
	mux := http.NewServeMux()
	mux.Handle("/graphql", auth(srv))
	mux.Handle(graphql.StreamPath, auth(srv.StreamHandler()))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	t.Cleanup(srv.CloseLive) // before Close, which waits for open streams
	return hs.URL
}

// staff creates a staff member with roles and signs them in: their id
// and session token.
func (e *liveAccess) staff(name string, roles ...string) (string, string) {
	e.t.Helper()
	e.n++
	email := name + "." + string(rune('a'+e.n)) + "@shop.example"
	password := "passphrase of " + email
	sys := as(authz.SystemSubject("test"))
	m, err := e.ta.Accounts.Service.CreateOwner(sys, account.NewStaff{Email: email, Name: name, Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.ta.Accounts.Service.UpdateStaff(sys, m.ID, account.StaffUpdate{Roles: &roles}); err != nil {
		e.t.Fatal(err)
	}
	return m.ID, e.login(email, password)
}

func (e *liveAccess) login(email, password string) string {
	e.t.Helper()
	_, sess, err := e.ta.Accounts.Service.StaffLogin(as(authz.AnonymousSubject()), email, password)
	if err != nil {
		e.t.Fatal(err)
	}
	return sess.Token
}

// buyer registers a buyer, signs them in and makes order #1004 theirs:
// their id and session token.
func (e *liveAccess) buyer() (string, string) {
	e.t.Helper()
	e.n++
	token := buyerSession(e.t, e.ta.Accounts.Service, "buyer"+string(rune('a'+e.n))+"@example.com")
	sub, err := e.ta.Accounts.Service.Authenticate(context.Background(), token)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.ta.DB.NewRaw("UPDATE orders SET customer_id = ? WHERE id = ?", sub.ID, e.w.ids["#1004"]).Exec(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return sub.ID, token
}

// sessionOf is the subject a session token signs in.
func (e *liveAccess) sessionOf(token string) context.Context {
	e.t.Helper()
	sub, err := e.ta.Accounts.Service.Authenticate(context.Background(), token)
	if err != nil {
		e.t.Fatal(err)
	}
	return as(sub)
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// accessCase is one way of losing access to an order followed live.
type accessCase struct {
	name string
	// open signs somebody in who may follow an order; revoke takes that
	// away.
	open   func(e *liveAccess) (liveWho, func())
	lost   accessLoss
	viaSSE bool
}

// accessLoss is what a caller loses.
type accessLoss int

const (
	// credentialEnds: the credential signs nobody in any more. A socket
	// is closed 4401, a stream ends.
	credentialEnds accessLoss = iota
	// permissionLost: the credential still signs in, with roles that no
	// longer see the order. A running subscription completes, new ones
	// are refused.
	permissionLost
)

func accessCases() []accessCase {
	return []accessCase{
		{name: "disabled staff", viaSSE: true, lost: credentialEnds, open: func(e *liveAccess) (liveWho, func()) {
			id, token := e.staff("dev", authz.RoleDeveloper)
			return liveWho{header: bearer(token), vars: vars("id", e.w.ids["#1001"])}, func() {
				if _, _, err := e.ta.Accounts.Service.DisableStaff(e.owner, id); err != nil {
					e.t.Fatal(err)
				}
			}
		}},
		{name: "demoted staff", viaSSE: true, lost: permissionLost, open: func(e *liveAccess) (liveWho, func()) {
			id, token := e.staff("dev", authz.RoleDeveloper)
			return liveWho{header: bearer(token), vars: vars("id", e.w.ids["#1001"])}, func() {
				roles := []string{"catalog"}
				if _, err := e.ta.Accounts.Service.UpdateStaff(e.owner, id, account.StaffUpdate{Roles: &roles}); err != nil {
					e.t.Fatal(err)
				}
			}
		}},
		{name: "role loses order:read", lost: permissionLost, open: func(e *liveAccess) (liveWho, func()) {
			_, token := e.staff("clerk", "reader")
			return liveWho{header: bearer(token), vars: vars("id", e.w.ids["#1002"])}, func() {
				perms := []authz.Permission{{Object: authz.Product, Action: authz.Read}}
				if _, err := e.ta.Accounts.Enforcer.UpdateRole(e.owner, "reader", authz.RoleUpdate{Permissions: &perms}); err != nil {
					e.t.Fatal(err)
				}
			}
		}},
		{name: "staff password changed elsewhere", lost: credentialEnds, open: func(e *liveAccess) (liveWho, func()) {
			_, token := e.staff("pat", authz.RoleDeveloper)
			return liveWho{init: map[string]any{"Authorization": "Bearer " + token}, vars: vars("id", e.w.ids["#1001"])}, func() {
				sub := authz.SubjectFrom(e.sessionOf(token))
				var email string
				if err := e.ta.DB.NewRaw("SELECT email FROM staff_members WHERE id = ?", sub.ID).Scan(context.Background(), &email); err != nil {
					e.t.Fatal(err)
				}
				other := e.sessionOf(e.login(email, "passphrase of "+email))
				if err := e.ta.Accounts.Service.ChangeStaffPassword(other, "passphrase of "+email, "a brand new passphrase 77"); err != nil {
					e.t.Fatal(err)
				}
			}
		}},
		{name: "revoked API key", viaSSE: true, lost: credentialEnds, open: func(e *liveAccess) (liveWho, func()) {
			k, secret, err := e.ta.Accounts.Service.CreateAPIKey(e.owner, "live", authz.RoleDeveloper)
			if err != nil {
				e.t.Fatal(err)
			}
			return liveWho{header: http.Header{httpauth.APIKeyHeader: {secret}}, vars: vars("id", e.w.ids["#1001"])}, func() {
				if _, err := e.ta.Accounts.Service.RevokeAPIKey(e.owner, k.ID); err != nil {
					e.t.Fatal(err)
				}
			}
		}},
		{name: "API key in connection_init, its creator disabled", lost: credentialEnds, open: func(e *liveAccess) (liveWho, func()) {
			id, token := e.staff("lead", authz.RoleDeveloper)
			_, secret, err := e.ta.Accounts.Service.CreateAPIKey(e.sessionOf(token), "lead's", authz.RoleDeveloper)
			if err != nil {
				e.t.Fatal(err)
			}
			return liveWho{init: map[string]any{"X-Kassa-Api-Key": secret}, vars: vars("id", e.w.ids["#1001"])}, func() {
				if _, _, err := e.ta.Accounts.Service.DisableStaff(e.owner, id); err != nil {
					e.t.Fatal(err)
				}
			}
		}},
		{name: "buyer signed out", viaSSE: true, lost: credentialEnds, open: func(e *liveAccess) (liveWho, func()) {
			_, token := e.buyer()
			return liveWho{header: cookie(token), vars: vars("id", e.w.ids["#1004"])}, func() {
				// As a browser signs out: the logout mutation with the
				// cookie.
				body := mustJSON(e.t, map[string]any{"query": `mutation { logout { loggedOut } }`})
				req, _ := http.NewRequest(http.MethodPost, e.ta.URL+"/graphql", bytes.NewReader(body))
				req.Header = cookie(token)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(httpauth.CSRFHeader, "1")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					e.t.Fatal(err)
				}
				defer resp.Body.Close()
				var out gqlResult
				_ = json.NewDecoder(resp.Body).Decode(&out)
				if resp.StatusCode != http.StatusOK || out.Data["logout"] == nil || len(out.Errors) > 0 {
					e.t.Fatalf("logout: %d %v %v", resp.StatusCode, out.Data, out.codes())
				}
			}
		}},
		{name: "buyer erased", lost: credentialEnds, open: func(e *liveAccess) (liveWho, func()) {
			id, token := e.buyer()
			return liveWho{header: bearer(token), vars: vars("id", e.w.ids["#1004"])}, func() {
				if _, err := e.ta.Accounts.Service.Erase(e.owner, id, ""); err != nil {
					e.t.Fatal(err)
				}
			}
		}},
	}
}

// TestLiveConnectionsFollowAccess replays the finding over WebSocket on
// both engines: after each way of losing access, a subscription that was
// running ends (the socket closed 4401 when the credential signs nobody
// in, the subscription completed when the roles lost the order), and a
// socket opened before the change starts no new subscription, even on a
// server that hears of no account change (the credential is checked
// again on every subscribe).
func TestLiveConnectionsFollowAccess(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		e := newLiveAccess(t, ta)
		for _, c := range accessCases() {
			t.Run(c.name, func(t *testing.T) {
				e.t = t
				who, revoke := c.open(e)
				running := mustDialWS(t, ta.URL, who.header, who.init)
				running.subscribe("run", orderUpdatedDoc, who.vars)
				if got := running.nextOrder("run"); got["number"] == nil {
					t.Fatalf("before: %v", got)
				}
				idle := mustDialWS(t, e.quiet, who.header, who.init)
				// On the same socket, a subscription before the change runs.
				idle.subscribe("before", orderUpdatedDoc, who.vars)
				idle.nextOrder("before")
				idle.send(wsMsg{ID: "before", Type: "complete"})

				revoke()

				switch c.lost {
				case credentialEnds:
					if code := running.closedWithoutData(); code != 4401 {
						t.Errorf("the running subscription's socket: closed %d, want 4401", code)
					}
					idle.trySubscribe("after", orderUpdatedDoc, who.vars)
					if code := idle.closedWithoutData(); code != 4401 {
						t.Errorf("a new subscription on a socket opened before: closed %d, want 4401", code)
					}
				case permissionLost:
					if m := running.read(); m.Type != "complete" || m.ID != "run" {
						t.Errorf("the running subscription: got %s %s %s, want complete", m.Type, m.ID, m.Payload)
					}
					for name, ws := range map[string]*wsClient{"the same socket": running, "a socket opened before": idle} {
						ws.subscribe("after", orderUpdatedDoc, who.vars)
						if code := ws.errorCode("after"); code != "FORBIDDEN" {
							t.Errorf("a new subscription on %s: %s, want FORBIDDEN", name, code)
						}
					}
				}
			})
		}
	})
}

// TestEventStreamsFollowAccess: an event stream running when its caller
// loses access ends (without complete when the credential ended, with
// it when the roles lost the order), on both engines; the same request
// made again is refused.
func TestEventStreamsFollowAccess(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		e := newLiveAccess(t, ta)
		for _, c := range accessCases() {
			if !c.viaSSE {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				e.t = t
				who, revoke := c.open(e)
				sse, status, res := openSSE(t, ta.URL, who.header, orderUpdatedDoc, who.vars)
				if sse == nil {
					t.Fatalf("stream: %d %v", status, res.codes())
				}
				sse.nextOrder()

				revoke()

				switch c.lost {
				case credentialEnds:
					sse.endsWithout("complete")
					if again, status, res := openSSE(t, ta.URL, who.header, orderUpdatedDoc, who.vars); again != nil || status < 400 {
						t.Errorf("the stream opened again: %d %v", status, res.codes())
					}
				case permissionLost:
					sse.endsWith("complete")
					if _, status, res := openSSE(t, ta.URL, who.header, orderUpdatedDoc, who.vars); status != http.StatusForbidden {
						t.Errorf("the stream opened again: %d %v", status, res.codes())
					}
				}
			})
		}
	})
}

// TestLiveAccessAcrossInstances: access taken away on another instance
// (its own accounts service and outbox on the same database: only the
// relay and the bus bring the news) ends the connections open here.
func TestLiveAccessAcrossInstances(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		e := newLiveAccess(t, ta)
		disabledID, disabledToken := e.staff("dev", authz.RoleDeveloper)
		demotedID, demotedToken := e.staff("dev", authz.RoleDeveloper)
		other, err := app.NewAccounts(context.Background(), ta.DB, app.AccountsOptions{Outbox: events.NewOutbox(ta.DB), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(other.Close)
		ownerElsewhere := authz.SubjectFrom(e.owner)

		disabled := mustDialWS(t, ta.URL, bearer(disabledToken), nil)
		disabled.subscribe("run", orderUpdatedDoc, vars("id", e.w.ids["#1001"]))
		disabled.nextOrder("run")
		demoted := mustDialWS(t, ta.URL, bearer(demotedToken), nil)
		demoted.subscribe("run", orderUpdatedDoc, vars("id", e.w.ids["#1001"]))
		demoted.nextOrder("run")

		if _, _, err := other.Service.DisableStaff(as(ownerElsewhere), disabledID); err != nil {
			t.Fatal(err)
		}
		roles := []string{"catalog"}
		if _, err := other.Service.UpdateStaff(as(ownerElsewhere), demotedID, account.StaffUpdate{Roles: &roles}); err != nil {
			t.Fatal(err)
		}
		if code := disabled.closedWithoutData(); code != 4401 {
			t.Errorf("disabled elsewhere: closed %d, want 4401", code)
		}
		if m := demoted.read(); m.Type != "complete" || m.ID != "run" {
			t.Errorf("demoted elsewhere: got %s %s %s, want complete", m.Type, m.ID, m.Payload)
		}
	})
}

// TestLiveSessionExpiry: a connection ends when its session expires,
// though nothing told it.
func TestLiveSessionExpiry(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		e := newLiveAccess(t, ta)
		id, token := e.staff("dev", authz.RoleDeveloper)
		if _, err := ta.DB.NewRaw("UPDATE sessions SET expires_at = ? WHERE principal_id = ?", time.Now().UTC().Add(2*time.Second), id).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		ws := mustDialWS(t, ta.URL, bearer(token), nil)
		ws.subscribe("run", orderUpdatedDoc, vars("id", e.w.ids["#1001"]))
		ws.nextOrder("run")
		sse, status, res := openSSE(t, ta.URL, bearer(token), orderUpdatedDoc, vars("id", e.w.ids["#1001"]))
		if sse == nil {
			t.Fatalf("stream: %d %v", status, res.codes())
		}
		sse.nextOrder()
		if code := ws.closedWithoutData(); code != 4401 {
			t.Errorf("socket: closed %d, want 4401", code)
		}
		sse.endsWithout("complete")
	})
}

// TestLiveRecheckWithoutNotice: a credential revoked behind Kassa's back
// (no event: an operator's SQL) ends the connections within the
// RecheckInterval.
func TestLiveRecheckWithoutNotice(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		e := newLiveAccess(t, ta)
		url := serveWithoutNotices(t, ta, 300*time.Millisecond)
		k, secret, err := ta.Accounts.Service.CreateAPIKey(e.owner, "script", authz.RoleDeveloper)
		if err != nil {
			t.Fatal(err)
		}
		ws := mustDialWS(t, url, nil, map[string]any{"Authorization": "Bearer " + secret})
		ws.subscribe("run", orderUpdatedDoc, vars("id", e.w.ids["#1001"]))
		ws.nextOrder("run")
		if _, err := ta.DB.NewRaw("UPDATE api_keys SET revoked_at = ? WHERE id = ?", time.Now().UTC(), k.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if code := ws.closedWithoutData(); code != 4401 {
			t.Errorf("socket: closed %d, want 4401", code)
		}
	})
}

// closedWithoutData reads until the server closes the connection, failing
// on any result sent meanwhile, and returns the close code (-1 when
// nothing came within liveWait).
func (w *wsClient) closedWithoutData() websocket.StatusCode {
	w.t.Helper()
	for {
		m, err := w.readErr()
		if err != nil {
			return websocket.CloseStatus(err)
		}
		if m.Type == "next" {
			w.t.Errorf("sent after access ended: %s %s", m.ID, m.Payload)
		}
	}
}

// trySubscribe sends a subscribe message to a socket the server may be
// closing already.
func (w *wsClient) trySubscribe(id, query string, vars map[string]any) {
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	_ = w.c.Write(ctx, websocket.MessageText, mustJSON(w.t, wsMsg{ID: id, Type: "subscribe",
		Payload: mustJSON(w.t, map[string]any{"query": query, "variables": vars})}))
}

// endsWith waits for the stream to end with the event named last (""
// for none), failing on any result sent meanwhile.
func (s *sseStream) endsWith(last string) {
	s.t.Helper()
	got := ""
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				if got != last {
					s.t.Errorf("the stream ended after %q, want %q", got, last)
				}
				return
			}
			if ev.name == "next" {
				s.t.Errorf("sent after access ended: %s", ev.data)
			}
			got = ev.name
		case <-time.After(liveWait):
			s.t.Fatal("the stream goes on")
		}
	}
}

// endsWithout waits for the stream to end without the event named.
func (s *sseStream) endsWithout(name string) {
	s.t.Helper()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			if ev.name == "next" || ev.name == name {
				s.t.Errorf("sent after access ended: %s %s", ev.name, ev.data)
			}
		case <-time.After(liveWait):
			s.t.Fatal("the stream goes on")
		}
	}
}
