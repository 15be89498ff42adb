// Package graphql serves Kassa's GraphQL API over HTTP: it decodes
// requests, executes them against the schema with limits, maps errors to
// stable codes in one place, and serves GraphiQL to browsers in
// development.
package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gqlgo "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/peer"
	"github.com/kassahq/kassa/core/kit/reqid"
	"github.com/kassahq/kassa/graphql/graphiql"
	"github.com/kassahq/kassa/graphql/plan"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/graphql/schema"
	"github.com/kassahq/kassa/httpauth"
)

// Limits protect the server from expensive documents.
type Limits struct {
	// MaxDepth is the deepest field nesting allowed.
	MaxDepth int
	// MaxQueryBytes is the longest document accepted.
	MaxQueryBytes int
	// MaxSelections caps fields after fragments are expanded.
	MaxSelections int
	// MaxOverlapPairs caps the pairs of selections validation compares to
	// tell whether fields of one name can merge, work that grows with the
	// square of the selections: 8,000 spreads of one fragment (32 KB) took
	// 50 s of CPU without it. Over it, QUERY_TOO_COMPLEX.
	MaxOverlapPairs int
	// MaxCost is the budget of one document's static cost (see
	// operationCost: a field costs 1, a page size multiplies what is under
	// it), and of the sum over the documents of one batch. Over it, the
	// request is answered QUERY_TOO_COMPLEX before anything runs.
	MaxCost int
	// MaxParallelism caps resolvers running at once for one request.
	MaxParallelism int
	// MaxBatch is the most operations one HTTP request may carry.
	MaxBatch int
	// MaxBodyBytes caps the request body.
	MaxBodyBytes int64
}

// DefaultLimits are the limits used when none are given.
var DefaultLimits = Limits{
	MaxDepth:        15,
	MaxQueryBytes:   32 << 10,
	MaxSelections:   2000,
	MaxOverlapPairs: 10000,
	MaxCost:         10000,
	MaxParallelism:  10,
	MaxBatch:        10,
	MaxBodyBytes:    1 << 20,
}

// Options configure a Server.
type Options struct {
	// Version is reported by Query.serverVersion.
	Version string
	// Production turns off GraphiQL and introspection for anonymous
	// callers.
	Production bool
	Limits     Limits
	Logger     *slog.Logger
	// Registerer receives the GraphQL latency metrics; nil skips them.
	Registerer prometheus.Registerer
	// PerRequest decorates the context of each request, e.g. with
	// dataloaders; may be nil.
	PerRequest func(ctx context.Context) context.Context
	// Cache, when set, keeps the answers of public reads.
	Cache *CacheOptions
	// RateLimit is the per-client budget of expensive work for guests and
	// buyers over HTTP; nil is DefaultRateLimit.
	RateLimit *RateLimit
	// Clock times the rate limit; nil is the system clock.
	Clock clock.Clock
	// Live configures subscriptions over WebSocket and server-sent
	// events; zero fields are DefaultLiveOptions.
	Live LiveOptions
	// Admission lines up the queries and mutations received over HTTP
	// when more arrive than it has slots; zero is off. Subscriptions and
	// Exec are not in line.
	Admission AdmissionOptions
	// NoPlans runs every operation through graph-gophers' executor, none
	// through a query plan (package plan); tests compare the two.
	NoPlans bool
}

// Server executes GraphQL requests.
type Server struct {
	schema  *gqlgo.Schema
	opts    Options
	log     *slog.Logger
	latency *operationLatency
	ide     http.Handler
	cache   *responseCache
	limiter *costLimiter
	live    *liveState
	docs    *parsedDocuments
	admit   *admission
	// plans is the table of fields query plans run; nil with NoPlans.
	plans *plan.Table
	// planRuns counts the operations a plan answered, planGaveUp those
	// it left to the executor after it started.
	planRuns, planGaveUp atomic.Uint64
}

