// Package graphql serves Kassa's GraphQL API over HTTP: it decodes
// requests, executes them against the schema with limits, maps errors to
// stable codes in one place, and serves GraphiQL to browsers in
// development.
package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	gqlgo "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/reqid"
	"github.com/kassahq/kassa/graphql/graphiql"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/graphql/schema"
)

// Limits protect the server from expensive documents.
type Limits struct {
	// MaxDepth is the deepest field nesting allowed.
	MaxDepth int
	// MaxQueryBytes is the longest document accepted.
	MaxQueryBytes int
	// MaxSelections caps fields after fragments are expanded; with the
	// page size cap of connections it bounds the cost of aliases and
	// batches.
	MaxSelections int
	// MaxParallelism caps resolvers running at once for one request.
	MaxParallelism int
	// MaxBatch is the most operations one HTTP request may carry.
	MaxBatch int
	// MaxBodyBytes caps the request body.
	MaxBodyBytes int64
}

// DefaultLimits are the limits used when none are given.
var DefaultLimits = Limits{
	MaxDepth:       12,
	MaxQueryBytes:  32 << 10,
	MaxSelections:  2000,
	MaxParallelism: 10,
	MaxBatch:       10,
	MaxBodyBytes:   1 << 20,
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
}

// Server executes GraphQL requests.
type Server struct {
	schema  *gqlgo.Schema
	opts    Options
	log     *slog.Logger
	latency *prometheus.HistogramVec
	ide     http.Handler
	cache   *responseCache
}

