package graphql

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/graphql/resolver"
)

// aliases is a document of cost n that costs next to nothing to run.
func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " a%d: serverVersion", i)
	}
	b.WriteString(" }")
	return b.String()
}

type limitedEnv struct {
	t     *testing.T
	srv   *Server
	clock *clock.Fake
}

// newLimitedEnv is a server with a budget of 1000 points, a bucket of
// 1000 refilled at 100 a second, and room for two clients.
func newLimitedEnv(t *testing.T, cache *CacheOptions) *limitedEnv {
	t.Helper()
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	limits := DefaultLimits
	limits.MaxCost = 1000
	return &limitedEnv{t: t, clock: fake, srv: testServer(t, Options{Limits: limits, Clock: fake, Cache: cache,
		RateLimit: &RateLimit{Burst: 1000, PerSecond: 100, MaxClients: 2}})}
}

// send posts body as sub from ip and returns the status, Retry-After and body.
func (e *limitedEnv) send(sub authz.Subject, ip, body string) (int, string, string) {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	ctx := account.WithClient(authz.WithSubject(context.Background(), sub), account.Client{IP: ip})
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r.WithContext(ctx))
	return w.Code, w.Header().Get("Retry-After"), w.Body.String()
}

func (e *limitedEnv) expect(sub authz.Subject, ip, body string, wantStatus int, wantRetry string) {
	e.t.Helper()
	status, retry, out := e.send(sub, ip, body)
	if status != wantStatus || retry != wantRetry {
		e.t.Fatalf("%s from %s: status %d Retry-After %q %.300s; want %d %q", sub.Kind, ip, status, retry, out, wantStatus, wantRetry)
	}
	if status == http.StatusTooManyRequests && !strings.Contains(out, `"code":"TOO_MANY_REQUESTS"`) {
		e.t.Fatalf("429 without its code: %s", out)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	guest, buyer := authz.AnonymousSubject(), authz.Subject{Kind: authz.KindCustomer, ID: "cus_1"}
	staff := authz.Subject{Kind: authz.KindStaff, ID: "usr_1", Roles: []string{"owner"}}
	doc400 := fmt.Sprintf(`{"query":%q}`, aliases(400))

	t.Run("a guest spends the bucket and waits for it", func(t *testing.T) {
		t.Parallel()
		e := newLimitedEnv(t, nil)
		e.expect(guest, "192.0.2.1", doc400, 200, "")
		e.expect(guest, "192.0.2.1", doc400, 200, "")
		// 200 points left, 400 needed: 2 s at 100 a second.
		e.expect(guest, "192.0.2.1", doc400, 429, "2")
		e.clock.Advance(time.Second)
		e.expect(guest, "192.0.2.1", doc400, 429, "1")
		e.clock.Advance(time.Second)
		e.expect(guest, "192.0.2.1", doc400, 200, "")
		// Another address has its own bucket; staff are not limited.
		e.expect(guest, "192.0.2.2", doc400, 200, "")
		for i := 0; i < 5; i++ {
			e.expect(staff, "192.0.2.1", doc400, 200, "")
		}
	})
	t.Run("buyers are limited too", func(t *testing.T) {
		t.Parallel()
		e := newLimitedEnv(t, nil)
		e.expect(buyer, "192.0.2.1", doc400, 200, "")
		e.expect(buyer, "192.0.2.1", doc400, 200, "")
		e.expect(buyer, "192.0.2.1", doc400, 429, "2")
	})
	t.Run("a batch is charged whole, before it runs", func(t *testing.T) {
		t.Parallel()
		e := newLimitedEnv(t, nil)
		q := fmt.Sprintf(`{"query":%q}`, aliases(300))
		e.expect(guest, "192.0.2.1", "["+q+","+q+"]", 200, "")  // 600
		e.expect(guest, "192.0.2.1", "["+q+","+q+"]", 429, "2") // 400 left
		e.expect(guest, "192.0.2.1", q, 200, "")                // 100 left
	})
	t.Run("an IPv6 /64 is one client", func(t *testing.T) {
		t.Parallel()
		e := newLimitedEnv(t, nil)
		e.expect(guest, "2001:db8:1:2::1", doc400, 200, "")
		e.expect(guest, "2001:db8:1:2::ffff", doc400, 200, "")
		e.expect(guest, "2001:db8:1:2:aaaa::3", doc400, 429, "2")
		e.expect(guest, "2001:db8:1:3::1", doc400, 200, "")
	})
	t.Run("memory is bounded: the least recent client is forgotten", func(t *testing.T) {
		t.Parallel()
		e := newLimitedEnv(t, nil)
		e.expect(guest, "192.0.2.1", doc400, 200, "")
		e.expect(guest, "192.0.2.1", doc400, 200, "")
		e.expect(guest, "192.0.2.2", doc400, 200, "")
		e.expect(guest, "192.0.2.3", doc400, 200, "") // forgets 192.0.2.1
		if n := len(e.srv.limiter.buckets); n != 2 {
			t.Fatalf("%d clients tracked", n)
		}
		e.expect(guest, "192.0.2.1", doc400, 200, "")
	})
	t.Run("cached public reads cost nothing", func(t *testing.T) {
		t.Parallel()
		e := newLimitedEnv(t, &CacheOptions{PublicFields: []string{"serverVersion"}})
		e.expect(guest, "192.0.2.1", doc400, 200, "") // executed and cached: 600 left
		for i := 0; i < 10; i++ {
			e.expect(guest, "192.0.2.1", doc400, 200, "")
		}
		e.expect(guest, "192.0.2.1", fmt.Sprintf(`{"query":%q}`, aliases(401)), 200, "") // 199 left
		e.expect(guest, "192.0.2.1", fmt.Sprintf(`{"query":%q}`, aliases(402)), 429, "3")
		// Over GET too, where the document is parsed for its type anyway.
		r := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(aliases(400)), nil)
		ctx := account.WithClient(authz.WithSubject(context.Background(), guest), account.Client{IP: "192.0.2.1"})
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, r.WithContext(ctx))
		if w.Code != http.StatusOK {
			t.Fatalf("cached GET: %d %s", w.Code, w.Body)
		}
	})
}

func TestNewRefusesABurstBelowTheBudget(t *testing.T) {
	t.Parallel()
	if _, err := New(resolver.Services{}, Options{RateLimit: &RateLimit{Burst: 10, PerSecond: 1, MaxClients: 1}}); err == nil {
		t.Fatal("a burst below the cost budget was accepted")
	}
}