// New parses the schema over the given services.
func New(svc resolver.Services, opts Options) (*Server, error) {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits
	}
	if opts.Limits.MaxCost <= 0 {
		opts.Limits.MaxCost = DefaultLimits.MaxCost
	}
	if opts.Limits.MaxOverlapPairs <= 0 {
		opts.Limits.MaxOverlapPairs = DefaultLimits.MaxOverlapPairs
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	rate := DefaultRateLimit
	if opts.RateLimit != nil {
		rate = *opts.RateLimit
	}
	if rate.Burst < opts.Limits.MaxCost || rate.PerSecond <= 0 || rate.MaxClients <= 0 {
		return nil, fmt.Errorf("graphql rate limit %+v: burst must be at least the cost budget %d, rate and clients positive", rate, opts.Limits.MaxCost)
	}
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock.Now
	}
	l := opts.Limits
	production := opts.Production
	root := resolver.New(opts.Version, svc)
	s, err := gqlgo.ParseSchema(schema.String(), root,
		gqlgo.UseStringDescriptions(),
		// A field without a resolver method is read from the resolver's
		// exported struct field of that name: no reflect call, which the
		// items of large lists (a grid's variants and prices) need.
		gqlgo.UseFieldResolvers(),
		gqlgo.MaxDepth(l.MaxDepth),
		gqlgo.MaxQueryLength(l.MaxQueryBytes),
		gqlgo.MaxSelections(l.MaxSelections),
		gqlgo.OverlapValidationLimit(l.MaxOverlapPairs),
		gqlgo.MaxParallelism(l.MaxParallelism),
		// Each result of a subscription is resolved within this, or
		// replaced by a timeout error (graph-gophers' default is 1 s).
		gqlgo.SubscribeResolverTimeout(5*time.Second),
		gqlgo.PanicHandler(panicHandler{log: opts.Logger}),
		gqlgo.Tracer(rootTracer{}),
		gqlgo.RestrictIntrospection(func(ctx context.Context) bool {
			return !production || authz.SubjectFrom(ctx).Kind != authz.KindAnonymous
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("parse graphql schema: %w", err)
	}
	srv := &Server{schema: s, opts: opts, log: opts.Logger.With("component", "graphql"),
		ide: graphiql.Page("/graphql", "/graphql/assets"), limiter: newCostLimiter(rate, now), docs: newParsedDocuments()}
	if !opts.NoPlans {
		srv.plans = root.Plans()
		if err := srv.plans.Check(s.AST()); err != nil {
			return nil, err
		}
		if err := srv.registerPlanMetrics(opts.Registerer); err != nil {
			return nil, err
		}
	}
	if srv.admit, err = newAdmission(opts.Admission, opts.Registerer); err != nil {
		return nil, err
	}
	if opts.Cache != nil {
		srv.cache = newResponseCache(*opts.Cache, opts.Registerer)
	}
	if srv.live, err = newLiveState(opts.Live, opts.Registerer); err != nil {
		return nil, err
	}
	if opts.Registerer != nil {
		vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kassa_graphql_operation_duration_seconds",
			Help:    "GraphQL operation latency by operation type and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"type", "outcome"})
		if err := opts.Registerer.Register(vec); err != nil {
			return nil, fmt.Errorf("register graphql metrics: %w", err)
		}
		srv.latency = &operationLatency{vec: vec}
	}
	return srv, nil
}

// Request is one GraphQL operation.
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// Response is the result of one operation.
type Response struct {
	Data   json.RawMessage `json:"data,omitempty"`
	Errors []*Error        `json:"errors,omitempty"`
}

// Error is a top-level GraphQL error with a stable code in extensions.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Locations  []Location     `json:"locations,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Location is a position in the document.
type Location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Exec runs one operation in-process (the storefront renders its pages
// this way) with the subject already in ctx. The cost budget applies; the
// per-client rate limit is for HTTP callers only.
func (s *Server) Exec(ctx context.Context, req Request) *Response {
	return s.run(ctx, s.prepare(ctx, req))
}

// call is one operation on its way through the server: what is known of
// it before it runs.
type call struct {
	req   Request
	start time.Time
	// key and docKey address the response cache when cacheable.
	key, docKey [32]byte
	cacheable   bool
	// hit is the cached answer, nil on a miss.
	hit json.RawMessage
	// doc is the parsed document; nil on a cache hit, whose document ran
	// before.
	doc *document
}

// prepare looks the operation up in the response cache and, on a miss,
// parses and prices it, all before anything runs.
func (s *Server) prepare(ctx context.Context, req Request) *call {
	c := &call{req: req, start: time.Now()}
	if aud, ok := audience(ctx); ok && s.cache != nil {
		// A document judged not cacheable (a mutation, a cart) is known
		// by its text: its variables are not encoded for a key.
		c.docKey = documentKey(req)
		if v, judged := s.cache.verdicts.Load(c.docKey); !judged || v.(bool) {
			c.key, c.cacheable = cacheKey(aud, c.docKey, req.Variables)
		}
	}
	if c.cacheable {
		if data, ok := s.cache.get(c.key); ok {
			c.hit = data
			return c
		}
	}
	c.doc = s.readDocument(req)
	return c
}

// run answers a prepared operation: from the cache, with a refusal of the
// document, or by executing it.
func (s *Server) run(ctx context.Context, c *call) *Response {
	req := c.req
	if c.hit != nil {
		s.cache.hits.Inc()
		s.observe(c, "ok")
		return &Response{Data: c.hit}
	}
	if out := s.refuse(c.doc); out != nil { // limits, syntax, names, value shapes: issue 7
		s.observe(c, "error")
		return out
	}
	if c.doc.kind() == "subscription" {
		s.observe(c, "error")
		return &Response{Errors: []*Error{{Message: "subscriptions run over a WebSocket on /graphql (graphql-transport-ws) or as server-sent events on " + StreamPath,
			Extensions: map[string]any{"code": "BAD_REQUEST"}}}}
	}
	var (
		gen uint64
		rec *rootRecorder
	)
	if c.cacheable {
		s.cache.misses.Inc()
		gen = s.cache.gen.Load()
		rec = &rootRecorder{}
		ctx = context.WithValue(ctx, rootRecorderKey{}, rec)
	}
	if s.opts.PerRequest != nil {
		ctx = s.opts.PerRequest(ctx)
	}
	if out := s.checkDocumentText(c.doc, req.Variables); out != nil { // control characters: issue 7
		s.observe(c, textOutcome(out))
		return out
	}
	res := &gqlgo.Response{}
	if data, ok := s.runPlan(ctx, c, rec); ok {
		res.Data = data
	} else {
		res = s.schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
	}
	out := &Response{Data: res.Data}
	if c.cacheable && len(res.Errors) == 0 {
		public := s.cache.allPublic(rec)
		s.cache.verdicts.Store(c.docKey, public)
		if public {
			s.cache.put(c.key, gen, res.Data)
		}
	}
	errs := res.Errors
	if len(res.Data) == 0 && len(errs) > maxDocumentProblems {
		// The validator's own problems (a thousand unused variables) are
		// capped as documentProblems' are: the answer stays smaller than
		// the question.
		more := len(errs) - maxDocumentProblems
		errs = append(errs[:maxDocumentProblems:maxDocumentProblems],
			&gqlerrors.QueryError{Message: fmt.Sprintf("%d more problems of the document not shown", more), Rule: "Limit"})
	}
	for _, qe := range errs {
		out.Errors = append(out.Errors, s.mapError(ctx, qe))
	}
	outcome := "ok"
	if len(out.Errors) > 0 {
		outcome = "error"
	}
	s.observe(c, outcome)
	return out
}

// runPlan answers c with its document's query plan, when the plan table
// covers the operation, the request passes graph-gophers' validation and
// the plan does not give up; ok false leaves c to the executor, which then
// answers exactly as without plans. rec, when set, hears the plan's root
// fields as the executor's tracer would tell it.
func (s *Server) runPlan(ctx context.Context, c *call, rec *rootRecorder) (data []byte, ok bool) {
	if s.plans == nil || c.doc.parsed == nil || c.doc.op == nil {
		return nil, false
	}
	p := c.doc.parsed.plan(c.doc.op, func(def *ast.ExecutableDefinition, op *ast.OperationDefinition) *plan.Plan {
		return plan.Compile(s.plans, s.schema.AST(), def, op, s.opts.Limits.MaxSelections)
	})
	if p == nil {
		return nil, false
	}
	if errs := s.schema.ValidateWithVariables(c.req.Query, c.req.Variables); len(errs) > 0 {
		return nil, false
	}
	data, err := p.Execute(ctx, c.req.Variables)
	if err != nil {
		s.planGaveUp.Add(1)
		var pe *plan.PanicError
		if errors.As(err, &pe) {
			s.log.Error("a query plan panicked; the executor answers", "operation", c.req.OperationName, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		}
		return nil, false
	}
	s.planRuns.Add(1)
	if rec != nil {
		rec.mu.Lock()
		rec.roots = append(rec.roots, p.Roots()...)
		rec.mu.Unlock()
	}
	return data, true
}

// registerPlanMetrics exports how often query plans answered.
func (s *Server) registerPlanMetrics(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "kassa_graphql_plan_runs_total",
			Help: "GraphQL queries answered by a query plan instead of the executor.",
		}, func() float64 { return float64(s.planRuns.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "kassa_graphql_plan_gave_up_total",
			Help: "GraphQL queries a query plan started and left to the executor (an error, an unexpected null, a panic).",
		}, func() float64 { return float64(s.planGaveUp.Load()) }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register graphql plan metrics: %w", err)
		}
	}
	return nil
}

// PlanCounts returns how many operations query plans answered and how
// many they left to the executor after starting.
func (s *Server) PlanCounts() (ran, gaveUp uint64) {
	return s.planRuns.Load(), s.planGaveUp.Load()
}

// InvalidateCache drops every cached answer; the app calls it whenever the
// catalog changes on any instance.
func (s *Server) InvalidateCache() {
	if s.cache != nil {
		s.cache.invalidate()
	}
}

func (s *Server) observe(c *call, outcome string) {
	if s.latency != nil {
		s.latency.observer(operationLabel(c), outcome).Observe(time.Since(c.start).Seconds())
	}
}

// operationLatency is the latency histogram of operations with its
// series kept at hand: WithLabelValues hashes and checks both labels and
// takes the vector's lock, on every operation. A series is still made
// when it is first observed, as WithLabelValues makes it.
type operationLatency struct {
	vec  *prometheus.HistogramVec
	once [len(operationTypes)][len(operationOutcomes)]sync.Once
	obs  [len(operationTypes)][len(operationOutcomes)]prometheus.Observer
}

// operationTypes and operationOutcomes are the values of the type and
// outcome labels (operationLabel, observe's callers).
var (
	operationTypes    = [...]string{"query", "mutation", "subscription", "invalid"}
	operationOutcomes = [...]string{"ok", "error"}
)

func (l *operationLatency) observer(typ, outcome string) prometheus.Observer {
	i, j := slices.Index(operationTypes[:], typ), slices.Index(operationOutcomes[:], outcome)
	if i < 0 || j < 0 {
		return l.vec.WithLabelValues(typ, outcome)
	}
	l.once[i][j].Do(func() { l.obs[i][j] = l.vec.WithLabelValues(typ, outcome) })
	return l.obs[i][j]
}

// mapError is the one place where domain errors become GraphQL codes.
func (s *Server) mapError(ctx context.Context, qe *gqlerrors.QueryError) *Error {
	e := &Error{Message: qe.Message, Path: qe.Path}
	for _, l := range qe.Locations {
		e.Locations = append(e.Locations, Location{Line: l.Line, Column: l.Column})
	}
	if qe.ResolverError == nil {
		// A validation or limit error of the document itself, told apart
		// by its rule or sentinel, never by its wording.
		if qe.Extensions != nil && qe.Extensions["code"] != nil {
			e.Extensions = qe.Extensions
			return e
		}
		code := CodeValidationFailed
		if isLimitRule(qe) {
			code = CodeTooComplex
		}
		e.Extensions = map[string]any{"code": code}
		if qe.Rule == "OverlapValidationLimitExceeded" {
			// graph-gophers suggests raising the limit, which a client
			// cannot.
			e.Message = fmt.Sprintf("the document selects fields of one name too many times to validate (over %d pairs compared); select each field once", s.opts.Limits.MaxOverlapPairs)
			e.Extensions["limit"] = s.opts.Limits.MaxOverlapPairs
		}
		return e
	}
	code, msg := Code(qe.ResolverError)
	if code == "INTERNAL" {
		s.log.ErrorContext(ctx, "resolver failed", "request_id", reqid.From(ctx), "path", qe.Path, "err", qe.ResolverError)
		msg = "internal error"
	}
	e.Message = msg
	e.Extensions = map[string]any{"code": code}
	if de := errs.All(qe.ResolverError); len(de) == 1 && len(de[0].Field) > 0 {
		e.Extensions["field"] = de[0].Field
	}
	return e
}

// IdempotencyKeyHeader is the HTTP header a client may send its
// checkoutComplete idempotency key in, in canonical form.
const IdempotencyKeyHeader = "Idempotency-Key"

// Codes of errors about the document itself.
const (
	// CodeValidationFailed: the document does not match the schema.
	CodeValidationFailed = "GRAPHQL_VALIDATION_FAILED"
	// CodeTooComplex: the document is over a limit (length, depth,
	// selections, cost).
	CodeTooComplex = "QUERY_TOO_COMPLEX"
	// CodeTooManyRequests: the client spent its rate limit (HTTP 429).
	CodeTooManyRequests = "TOO_MANY_REQUESTS"
)

// isLimitRule tells the limit errors of graph-gophers' validation and
// execution apart from the other validation errors.
func isLimitRule(qe *gqlerrors.QueryError) bool {
	switch qe.Rule {
	case "MaxDepthExceeded", "OverlapValidationLimitExceeded":
		return true
	}
	return errors.Is(qe, gqlgo.ErrTooManySelections)
}

// Code maps an error returned by a service to the stable code and message
// shown to clients.
func Code(err error) (code, message string) {
	var de *errs.Error
	if errors.As(err, &de) {
		return de.Code, de.Message
	}
	switch {
	case errors.Is(err, errs.ErrUnauthenticated):
		return "UNAUTHENTICATED", "sign in required"
	case errors.Is(err, errs.ErrForbidden):
		return "FORBIDDEN", "not allowed"
	case errors.Is(err, errs.ErrNotFound):
		return "NOT_FOUND", "not found"
	case errors.Is(err, errs.ErrInvalid):
		return "BAD_USER_INPUT", err.Error()
	case errors.Is(err, errs.ErrConflict):
		return "CONFLICT", err.Error()
	case errors.Is(err, errs.ErrUnavailable):
		return "UNAVAILABLE", "temporarily unavailable"
	case errors.Is(err, errs.ErrLimited):
		return "LIMIT_EXCEEDED", "limit exceeded"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "TIMEOUT", "request timed out"
	}
	return "INTERNAL", err.Error()
}

// operationLabel is the metric label of an operation's type, from the
// same parse that decided everything else. Only queries are cached.
func operationLabel(c *call) string {
	if c.doc == nil {
		return "query"
	}
	if k := c.doc.kind(); k != "" {
		return k
	}
	return "invalid"
}

type panicHandler struct{ log *slog.Logger }

func (p panicHandler) MakePanicError(ctx context.Context, value any) *gqlerrors.QueryError {
	p.log.ErrorContext(ctx, "resolver panic", "request_id", reqid.From(ctx), "panic", fmt.Sprint(value))
	return &gqlerrors.QueryError{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}
}

// ServeHTTP handles POST (JSON, single or batched), GET with a query
// parameter (queries only), GET from a browser (GraphiQL, outside
// production), and the upgrade to a WebSocket of subscriptions
// (graphql-transport-ws).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && isWebSocket(r) {
		s.serveWebSocket(w, r)
		return
	}
	// The sign-in and sign-out resolvers set and clear the session cookie
	// through the writer the HTTP middleware (httpauth) gave the request.
	ctx := r.Context()
	if sw, ok := httpauth.SessionWriterFrom(ctx); ok {
		ctx = resolver.WithSessionTransport(ctx, sw)
	}
	// checkoutComplete takes its idempotency key from the input or from
	// this header (the two must agree when both are given); the header
	// applies to every operation of a batch.
	if key := r.Header.Get(IdempotencyKeyHeader); key != "" {
		ctx = resolver.WithIdempotencyKey(ctx, key)
	}
	// Answers are the caller's (a buyer's account, a guest's cart or
	// order by its token in a GET's query string): no shared cache keeps
	// them, whatever a proxy in front is told to cache; a guest's public
	// catalog read is left to a CDN's choice (serve).
	h := w.Header()
	h["Cache-Control"] = noStore
	h["Vary"] = varyCredentials
	// ctx goes down as an argument: a copy of the request to carry it
	// would be one more allocation per request.
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query() // parses the query string: once, not per parameter
		if q.Get("query") == "" {
			if s.opts.Production || !strings.Contains(r.Header.Get("Accept"), "text/html") {
				writeJSON(w, http.StatusBadRequest, Response{Errors: []*Error{{Message: "POST a GraphQL request", Extensions: map[string]any{"code": "BAD_REQUEST"}}}})
				return
			}
			s.ide.ServeHTTP(w, r)
			return
		}
		req := Request{Query: q.Get("query"), OperationName: q.Get("operationName")}
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
		// GET is what a link or an image tag sends, with the browser's
		// cookies and no anti-CSRF header: it may only read. The type
		// comes from the executor's own parse and choice of operation
		// (issue 7: a second lexer read a block string differently and
		// let a mutation through). A syntax error or a missing operation
		// is answered without running anything.
		c := s.prepare(ctx, req)
		if c.doc == nil {
			c.doc = s.readDocument(req) // the type never comes from the cache
		}
		if k := c.doc.kind(); k != "query" && !c.doc.tooLong && c.doc.syntax == nil {
			writeJSON(w, http.StatusMethodNotAllowed, badRequest("only queries may be sent with GET; send mutations with POST"))
			return
		}
		s.serve(ctx, w, []*call{c}, false)
	case http.MethodPost:
		s.servePost(ctx, w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, badRequest("use GET or POST"))
	}
}

