package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/httpauth"
)

// Accounts are an instance's permission system and accounts service.
type Accounts struct {
	// Enforcer is the Casbin authorizer every service checks with.
	Enforcer *authz.Enforcer
	// Service holds buyers, staff, sessions and API keys.
	Service *account.Service
}

// AccountsOptions are what NewAccounts needs besides the database.
type AccountsOptions struct {
	// Bus carries policy change notices between instances (nil: one
	// instance, no notices).
	Bus events.Bus
	// Outbox receives the accounts' events (nil drops them).
	Outbox *events.Outbox
	// Logger receives the components' logs.
	Logger *slog.Logger
}

// NewAccounts builds the Casbin enforcer (seeding the default roles and
// policy where missing, and listening on the bus so a policy change made
// on any instance reloads this one) and the accounts service. Close
// stops the enforcer's listener.
func NewAccounts(ctx context.Context, db *store.DB, opts AccountsOptions) (*Accounts, error) {
	var w *authz.Watcher
	if opts.Bus != nil || opts.Outbox != nil {
		var err error
		if w, err = authz.NewWatcher(busBroadcaster{bus: opts.Bus, outbox: opts.Outbox, log: opts.Logger}, opts.Logger); err != nil {
			return nil, err
		}
	}
	aopts := authz.Options{Logger: opts.Logger}
	if w != nil {
		aopts.Watcher = w
	}
	enf, err := authz.NewEnforcer(ctx, db, aopts)
	if err != nil {
		if w != nil {
			w.Close()
		}
		return nil, err
	}
	// Single-use tokens leave through the accounts' events only: the
	// notification dispatcher mails them, or in development logs the
	// links no channel delivered.
	var outbox account.Outbox = dropEvents{}
	if opts.Outbox != nil { // not a nil *events.Outbox in the interface
		outbox = opts.Outbox
	}
	svc, err := account.NewService(db, account.Options{Authz: enf, Outbox: outbox, Logger: opts.Logger})
	if err != nil {
		enf.Close()
		return nil, err
	}
	return &Accounts{Enforcer: enf, Service: svc}, nil
}

// dropEvents is the accounts' outbox when AccountsOptions has none (a
// test of the permission wiring alone): their events go nowhere.
type dropEvents struct{}

func (dropEvents) Add(context.Context, events.Event) error { return nil }

// Close stops the enforcer's reloads and its watcher.
func (a *Accounts) Close() { a.Enforcer.Close() }

// Middleware returns the HTTP middleware that authenticates each request
// (session cookie, bearer token or API key) and applies the mount's CSRF
// strategy, answering refusals with the mount's responder: /graphql uses
// httpauth.HeaderCSRF and httpauth.JSON. secureCookies marks the session
// cookie Secure even on plain HTTP (set it when a TLS-terminating proxy is
// in front); trustProxy reads the client address from X-Forwarded-For.
func (a *Accounts) Middleware(log *slog.Logger, secureCookies, trustProxy bool, csrf httpauth.CSRF, answer httpauth.Responder) func(http.Handler) http.Handler {
	return httpauth.Authenticate(a.Service, httpauth.Options{SecureCookies: secureCookies, TrustProxy: trustProxy, Logger: log, CSRF: csrf, Responder: answer})
}

// AnnounceOwnerSetup prints a one-time owner setup token to w when the shop
// has no owner yet, with how to use it; it prints nothing otherwise. Call
// it at `kassa serve` start-up, after the server listens. The token is
// printed where the operator reads the start-up, never through the
// logger (whose level could hide it). With jsonLines, as with
// KASSA_LOG_FORMAT=json, it is one JSON object shaped as the log's lines,
// so that a collector reading them all as JSON does not trip on text.
func (a *Accounts) AnnounceOwnerSetup(ctx context.Context, w io.Writer, baseURL string, jsonLines bool) error {
	ctx = authz.WithSubject(ctx, authz.SystemSubject("owner-setup"))
	token, err := a.Service.IssueOwnerSetupToken(ctx)
	if err != nil {
		return fmt.Errorf("issue owner setup token: %w", err)
	}
	if token == "" {
		return nil
	}
	link := strings.TrimSuffix(baseURL, "/") + "/admin/setup?token=" + url.QueryEscape(token)
	if jsonLines {
		return json.NewEncoder(w).Encode(map[string]string{
			"time":      time.Now().Format(time.RFC3339Nano),
			"level":     "WARN",
			"msg":       "this shop has no owner yet: open setup_url (one-time, valid 24 hours; a new one at each start until an owner exists), or run kassa user create-owner",
			"component": "customer",
			"setup_url": link,
		})
	}
	_, err = fmt.Fprintf(w, `
This shop has no owner yet. Open this one-time link to create one (valid
24 hours; a new one is printed at each start until an owner exists):

    %s

or use the token %s
in GraphQL:  mutation { staffSetupOwner(input: {token: "<token>", email: "you@example.com", password: "…"}) { userErrors { code message } } }
or instead:  kassa user create-owner --email you@example.com

`, link, token)
	return err
}

// busBroadcaster carries the authz watcher's notices over the event bus:
// sent through the outbox when there is one (so a change made by a command
// line run, which has no bus of its own, reaches the running servers once
// their relay publishes it), received with a non-durable Listen so every
// instance gets each notice.
type busBroadcaster struct {
	bus    events.Bus
	outbox *events.Outbox
	log    *slog.Logger
}

func (b busBroadcaster) Broadcast(ctx context.Context, subject string, data []byte) error {
	e, err := events.New(subject, json.RawMessage(data))
	if err != nil {
		return err
	}
	e.Actor = "system:authz"
	if b.outbox != nil {
		return b.outbox.Add(ctx, e)
	}
	return b.bus.Publish(ctx, e)
}

func (b busBroadcaster) Listen(subject string, fn func([]byte)) (func(), error) {
	if b.bus == nil {
		return func() {}, nil // offline: nothing to receive
	}
	sub, err := b.bus.Listen(context.Background(), subject, func(_ context.Context, e events.Event) error {
		fn(e.Payload)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func() {
		if err := sub.Stop(); err != nil && b.log != nil {
			b.log.Warn("stop policy listener", "component", "authz", "err", err)
		}
	}, nil
}
