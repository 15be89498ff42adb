package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/httpauth"
)

// fakeApplier records the notifications it is handed and answers with
// out and err.
type fakeApplier struct {
	calls []string
	req   payment.WebhookRequest
	out   *payment.WebhookOutcome
	err   error
}

func (f *fakeApplier) ApplyWebhook(ctx context.Context, id string, req payment.WebhookRequest) (*payment.WebhookOutcome, error) {
	f.calls = append(f.calls, id)
	f.req = req
	return f.out, f.err
}

func serveWebhook(f *fakeApplier, req *http.Request) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	webhookRoutes(mux, f, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

// TestWebhookHandlerRefusesOddIDs: only payment plugin ids reach the
// payment service; anything else is 404 before it.
func TestWebhookHandlerRefusesOddIDs(t *testing.T) {
	for _, path := range []string{"/webhooks/notify.email", "/webhooks/PAYMENT.TESTPAY", "/webhooks/payment.test%20pay",
		"/webhooks/payment.a%00b", "/webhooks/payment.", "/webhooks/payment..x", "/webhooks/payment.x%2F..%2F..",
		"/webhooks/payment." + strings.Repeat("x", 64), "/webhooks/payment.%E6%94%AF%E4%BB%98", "/webhooks/"} {
		f := &fakeApplier{}
		rec := serveWebhook(f, httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}")))
		if rec.Code != http.StatusNotFound || len(f.calls) != 0 {
			t.Errorf("POST %s: %d, applier called with %v; want 404 and no call", path, rec.Code, f.calls)
		}
	}
}

// TestWebhookHandlerErrors: each failure before commit gets the status
// that makes a gateway retry (or stop, for an unknown gateway), and its
// text never reaches the caller.
func TestWebhookHandlerErrors(t *testing.T) {
	const secretDetail = "dsn=postgres://kassa:hunter2@db"
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"unknown plugin", errs.NotFound(plugin.CodeNotFound, "plugin payment.x "+secretDetail), http.StatusNotFound},
		{"not a payment plugin", errs.Invalid("", plugin.CodeWrongKind, secretDetail), http.StatusNotFound},
		{"plugin down", fmt.Errorf("call: %w", errs.Unavailable(plugin.CodeUnavailable, secretDetail)), http.StatusServiceUnavailable},
		{"plugin disabled", errs.Unavailable(plugin.CodeDisabled, secretDetail), http.StatusServiceUnavailable},
		{"not applied", errs.Unavailable(payment.CodeWebhookFailed, secretDetail), http.StatusInternalServerError},
		{"anything else", errors.New(secretDetail), http.StatusInternalServerError},
	} {
		f := &fakeApplier{err: tc.err}
		rec := serveWebhook(f, httptest.NewRequest(http.MethodPost, "/webhooks/payment.testpay", strings.NewReader(`{"id":"evt_1"}`)))
		if rec.Code != tc.status || strings.Contains(rec.Body.String(), "hunter2") || len(f.calls) != 1 {
			t.Errorf("%s: %d %q after %d calls; want %d without the error's text", tc.name, rec.Code, rec.Body.String(), len(f.calls), tc.status)
		}
	}
}

// TestWebhookHandlerHandsOnAndAnswers: the plugin gets the raw body, the
// headers less cookies and hop-by-hop ones, the path below its id, the
// query and the time of receipt; the gateway gets the plugin's answer,
// less cookies. An oversized body never reaches the plugin.
func TestWebhookHandlerHandsOnAndAnswers(t *testing.T) {
	f := &fakeApplier{out: &payment.WebhookOutcome{Applied: 1, Response: payment.WebhookResponse{Status: http.StatusNoContent,
		Header: map[string][]string{"X-Gateway": {"ok"}, "Set-Cookie": {"session=stolen"}}}}}
	body := "{\"id\":\"evt_1\",\"raw\":\"\\u00e9 \xe9\"}" // not even valid UTF-8: byte for byte
	req := httptest.NewRequest(http.MethodPost, "/webhooks/payment.alipay/notify/v2?charset=utf-8&sign_type=RSA2", strings.NewReader(body))
	req.Header.Set("Cookie", "kassa_session=staff")
	req.Header.Set(httpauth.APIKeyHeader, "kkey_staffs_own")
	req.Header.Set("Authorization", "Basic Z2F0ZXdheTpzZWNyZXQ=")
	req.Header.Set("Connection", "keep-alive")
	req.Header.Set("Wechatpay-Signature", "abc")
	before := time.Now()
	rec := serveWebhook(f, req)
	if rec.Code != http.StatusNoContent || rec.Header().Get("X-Gateway") != "ok" || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("answer %d %v; want the plugin's 204 without its cookie", rec.Code, rec.Header())
	}
	got := f.req
	if string(got.Body) != body || got.Path != "/notify/v2" || got.Query != "charset=utf-8&sign_type=RSA2" || got.Method != http.MethodPost ||
		got.ReceivedAt.Before(before) || got.ReceivedAt.After(time.Now()) {
		t.Fatalf("handed on %+v", got)
	}
	h := http.Header(got.Header)
	if h.Get("Cookie") != "" || h.Get(httpauth.APIKeyHeader) != "" || h.Get("Connection") != "" || h.Get("Wechatpay-Signature") != "abc" || h.Get("Authorization") == "" {
		t.Fatalf("headers handed on: %v", h)
	}

	// A rejected notification: the plugin's refusal, as it chose it.
	f = &fakeApplier{out: &payment.WebhookOutcome{Rejected: payment.RejectBadSignature, Response: payment.WebhookResponse{Status: http.StatusUnauthorized,
		Header: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte(`{"error":"BAD_SIGNATURE"}`)}}}
	rec = serveWebhook(f, httptest.NewRequest(http.MethodPost, "/webhooks/payment.testpay", strings.NewReader("{}")))
	if rec.Code != http.StatusUnauthorized || rec.Body.String() != `{"error":"BAD_SIGNATURE"}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("rejection answered %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}

	// A plugin answer without a status is a 200.
	f = &fakeApplier{out: &payment.WebhookOutcome{Response: payment.WebhookResponse{Body: []byte("success")}}}
	rec = serveWebhook(f, httptest.NewRequest(http.MethodPost, "/webhooks/payment.alipay", strings.NewReader("x=1")))
	if rec.Code != http.StatusOK || rec.Body.String() != "success" {
		t.Fatalf("Alipay-style answer: %d %q", rec.Code, rec.Body.String())
	}

	f = &fakeApplier{}
	rec = serveWebhook(f, httptest.NewRequest(http.MethodPost, "/webhooks/payment.testpay", io.LimitReader(neverEnding('x'), MaxWebhookBody+1)))
	if rec.Code != http.StatusRequestEntityTooLarge || len(f.calls) != 0 {
		t.Fatalf("oversized body: %d, %d calls; want 413 and no call", rec.Code, len(f.calls))
	}
	f = &fakeApplier{out: &payment.WebhookOutcome{}}
	rec = serveWebhook(f, httptest.NewRequest(http.MethodPost, "/webhooks/payment.testpay", io.LimitReader(neverEnding('x'), MaxWebhookBody)))
	if rec.Code != http.StatusOK || len(f.calls) != 1 || len(f.req.Body) != MaxWebhookBody {
		t.Fatalf("body at the limit: %d, %d calls, %d bytes; want it handed on", rec.Code, len(f.calls), len(f.req.Body))
	}
}

// neverEnding is an endless stream of one byte.
type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
