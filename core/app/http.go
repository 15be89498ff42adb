package app

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/reqid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Log attribute keys used across the HTTP layer.
const (
	attrRequestID = "request_id"
	attrMethod    = "method"
	attrPath      = "path"
	attrStatus    = "status"
	attrDuration  = "duration"
)

// httpMetrics are the HTTP server's Prometheus metrics.
type httpMetrics struct {
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
	// series keeps the duration's series by their labels (routeLabels
	// to prometheus.Observer): WithLabelValues hashes and checks every
	// label and takes the vector's lock, on every request. Routes are
	// ServeMux patterns and codes status classes; only the standard
	// methods are kept, since a client may send any method.
	series sync.Map
}

// routeLabels are the label values of one duration series.
type routeLabels struct{ route, method, code string }

// observer is the duration series of the labels, made when first
// observed as WithLabelValues makes it.
func (m *httpMetrics) observer(route, method, code string) prometheus.Observer {
	k := routeLabels{route, method, code}
	if o, ok := m.series.Load(k); ok {
		return o.(prometheus.Observer)
	}
	o := m.duration.WithLabelValues(route, method, code)
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		m.series.Store(k, o)
	}
	return o
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kassa_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern, method and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "code"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kassa_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	reg.MustRegister(m.duration, m.inflight)
	return m
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer
// (flushing for server-sent events).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument wraps the router with request ids, panic recovery, access
// logs and metrics. The route label is the matched ServeMux pattern, so
// cardinality stays bounded whatever paths clients send.
func instrument(next http.Handler, log *slog.Logger, m *httpMetrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Request-Id")
		if rid == "" || len(rid) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			rid = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", rid)
		ctx := reqid.With(r.Context(), rid)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		m.inflight.Inc()
		defer func() {
			m.inflight.Dec()
			p := recover()
			// A handler aborting a response it started (a download that
			// failed midway) is no bug: net/http closes the connection.
			if p == http.ErrAbortHandler {
				defer panic(p)
			} else if p != nil {
				log.ErrorContext(ctx, "panic serving request", attrRequestID, rid, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			m.observer(route, r.Method, statusClass(sw.status)).Observe(d.Seconds())
			// Server errors are logged as errors, except readiness
			// probes answering 503: those repeat every few seconds during
			// an outage that is logged where it happens.
			serverError := sw.status >= 500 && !(route == "GET /readyz" && sw.status == http.StatusServiceUnavailable)
			if log.Enabled(ctx, slog.LevelDebug) || serverError {
				lvl := slog.LevelDebug
				if serverError {
					lvl = slog.LevelError
				}
				log.Log(ctx, lvl, "http request", attrRequestID, rid, attrMethod, r.Method, attrPath, r.URL.Path, attrStatus, sw.status, attrDuration, d)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusClasses are the code labels of the duration metric, made once
// rather than per request.
var statusClasses = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

// statusClass is the code label of status: "2xx" for 201.
func statusClass(status int) string {
	if c := status / 100; c >= 0 && c < len(statusClasses) {
		return statusClasses[c]
	}
	return strconv.Itoa(status/100) + "xx"
}

// defaultCSP is the Content-Security-Policy of every response whose
// handler sets none: API answers, health checks, metrics and assets load
// nothing, are never framed and are no base for forms. A page that needs
// more (GraphiQL, the storefront, a plugin page) sets its own
// Content-Security-Policy header, which replaces this one.
const defaultCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// hstsMaxAge is how long a browser keeps to https once it saw the shop
// there: one year, this host only (the shop's domain may have other hosts
// still on http).
const hstsMaxAge = "max-age=31536000"

// securityHeaders sets the headers every response carries, before the
// handler runs so that a handler can override them. Referrer-Policy
// strict-origin-when-cross-origin keeps paths and query strings (cart and
// account tokens) to the shop's own origin; X-Frame-Options DENY and the
// CSP's frame-ancestors 'none' refuse framing (clickjacking) in old and
// new browsers; Strict-Transport-Security is sent only when the public URL
// is https, since on plain http it would lock browsers out.
func securityHeaders(next http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The values share one array, one allocation per response instead
		// of one per header (Header.Set makes a slice each); each slice is
		// capped at its one value, so a handler's Add copies instead of
		// writing into its neighbour. The keys are in canonical form, as
		// Set would make them.
		v := &[5]string{"nosniff", "strict-origin-when-cross-origin", "DENY", defaultCSP, hstsMaxAge}
		h := w.Header()
		h["X-Content-Type-Options"] = v[0:1:1]
		h["Referrer-Policy"] = v[1:2:2]
		h["X-Frame-Options"] = v[2:3:3]
		h["Content-Security-Policy"] = v[3:4:4]
		if https {
			h["Strict-Transport-Security"] = v[4:5:5]
		}
		next.ServeHTTP(w, r)
	})
}

// metricsHandler serves the registry in the Prometheus text format to
// callers holding report read: payments per gateway and outcome, the
// operations the shop answers and how busy it is are the owner's business
// figures, not the public's. Prometheus scrapes with an API key
// (authorization: credentials: kkey_...), authenticated like /graphql.
func metricsHandler(reg *prometheus.Registry, az authz.Authorizer, log *slog.Logger) http.Handler {
	serve := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := az.Can(r.Context(), authz.Report, authz.Read); err != nil {
			refuseRoute(w, r, log, "reading the metrics", err)
			return
		}
		serve.ServeHTTP(w, r)
	})
}