func (s *Server) servePost(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	if !jsonContentType(r.Header.Get("Content-Type")) {
		writeJSON(w, http.StatusUnsupportedMediaType, badRequest("Content-Type must be application/json"))
		return
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	if n := r.ContentLength; n > 0 && n <= s.opts.Limits.MaxBodyBytes {
		buf.Grow(int(n) + 1) // the +1 lets ReadFrom see EOF without growing
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.opts.Limits.MaxBodyBytes)); err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, Response{Errors: []*Error{{Message: "request body too large", Extensions: map[string]any{"code": "LIMIT_EXCEEDED"}}}})
		return
	}
	// Decoding copies every string out of body, so the buffer goes back
	// to the pool when this returns.
	body := buf.Bytes()
	if !validJSONText(body) {
		writeJSON(w, http.StatusBadRequest, invalidText())
		return
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		var reqs []Request
		if err := json.Unmarshal(body, &reqs); err != nil {
			writeJSON(w, http.StatusBadRequest, badRequest("body is not a valid GraphQL request"))
			return
		}
		if len(reqs) > s.opts.Limits.MaxBatch {
			writeJSON(w, http.StatusBadRequest, Response{Errors: []*Error{{Message: fmt.Sprintf("at most %d operations per request", s.opts.Limits.MaxBatch), Extensions: map[string]any{"code": "LIMIT_EXCEEDED"}}}})
			return
		}
		calls := make([]*call, len(reqs))
		for i, req := range reqs {
			calls[i] = s.prepare(ctx, req)
		}
		s.serve(ctx, w, calls, true)
		return
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
		writeJSON(w, http.StatusBadRequest, badRequest("body is not a valid GraphQL request"))
		return
	}
	s.serve(ctx, w, []*call{s.prepare(ctx, req)}, false)
}

