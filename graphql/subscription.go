package graphql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gqlgo "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/graphql/live"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/httpauth"
)

// LiveOptions configure the two transports of subscriptions: WebSocket
// (the graphql-transport-ws protocol, on /graphql) and server-sent events
// (StreamHandler). Zero fields take the defaults of DefaultLiveOptions.
type LiveOptions struct {
	// Authenticator resolves the credentials a WebSocket client sends in
	// its connection_init payload (a session token or an API key, as the
	// Authorization and X-Kassa-Api-Key headers carry them over HTTP).
	// Nil refuses such credentials: only those of the upgrade request
	// (the session cookie, a header) count.
	Authenticator httpauth.Authenticator
	// Access tells the connections open on this instance that their
	// caller's access may have changed (a disabled member, a revoked
	// key, a logout, changed roles), on any instance: each then checks
	// its credential again at once. Nil leaves the checks to new
	// WebSocket subscriptions, session expiry and RecheckInterval.
	Access *live.Access
	// RecheckInterval is how often a connection signed in with a
	// credential checks it again even without a notice, in case one was
	// lost: the longest a revoked credential can outlive its notice.
	RecheckInterval time.Duration
	// AllowedOrigins are the origins ("https://shop.example.com"), besides
	// the request's own host, whose pages may open a WebSocket, or an
	// event stream with the buyer's cookie. Every other page is refused,
	// so that a page elsewhere cannot follow a buyer's orders with the
	// buyer's cookie (cross-site WebSocket hijacking).
	AllowedOrigins []string
	// InitTimeout is how long a WebSocket may stay open without
	// connection_init (closed 4408 after it).
	InitTimeout time.Duration
	// MaxSubscriptions caps the subscriptions running at once on one
	// WebSocket; one more is answered with an error of code
	// LIMIT_EXCEEDED.
	MaxSubscriptions int
	// MaxMessageBytes caps one message a WebSocket client sends (closed
	// 1009 above it).
	MaxMessageBytes int64
	// PingInterval is how often the server pings a WebSocket (and sends a
	// heartbeat comment on an event stream); a WebSocket that does not
	// answer within PingTimeout is closed.
	PingInterval time.Duration
	// PingTimeout: see PingInterval.
	PingTimeout time.Duration
	// WriteTimeout is how long one message may take to leave; a client
	// slower than that is dropped.
	WriteTimeout time.Duration
	// QueueLength is how many messages may wait for a slow client; one
	// more drops the client, so it never holds up anyone else.
	QueueLength int
	// MaxConnectionsPerClient caps the WebSockets and event streams open
	// at once from one client address (HTTP 429 above it).
	MaxConnectionsPerClient int
}

// DefaultLiveOptions are the limits of subscriptions when none are given.
var DefaultLiveOptions = LiveOptions{
	InitTimeout:             10 * time.Second,
	MaxSubscriptions:        20,
	MaxMessageBytes:         64 << 10,
	PingInterval:            25 * time.Second,
	PingTimeout:             15 * time.Second,
	WriteTimeout:            10 * time.Second,
	QueueLength:             32,
	MaxConnectionsPerClient: 50,
	RecheckInterval:         5 * time.Minute,
}

// Codes of the live transports.
const (
	// CodeOriginRefused: a page of another site tried to open a WebSocket
	// or a cookie-authenticated event stream.
	CodeOriginRefused = "ORIGIN_REFUSED"
	// CodeLimitExceeded: too many connections from the client, or too
	// many subscriptions on one WebSocket.
	CodeLimitExceeded = "LIMIT_EXCEEDED"
	// CodeSubscriptionsOnly: a query or mutation sent over a live
	// transport; send it with POST /graphql.
	CodeSubscriptionsOnly = "SUBSCRIPTIONS_ONLY"
)

// Why a live connection ends, as causes of its context.
var (
	errShutdown = errors.New("server shutting down")
	// errCredentialEnded: the credential of the connection signs nobody
	// in any more (or could not be checked).
	errCredentialEnded = errors.New("credential ended")
	errSlow            = errors.New("client too slow")
)

