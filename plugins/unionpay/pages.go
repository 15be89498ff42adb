package main

import (
	"context"
	"crypto/subtle"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
)

// payWindow bounds payTimeout: how long the buyer may take on UnionPay's
// cashier after the pay page posted the order, unless the order's own
// deadline comes first. It is also how long a buyer who was already on
// the cashier can pay after a cancel.
const payWindow = 15 * time.Minute

var payPage = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1.1rem;padding:.7rem 1.4rem;border:0;border-radius:.4rem;background:#e60012;color:#fff;cursor:pointer}</style>
</head><body>
<h1>{{.Title}}</h1>
<p>{{.Body}}</p>
<form id="unionpay" method="post" action="{{.Action}}" accept-charset="UTF-8">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit">{{.Button}}</button>
</form>
<script>document.getElementById("unionpay").submit();</script>
</body></html>
`))

var messagePage = template.Must(template.New("msg").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>UnionPay</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head><body><p>{{.Body}}</p>{{if .Link}}<p><a href="{{.Link}}">&larr;</a></p>{{end}}</body></html>
`))

type field struct{ Name, Value string }

func htmlResponse(status int, body []byte) sdk.HTTPResponse {
	return sdk.HTTPResponse{Status: status, Body: body, Header: http.Header{
		"Content-Type":  {"text/html; charset=utf-8"},
		"Cache-Control": {"no-store"},
	}}
}

func notFound() sdk.HTTPResponse {
	return sdk.HTTPResponse{Status: http.StatusNotFound, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte("not found")}
}

func message(status int, locale string, t text, link string) (sdk.HTTPResponse, error) {
	var sb strings.Builder
	lang := "en"
	if strings.HasPrefix(strings.ToLower(locale), "zh") {
		lang = "zh-CN"
	}
	if err := messagePage.Execute(&sb, map[string]string{"Lang": lang, "Body": t.in(locale), "Link": link}); err != nil {
		return sdk.HTTPResponse{}, err
	}
	return htmlResponse(status, []byte(sb.String())), nil
}

// HandleHTTP implements sdk.Plugin: the buyer's pages.
//
//	GET /pay/{attempt}?k=token   signs the front consumption and posts it to UnionPay
//	GET|POST /return/{attempt}   UnionPay's frontUrl: back to the shop's return URL
func (g *Gateway) HandleHTTP(ctx context.Context, req sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	kind, rest, _ := strings.Cut(strings.TrimPrefix(req.Path, "/"), "/")
	id, err := url.PathUnescape(rest)
	if err != nil || id == "" || strings.Contains(id, "/") {
		return notFound(), nil
	}
	switch {
	case kind == "pay" && (req.Method == http.MethodGet || req.Method == http.MethodHead):
		return g.payPage(req, id)
	case kind == "return" && (req.Method == http.MethodGet || req.Method == http.MethodPost):
		a, ok := g.journal.Get(id)
		if !ok || a.Declined != "" {
			return notFound(), nil
		}
		// UnionPay posts the front notification here; it is never proof
		// of payment (the back notification and the query are), so it is
		// not even read: the buyer goes back to the shop.
		if a.ReturnURL != "" {
			return sdk.HTTPResponse{Status: http.StatusSeeOther, Header: http.Header{"Location": {a.ReturnURL}, "Cache-Control": {"no-store"}}}, nil
		}
		return message(http.StatusOK, pageLocale(a.Locale, req.Header.Get("Accept-Language")), textReturned, "")
	}
	return notFound(), nil
}

func (g *Gateway) payPage(req sdk.HTTPRequest, id string) (sdk.HTTPResponse, error) {
	c, err := g.configured()
	if err != nil {
		return sdk.HTTPResponse{Status: http.StatusServiceUnavailable, Body: []byte("UnionPay is not configured")}, nil
	}
	q, _ := url.ParseQuery(req.Query)
	a, ok := g.journal.Get(id)
	if !ok || a.Declined != "" || a.Token == "" || subtle.ConstantTimeCompare([]byte(q.Get("k")), []byte(a.Token)) != 1 {
		return notFound(), nil
	}
	locale := pageLocale(a.Locale, req.Header.Get("Accept-Language"))
	now := g.now()
	if a.Canceled {
		return message(http.StatusGone, locale, textCanceled, a.ReturnURL)
	}
	deadline := now.Add(payWindow)
	if !a.ExpiresAt.IsZero() && a.ExpiresAt.Before(deadline) {
		deadline = a.ExpiresAt
	}
	if !deadline.After(now.Add(time.Minute)) {
		return message(http.StatusGone, locale, textExpired, a.ReturnURL)
	}
	base := req.BaseURL
	if base == "" {
		base = a.PayBase
	}
	form, err := c.api.frontForm(a, id, strings.TrimRight(base, "/")+"/return/"+url.PathEscape(id), deadline)
	if err != nil {
		return sdk.HTTPResponse{}, err
	}
	fields := make([]field, 0, len(form))
	for _, k := range sortedKeys(form) {
		fields = append(fields, field{k, form.Get(k)})
	}
	lang := "en"
	if strings.HasPrefix(strings.ToLower(locale), "zh") {
		lang = "zh-CN"
	}
	var sb strings.Builder
	err = payPage.Execute(&sb, map[string]any{
		"Lang": lang, "Title": textPayTitle.in(locale), "Button": textPayButton.in(locale),
		"Body":   fmt.Sprintf(textPayBody.in(locale), fmt.Sprintf("¥%d.%02d", a.Amount/100, a.Amount%100)),
		"Action": c.api.base + pathFront, "Fields": fields,
	})
	if err != nil {
		return sdk.HTTPResponse{}, err
	}
	return htmlResponse(http.StatusOK, []byte(sb.String())), nil
}