// jsonContentType reports whether a Content-Type names JSON. The plain
// forms clients send are recognised without mime.ParseMediaType, which
// makes a map of parameters for every request.
func jsonContentType(v string) bool {
	switch v {
	case "application/json", "application/graphql-response+json":
		return true
	}
	ct, _, _ := mime.ParseMediaType(v)
	return ct == "application/json" || ct == "application/graphql-response+json"
}

// bodyBuffers hold request bodies while they are decoded: most requests
// are a few hundred bytes to a few kilobytes, read once per request.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept in bodyBuffers: a rare large
// body (up to MaxBodyBytes) is left to the collector rather than kept.
const maxPooledBody = 64 << 10

func putBodyBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBody {
		return
	}
	b.Reset()
	bodyBuffers.Put(b)
}

// serve runs the prepared operations of one HTTP request, after two
// checks that concern the request as a whole: the cost of a batch is
// within the budget, and a guest or buyer has the points for it. Either
// refusal runs nothing.
func (s *Server) serve(ctx context.Context, w http.ResponseWriter, calls []*call, batch bool) {
	total, points := 0, 0
	for _, c := range calls {
		if c.hit == nil { // a cached answer costs nothing to give again
			total = addCost(total, c.doc.cost)
			points = addCost(points, s.points(c.doc))
		}
	}
	if budget := s.opts.Limits.MaxCost; batch && total > budget {
		msg := fmt.Sprintf("batch cost %d exceeds the budget of %d", total, budget)
		out := make([]*Response, len(calls))
		for i := range calls {
			out[i] = &Response{Errors: []*Error{costError(msg, total, budget)}}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	if ok, wait := s.charge(ctx, points); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusTooManyRequests, Response{Errors: []*Error{{
			Message:    fmt.Sprintf("too much expensive work from your address; retry in %d s", secs),
			Extensions: map[string]any{"code": CodeTooManyRequests, "retryAfter": secs, "cost": points},
		}}})
		return
	}
	if !batch {
		res := s.runInLine(ctx, calls[0])
		if s.publicAnswer(ctx, calls[0]) {
			delete(w.Header(), "Cache-Control")
		}
		writeResponse(w, res)
		return
	}
	out := make([]*Response, len(calls))
	for i, c := range calls {
		out[i] = s.runInLine(ctx, c)
	}
	writeJSON(w, http.StatusOK, out)
}