// withLiveDefaults fills the zero fields of o.
func withLiveDefaults(o LiveOptions) LiveOptions {
	d := DefaultLiveOptions
	if o.InitTimeout <= 0 {
		o.InitTimeout = d.InitTimeout
	}
	if o.MaxSubscriptions <= 0 {
		o.MaxSubscriptions = d.MaxSubscriptions
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = d.MaxMessageBytes
	}
	if o.PingInterval <= 0 {
		o.PingInterval = d.PingInterval
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = d.PingTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = d.WriteTimeout
	}
	if o.QueueLength <= 0 {
		o.QueueLength = d.QueueLength
	}
	if o.MaxConnectionsPerClient <= 0 {
		o.MaxConnectionsPerClient = d.MaxConnectionsPerClient
	}
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = d.RecheckInterval
	}
	return o
}

// liveState is what the server knows of its open live connections: how
// many per client address, and how to end them all at shutdown.
type liveState struct {
	opts    LiveOptions
	origins map[string]bool

	mu     sync.Mutex
	perIP  map[string]int
	conns  map[*int]context.CancelCauseFunc
	closed bool

	open    *prometheus.GaugeVec
	dropped *prometheus.CounterVec
}

func newLiveState(o LiveOptions, reg prometheus.Registerer) (*liveState, error) {
	o = withLiveDefaults(o)
	l := &liveState{opts: o, origins: map[string]bool{}, perIP: map[string]int{}, conns: map[*int]context.CancelCauseFunc{},
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kassa_graphql_live_connections",
			Help: "Open GraphQL subscription connections by transport (ws, sse).",
		}, []string{"transport"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kassa_graphql_live_dropped_total",
			Help: "GraphQL subscription connections the server ended, by reason (slow, ping, limit, origin, credential).",
		}, []string{"reason"}),
	}
	for _, raw := range o.AllowedOrigins {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("allowed origin %q: want scheme://host[:port]", raw)
		}
		l.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{l.open, l.dropped} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register graphql live metrics: %w", err)
			}
		}
	}
	return l, nil
}

// admit opens a live connection for the client of r: a context that ends
// when CloseLive is called (cause errShutdown) or release is, and the
// release to call when the connection ends. It refuses a client over its
// connection limit, and everyone once the server is closing.
func (l *liveState) admit(r *http.Request, transport string) (context.Context, context.CancelCauseFunc, func(), *Error) {
	ip := account.ClientFrom(r.Context()).IP
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, nil, &Error{Message: "the server is shutting down; connect again", Extensions: map[string]any{"code": "UNAVAILABLE"}}
	}
	if l.perIP[ip] >= l.opts.MaxConnectionsPerClient {
		l.dropped.WithLabelValues("limit").Inc()
		return nil, nil, nil, &Error{Message: fmt.Sprintf("at most %d live connections per client", l.opts.MaxConnectionsPerClient),
			Extensions: map[string]any{"code": CodeLimitExceeded, "limit": l.opts.MaxConnectionsPerClient}}
	}
	l.perIP[ip]++
	// The request's context ends with the request, which for a WebSocket
	// is the moment it was hijacked; its values (the subject, the client)
	// live on in this one.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
	key := new(int)
	l.conns[key] = cancel
	l.open.WithLabelValues(transport).Inc()
	var once sync.Once
	release := func() {
		once.Do(func() {
			cancel(context.Canceled)
			l.mu.Lock()
			defer l.mu.Unlock()
			delete(l.conns, key)
			if l.perIP[ip]--; l.perIP[ip] <= 0 {
				delete(l.perIP, ip)
			}
			l.open.WithLabelValues(transport).Dec()
		})
	}
	return ctx, cancel, release, nil
}

// CloseLive ends every WebSocket (status 1001, going away) and event
// stream (without a complete event, so that clients connect again,
// perhaps to another instance) and refuses new ones. The app calls it when
// the HTTP server shuts down: hijacked WebSockets and endless streams
// would otherwise keep it waiting.
func (s *Server) CloseLive() {
	l := s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, cancel := range l.conns {
		cancel(errShutdown)
	}
}

