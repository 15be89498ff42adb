package plugin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/host"
)

// MaxHTTPBody is the largest request body forwarded to a plugin page.
const MaxHTTPBody = 1 << 20

// hopHeaders are not forwarded in either direction (RFC 9110 7.6.1), and
// the shop's own credentials never reach a plugin: a plugin is third-party
// code and must not see a staff session or API key.
var (
	hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}
	// privateHeaders carry the shop's credentials. apiKeyHeader is
	// httpauth.APIKeyHeader, which this package may not import.
	privateHeaders = []string{"Cookie", "Authorization", "Proxy-Authorization", apiKeyHeader}
)

const apiKeyHeader = "X-Kassa-Api-Key"

// PageCSP is the Content-Security-Policy of every plugin page. Plugin
// pages are served on the shop's origin, where a script could call
// /graphql with the visitor's session cookie and read the answer. The
// sandbox directive, without allow-same-origin, runs the page in an opaque
// origin instead: it reads no cookie or storage of the shop, its requests
// to the shop are cross-site (SameSite cookies stay home) and their
// answers unreadable, and connect-src 'none' stops fetch, XHR, WebSocket
// and EventSource outright. Forms, scripts and images still work, so a
// payment page can post its form and send the buyer back to the shop.
const PageCSP = "sandbox allow-forms allow-scripts allow-popups allow-popups-to-escape-sandbox; " +
	"default-src 'none'; script-src 'self' 'unsafe-inline' https:; style-src 'self' 'unsafe-inline' https:; " +
	"img-src 'self' data: https:; font-src 'self' data: https:; connect-src 'none'; " +
	"form-action 'self' https:; base-uri 'none'; frame-ancestors 'none'"

// HTTPHandler serves /plugins/{id}/... on behalf of enabled plugins (a
// plugin has no listener of its own): testpay's simulated payment page,
// OAuth callbacks. Mount it at "/plugins/". The request reaches the
// plugin's HandleHTTP with Path below the prefix; Cookie and Authorization
// headers are removed, the plugin cannot set cookies on the shop's
// domain, and every answer carries PageCSP (a plugin's own policy can
// only add restrictions).
func (s *Service) HTTPHandler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/plugins/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	id, sub, hasSub := strings.Cut(rest, "/")
	if id == "" {
		http.NotFound(w, r)
		return
	}
	if !hasSub {
		http.Redirect(w, r, "/plugins/"+id+"/", http.StatusMovedPermanently)
		return
	}
	ctx := r.Context()
	row, err := s.enabledRow(ctx, id)
	if err != nil || !row.Enabled {
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			s.log.Error("plugin page", attrPlugin, id, attrErr, err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxHTTPBody))
	if err != nil {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	header := r.Header.Clone()
	for _, h := range append(hopHeaders, privateHeaders...) {
		header.Del(h)
	}
	remote := r.RemoteAddr
	if h, _, err := net.SplitHostPort(remote); err == nil {
		remote = h
	}
	inst, err := s.instance(id)
	if err != nil {
		http.Error(w, "plugin unavailable", http.StatusServiceUnavailable)
		return
	}
	var res sdk.HTTPResponse
	err = inst.call(ctx, "Plugin.HandleHTTP", domainSentinels{}, func(ctx context.Context, p *host.Plugin) error {
		var err error
		res, err = p.Plugin().HandleHTTP(ctx, sdk.HTTPRequest{
			Method: r.Method, Path: "/" + sub, Query: r.URL.RawQuery, Header: header, Body: body,
			BaseURL: s.opts.BaseURL + "/plugins/" + id, RemoteAddr: remote,
		})
		return err
	})
	if err != nil {
		var de *errs.Error
		switch {
		case errors.As(err, &de) && de.Code == CodeNotSupported:
			http.NotFound(w, r)
		case errors.As(err, &de) && de.Code == CodeTimeout:
			http.Error(w, "the plugin did not answer in time", http.StatusGatewayTimeout)
		default:
			http.Error(w, "the plugin is unavailable; try again shortly", http.StatusServiceUnavailable)
		}
		return
	}
	// Set, not add: this replaces the server's default policy, which
	// allows no forms. A plugin's own policies are added after it, and
	// browsers enforce every policy, so they only tighten the sandbox.
	w.Header().Set("Content-Security-Policy", PageCSP)
	for k, vs := range res.Header {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Set-Cookie" || containsFold(hopHeaders, ck) {
			continue
		}
		for _, v := range vs {
			w.Header().Add(ck, v)
		}
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(res.StatusCode())
	_, _ = w.Write(res.Body)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
