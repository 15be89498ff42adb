package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
)

// TestGraphQLLineIsOn: the shop's GraphQL operations wait in line by
// default, 4 slots per CPU (KASSA_GRAPHQL_CONCURRENCY=0, ADR 0011), and
// /metrics shows the line.
func TestGraphQLLineIsOn(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		text := metricsText(t, ta)
		for _, line := range []string{
			fmt.Sprintf("kassa_graphql_admission_slots %d", 4*runtime.GOMAXPROCS(0)),
			"kassa_graphql_admission_waiting 0",
			"kassa_graphql_admission_late_total 0",
		} {
			if !strings.Contains(text, line+"\n") {
				t.Errorf("/metrics lacks %s", line)
			}
		}
	})
}

// metricsText returns the shop's /metrics page as Prometheus reads it:
// with an API key of a role holding report:read.
func metricsText(t *testing.T, ta *testkit.TestApp) string {
	t.Helper()
	_, key, err := ta.Accounts.Service.CreateAPIKey(authz.WithSubject(context.Background(), authz.SystemSubject("test")), "prometheus", authz.RoleDeveloper)
	if err != nil {
		t.Fatal(err)
	}
	status, body := getMetrics(t, ta.URL, "Bearer "+key)
	if status != http.StatusOK {
		t.Fatalf("/metrics with a developer's key: %d %s", status, body)
	}
	return body
}

// getMetrics requests /metrics with the Authorization header auth (none
// when empty).
func getMetrics(t *testing.T, shopURL, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, shopURL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestMetricsNeedReportRead: the shop's figures are for callers holding
// report:read; everyone else gets a JSON refusal without a single metric.
func TestMetricsNeedReportRead(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		system := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		_, support, err := ta.Accounts.Service.CreateAPIKey(system, "helpdesk", authz.RoleSupport)
		if err != nil {
			t.Fatal(err)
		}
		_, finance, err := ta.Accounts.Service.CreateAPIKey(system, "books", authz.RoleFinance)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, auth string
			status     int
			code       string
		}{
			{"anonymous", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"an unknown key", "Bearer kkey_not_a_real_key", http.StatusUnauthorized, ""},
			{"support, without report:read", "Bearer " + support, http.StatusForbidden, "FORBIDDEN"},
			{"finance", "Bearer " + finance, http.StatusOK, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, body := getMetrics(t, ta.URL, c.auth)
				if status != c.status || !strings.Contains(body, c.code) {
					t.Fatalf("%d %s, want %d %s", status, body, c.status, c.code)
				}
				if hasMetrics := strings.Contains(body, "kassa_http_request_duration_seconds"); hasMetrics != (status == http.StatusOK) {
					t.Fatalf("metrics shown: %v, status %d", hasMetrics, status)
				}
			})
		}
	})
}