// originAllowed reports whether a browser page of the request's Origin
// may open a live connection: no Origin (not a browser's cross-origin
// request), the request's own host, or an allowed origin.
func (l *liveState) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // "null": a sandboxed frame, a file
	}
	return strings.EqualFold(u.Host, r.Host) || l.origins[strings.ToLower(u.Scheme+"://"+u.Host)]
}

// sameSite reports whether a request comes from a page of the shop
// itself, as the browser says: Origin (sent with cross-origin requests)
// allowed, and Sec-Fetch-Site, when sent, same-origin or none (typed in).
// A request with neither header is no browser's cross-site request.
func (l *liveState) sameSite(r *http.Request) bool {
	if !l.originAllowed(r) {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	case "same-site", "cross-site":
		return r.Header.Get("Origin") != "" // judged by Origin above
	}
	return false
}

// Subscribe starts one subscription in-process with the caller in ctx,
// after the checks every document passes (length, syntax, names, cost,
// control characters) and the per-client budget of guests and buyers.
// A refused document is answered at once (the channel is nil); otherwise
// the channel carries each result until the subscription ends, and is
// closed then or when ctx ends. Queries and mutations are refused with
// SUBSCRIPTIONS_ONLY: they go through Exec or POST.
func (s *Server) Subscribe(ctx context.Context, req Request) (<-chan *Response, *Response) {
	ctx, results, refused := s.subscribe(ctx, req)
	if refused != nil {
		return nil, refused
	}
	out := make(chan *Response)
	go func() {
		defer close(out)
		for v := range results {
			r := s.result(ctx, v)
			if r == nil {
				continue
			}
			select {
			case out <- r:
			case <-ctx.Done():
				// Keep draining so the executor's goroutine ends.
				for range results {
				}
				return
			}
		}
	}()
	return out, nil
}

// subscribe is Subscribe without the conversion of the results: it
// returns the executor's channel, whose values result converts, and the
// context the subscription runs in. The event stream converts them on
// the goroutine that queues them for its client, one goroutine and one
// hand-over fewer per stream and per event than Subscribe's channel.
func (s *Server) subscribe(ctx context.Context, req Request) (context.Context, <-chan any, *Response) {
	d := s.readDocument(req)
	if out := s.refuse(d); out != nil {
		return ctx, nil, out
	}
	if k := d.kind(); k != "subscription" && k != "" {
		return ctx, nil, &Response{Errors: []*Error{{Message: "only subscriptions are served here; send queries and mutations with POST /graphql",
			Extensions: map[string]any{"code": CodeSubscriptionsOnly}}}}
	}
	if ok, wait := s.charge(ctx, d.cost); !ok {
		secs := int(wait.Seconds() + 0.999)
		return ctx, nil, &Response{Errors: []*Error{{Message: fmt.Sprintf("too much expensive work from your address; retry in %d s", secs),
			Extensions: map[string]any{"code": CodeTooManyRequests, "retryAfter": secs, "cost": d.cost}}}}
	}
	if out := s.checkDocumentText(d, req.Variables); out != nil {
		return ctx, nil, out
	}
	if s.opts.PerRequest != nil {
		ctx = s.opts.PerRequest(ctx)
	}
	// The executor tells a subscription's resolver nothing of what its
	// results select (graph-gophers sets the selection only for fields
	// of results): the resolver is told here, from the same parse, so
	// that it reads what the results show and nothing more.
	ctx = resolver.WithSubscriptionFields(ctx, subscriptionFields(d.def, d.op))
	results, err := s.schema.Subscribe(ctx, req.Query, req.OperationName, req.Variables)
	if err != nil {
		return ctx, nil, &Response{Errors: []*Error{s.internal(ctx, err)}}
	}
	return ctx, results, nil
}

// result converts one value of the executor's channel (subscribe) into
// the response clients see; nil for a value that is none.
func (s *Server) result(ctx context.Context, v any) *Response {
	res, ok := v.(*gqlgo.Response)
	if !ok {
		return nil
	}
	r := &Response{Data: res.Data}
	if bytes.Equal(bytes.TrimSpace(r.Data), []byte("null")) {
		r.Data = nil
	}
	for _, qe := range res.Errors {
		r.Errors = append(r.Errors, s.mapError(ctx, qe))
	}
	return r
}