// New parses the schema over the given services.
func New(svc resolver.Services, opts Options) (*Server, error) {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l := opts.Limits
	production := opts.Production
	s, err := gqlgo.ParseSchema(schema.String(), resolver.New(opts.Version, svc),
		gqlgo.UseStringDescriptions(),
		gqlgo.MaxDepth(l.MaxDepth),
		gqlgo.MaxQueryLength(l.MaxQueryBytes),
		gqlgo.MaxSelections(l.MaxSelections),
		gqlgo.MaxParallelism(l.MaxParallelism),
		gqlgo.PanicHandler(panicHandler{log: opts.Logger}),
		gqlgo.Tracer(rootTracer{}),
		gqlgo.RestrictIntrospection(func(ctx context.Context) bool {
			return !production || authz.SubjectFrom(ctx).Kind != authz.Anonymous
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("parse graphql schema: %w", err)
	}
	srv := &Server{schema: s, opts: opts, log: opts.Logger.With("component", "graphql"),
		ide: graphiql.Page("/graphql", "/graphql/assets")}
	if opts.Cache != nil {
		srv.cache = newResponseCache(*opts.Cache, opts.Registerer)
	}
	if opts.Registerer != nil {
		srv.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kassa_graphql_operation_duration_seconds",
			Help:    "GraphQL operation latency by operation type and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"type", "outcome"})
		if err := opts.Registerer.Register(srv.latency); err != nil {
			return nil, fmt.Errorf("register graphql metrics: %w", err)
		}
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
// this way) with the subject already in ctx.
func (s *Server) Exec(ctx context.Context, req Request) *Response {
	start := time.Now()
	var (
		key, doc  [32]byte
		cacheable bool
		gen       uint64
		rec       *rootRecorder
	)
	if aud, ok := audience(ctx); ok && s.cache != nil {
		key, doc, cacheable = cacheKey(aud, req)
		if v, judged := s.cache.verdicts.Load(doc); judged && !v.(bool) {
			cacheable = false
		}
	}
	if cacheable {
		if data, ok := s.cache.get(key); ok {
			s.cache.hits.Inc()
			s.observe(req, "ok", start)
			return &Response{Data: data}
		}
		s.cache.misses.Inc()
		gen = s.cache.gen.Load()
		rec = &rootRecorder{}
		ctx = context.WithValue(ctx, rootRecorderKey{}, rec)
	}
	if s.opts.PerRequest != nil {
		ctx = s.opts.PerRequest(ctx)
	}
	res := s.schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
	out := &Response{Data: res.Data}
	if cacheable && len(res.Errors) == 0 {
		public := s.cache.allPublic(rec)
		s.cache.verdicts.Store(doc, public)
		if public {
			s.cache.put(key, gen, res.Data)
		}
	}
	for _, qe := range res.Errors {
		out.Errors = append(out.Errors, s.mapError(ctx, qe))
	}
	outcome := "ok"
	if len(out.Errors) > 0 {
		outcome = "error"
	}
	s.observe(req, outcome, start)
	return out
}

// InvalidateCache drops every cached answer; the app calls it whenever the
// catalog changes on any instance.
func (s *Server) InvalidateCache() {
	if s.cache != nil {
		s.cache.invalidate()
	}
}

func (s *Server) observe(req Request, outcome string, start time.Time) {
	if s.latency != nil {
		s.latency.WithLabelValues(operationLabel(req), outcome).Observe(time.Since(start).Seconds())
	}
}

// mapError is the one place where domain errors become GraphQL codes.
func (s *Server) mapError(ctx context.Context, qe *gqlerrors.QueryError) *Error {
	e := &Error{Message: qe.Message, Path: qe.Path}
	for _, l := range qe.Locations {
		e.Locations = append(e.Locations, Location{Line: l.Line, Column: l.Column})
	}
	if qe.ResolverError == nil {
		// A validation or limit error of the document itself.
		code := "GRAPHQL_VALIDATION_FAILED"
		if errors.Is(qe, gqlgo.ErrTooManySelections) || strings.Contains(qe.Message, "exceeds") || qe.Rule == "MaxDepthExceeded" {
			code = "QUERY_TOO_COMPLEX"
		}
		if qe.Extensions != nil && qe.Extensions["code"] != nil {
			return e
		}
		e.Extensions = map[string]any{"code": code}
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

// operationLabel is the metric label of an operation's type.
func operationLabel(req Request) string {
	kind, err := operationKind(req.Query, req.OperationName)
	if err != nil {
		return "invalid"
	}
	return kind
}

type panicHandler struct{ log *slog.Logger }

func (p panicHandler) MakePanicError(ctx context.Context, value any) *gqlerrors.QueryError {
	p.log.ErrorContext(ctx, "resolver panic", "request_id", reqid.From(ctx), "panic", fmt.Sprint(value))
	return &gqlerrors.QueryError{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}
}

// ServeHTTP handles POST (JSON, single or batched), GET with a query
// parameter (queries only), and GET from a browser (GraphiQL, outside
// production).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		if r.URL.Query().Get("query") == "" {
			if s.opts.Production || !strings.Contains(r.Header.Get("Accept"), "text/html") {
				writeJSON(w, http.StatusBadRequest, Response{Errors: []*Error{{Message: "POST a GraphQL request", Extensions: map[string]any{"code": "BAD_REQUEST"}}}})
				return
			}
			s.ide.ServeHTTP(w, r)
			return
		}
		req := Request{Query: r.URL.Query().Get("query"), OperationName: r.URL.Query().Get("operationName")}
		if v := r.URL.Query().Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				writeJSON(w, http.StatusBadRequest, badRequest("variables are not valid JSON"))
				return
			}
		}
		// GET is what a link or an image tag sends, with the browser's
		// cookies and no anti-CSRF header: it may only read.
		if kind, err := operationKind(req.Query, req.OperationName); err != nil || kind != "query" {
			writeJSON(w, http.StatusMethodNotAllowed, badRequest("only queries may be sent with GET; send mutations with POST"))
			return
		}
		writeResponse(w, s.Exec(r.Context(), req))
	case http.MethodPost:
		s.servePost(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, badRequest("use GET or POST"))
	}
}

func (s *Server) servePost(w http.ResponseWriter, r *http.Request) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" && ct != "application/graphql-response+json" {
		writeJSON(w, http.StatusUnsupportedMediaType, badRequest("Content-Type must be application/json"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.Limits.MaxBodyBytes))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, Response{Errors: []*Error{{Message: "request body too large", Extensions: map[string]any{"code": "LIMIT_EXCEEDED"}}}})
		return
	}
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "[") {
		var reqs []Request
		if err := json.Unmarshal(body, &reqs); err != nil {
			writeJSON(w, http.StatusBadRequest, badRequest("body is not a valid GraphQL request"))
			return
		}
		if len(reqs) > s.opts.Limits.MaxBatch {
			writeJSON(w, http.StatusBadRequest, Response{Errors: []*Error{{Message: fmt.Sprintf("at most %d operations per request", s.opts.Limits.MaxBatch), Extensions: map[string]any{"code": "LIMIT_EXCEEDED"}}}})
			return
		}
		out := make([]*Response, len(reqs))
		for i, req := range reqs {
			out[i] = s.Exec(r.Context(), req)
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
		writeJSON(w, http.StatusBadRequest, badRequest("body is not a valid GraphQL request"))
		return
	}
	writeResponse(w, s.Exec(r.Context(), req))
}

// writeResponse writes one result. Without errors it splices the data in
// as is: encoding/json would re-validate and compact the already encoded
// data, which costs more than executing a cached read.
func writeResponse(w http.ResponseWriter, res *Response) {
	if len(res.Errors) > 0 || len(res.Data) == 0 {
		writeJSON(w, http.StatusOK, res)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(res.Data)+10))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"data":`)
	_, _ = w.Write(res.Data)
	_, _ = io.WriteString(w, "}\n")
}

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