// publicAnswer reports whether c, run, answered a guest without
// credentials with a read of the public catalog (the response cache's
// verdict): the same for every guest, which a CDN may keep (docs/api.md).
func (s *Server) publicAnswer(ctx context.Context, c *call) bool {
	if authz.SubjectFrom(ctx).Kind != authz.KindAnonymous || s.cache == nil {
		return false
	}
	if c.hit != nil {
		return true
	}
	if !c.cacheable {
		return false
	}
	v, judged := s.cache.verdicts.Load(c.docKey)
	return judged && v.(bool)
}

// runInLine runs c once the admission line lets it (admission.go),
// leaving its slot before the answer is written. An answer from the
// response cache runs nothing and waits for no slot.
func (s *Server) runInLine(ctx context.Context, c *call) *Response {
	if c.hit != nil {
		return s.run(ctx, c)
	}
	leave := s.admit.enter(ctx)
	defer leave()
	return s.run(ctx, c)
}

// refusedPoints is what a document refused before it runs (too long, not
// parsed, over the cost budget) spends of its client's points: the work
// of reading and pricing it, not the work it asked for and never got.
const refusedPoints = 1

// points is what running d spends of its client's points: its cost, or
// refusedPoints when refuse will answer it without running it.
func (s *Server) points(d *document) int {
	if d.tooLong || d.syntax != nil || d.cost > s.opts.Limits.MaxCost {
		return refusedPoints
	}
	return d.cost
}