// subscriptionFields returns the field paths selected under the root
// fields of a subscription, as graph-gophers' SelectedFieldNames gives
// them to a query's resolver ("status", "payments", "payments.state"):
// schema field names (aliases ignored), fragments flattened, meta fields
// left out. Every root field's selection is merged (a subscription has
// one), and @skip and @include are not judged: the paths are a superset
// of what the results read, never less.
func subscriptionFields(def *ast.ExecutableDefinition, op *ast.OperationDefinition) []string {
	var (
		out  []string
		seen = map[string]bool{}
		// open are the fragments being walked: a cycle (refused later
		// by validation) must not recurse for ever.
		open = map[string]bool{}
	)
	var walk func(sels ast.SelectionSet, prefix string)
	walk = func(sels ast.SelectionSet, prefix string) {
		for _, sel := range sels {
			switch x := sel.(type) {
			case *ast.Field:
				if strings.HasPrefix(x.Name.Name, "__") {
					continue
				}
				path := prefix + x.Name.Name
				if !seen[path] {
					seen[path] = true
					out = append(out, path)
				}
				walk(x.SelectionSet, path+".")
			case *ast.InlineFragment:
				walk(x.Selections, prefix)
			case *ast.FragmentSpread:
				f := def.Fragments.Get(x.Name.Name)
				if f == nil || open[f.Name.Name] {
					continue
				}
				open[f.Name.Name] = true
				walk(f.Selections, prefix)
				delete(open, f.Name.Name)
			}
		}
	}
	// The root fields themselves, under fragments too.
	var roots func(sels ast.SelectionSet)
	roots = func(sels ast.SelectionSet) {
		for _, sel := range sels {
			switch x := sel.(type) {
			case *ast.Field:
				walk(x.SelectionSet, "")
			case *ast.InlineFragment:
				roots(x.Selections)
			case *ast.FragmentSpread:
				if f := def.Fragments.Get(x.Name.Name); f != nil && !open[f.Name.Name] {
					open[f.Name.Name] = true
					roots(f.Selections)
					delete(open, f.Name.Name)
				}
			}
		}
	}
	if op != nil {
		roots(op.Selections)
	}
	return out
}

// internal logs err and returns the error clients see for it.
func (s *Server) internal(ctx context.Context, err error) *Error {
	s.log.ErrorContext(ctx, "subscription failed", "err", err)
	return &Error{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}
}

// refusal reports whether the first result of a subscription is its
// refusal: errors and no data (the order is not the caller's, a
// permission is missing), rather than a result.
func refusal(r *Response) bool { return len(r.Data) == 0 && len(r.Errors) > 0 }

// pump hands the results of a subscription to deliver, which must not
// block: it queues the result for the client and reports false when the
// client is too slow, which ends the pump. The executor's own goroutine
// waits at most a second for each result to be taken, and drops it after
// that; a pump always takes it at once, so nothing is dropped unnoticed.
func pump[T any](ctx context.Context, results <-chan T, deliver func(T) bool) (completed bool) {
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return ctx.Err() == nil
			}
			if !deliver(r) {
				return false
			}
		case <-ctx.Done():
			return false
		}
	}
}

// statusOf is the HTTP status of a refusal answered as JSON before a
// stream starts.
func statusOf(res *Response) int {
	if len(res.Errors) == 0 {
		return http.StatusOK
	}
	code, _ := res.Errors[0].Extensions["code"].(string)
	switch {
	case code == "UNAUTHENTICATED":
		return http.StatusUnauthorized
	case code == "FORBIDDEN" || code == CodeOriginRefused:
		return http.StatusForbidden
	case code == "NOT_FOUND" || strings.HasSuffix(code, "_NOT_FOUND"):
		return http.StatusNotFound
	case code == CodeTooManyRequests || code == CodeLimitExceeded:
		return http.StatusTooManyRequests
	case code == "INTERNAL":
		return http.StatusInternalServerError
	case code == "UNAVAILABLE" || strings.HasSuffix(code, "_UNAVAILABLE"):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}
