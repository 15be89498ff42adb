package app_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/testkit"
)

// TestGraphQLLineIsOn: the shop's GraphQL operations wait in line by
// default, 4 slots per CPU (KASSA_GRAPHQL_CONCURRENCY=0, ADR 0011), and
// /metrics shows the line.
func TestGraphQLLineIsOn(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		text := metricsText(t, ta.URL)
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

// metricsText returns the shop's /metrics page.
func metricsText(t *testing.T, shopURL string) string {
	t.Helper()
	resp, err := http.Get(shopURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