// charge spends cost points of a guest's or buyer's address; staff, API
// keys and callers without an address are not limited. Cache hits were
// left out of cost by the caller.
func (s *Server) charge(ctx context.Context, cost int) (bool, time.Duration) {
	switch authz.SubjectFrom(ctx).Kind {
	case authz.KindAnonymous, authz.KindCustomer:
	default:
		return true, 0
	}
	ip := account.ClientFrom(ctx).IP
	if ip == "" {
		return true, 0
	}
	return s.limiter.take(peer.Network(ip), cost)
}

// writeResponse writes one result. Without errors it splices the data in
// as is: encoding/json would re-validate and compact the already encoded
// data, which costs more than executing a cached read.
func writeResponse(w http.ResponseWriter, res *Response) {
	if len(res.Errors) > 0 || len(res.Data) == 0 {
		writeJSON(w, http.StatusOK, res)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// net/http counts a short answer itself, without allocating, when the
	// handler returns before its 2 KB buffer fills; a longer one (a
	// product grid) is sent with its length rather than in chunks.
	if n := len(res.Data) + len(dataPrefix) + len(dataSuffix); n > 1024 {
		h.Set("Content-Length", strconv.Itoa(n))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(dataPrefix)
	_, _ = w.Write(res.Data)
	_, _ = w.Write(dataSuffix)
}

// noStore and varyCredentials are the caching headers of every answer,
// shared slices: setting them allocates nothing.
var noStore, varyCredentials = []string{"no-store"}, []string{"Cookie, Authorization"}

// dataPrefix and dataSuffix wrap the data of an answer without errors.
var dataPrefix, dataSuffix = []byte(`{"data":`), []byte("}\n")

// AssetsHandler serves GraphiQL's embedded assets under /graphql/assets/.
func (s *Server) AssetsHandler() http.Handler {
	return http.StripPrefix("/graphql/assets/", graphiql.Assets())
}

func badRequest(msg string) Response {
	return Response{Errors: []*Error{{Message: msg, Extensions: map[string]any{"code": "BAD_REQUEST"}}}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
