package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
)

// BenchmarkCostAttack sends the anonymous batch of issue 7 item 4 (10
// documents of 285 aliases of a 100-product page) against 100 active
// products: the budget refuses it before execution, so an iteration costs
// the parse and the cost check, and the answer stays small. Figures in
// BENCHMARKS.md.
func BenchmarkCostAttack(b *testing.B) {
	ta := testkit.NewTestApp(b, testkit.SQLite)
	owner := authz.SystemSubject("seed")
	for i := 0; i < 100; i++ {
		res := ta.Exec(owner, `mutation($input: ProductCreateInput!) { productCreate(input: $input) { userErrors { code } } }`,
			in("title", fmt.Sprintf("Tea %d", i), "status", "ACTIVE", "variants", []any{map[string]any{"sku": fmt.Sprintf("SKU-%d", i), "inventoryQuantity": 5}}))
		if len(res.Errors) > 0 {
			b.Fatal(res.Errors[0].Message)
		}
	}
	batch := make([]graphql.Request, 10)
	for i := range batch {
		batch[i] = graphql.Request{Query: attackDocument(i)}
	}
	body, err := json.Marshal(batch)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Post(ta.URL+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		size, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || size > 4096 {
			b.Fatalf("status %d, answer %d bytes: the batch was not refused", resp.StatusCode, size)
		}
	}
	b.ReportMetric(float64(size), "answer-bytes")
	b.ReportMetric(float64(len(body)), "request-bytes")
}

// BenchmarkRepeatedSelections sends an anonymous document of 6,000
// spreads of one fragment (24 KB), in the cost of its refusal:
// validation compares same-named selections pairwise, and
// Limits.MaxOverlapPairs stops it. Figures in BENCHMARKS.md.
func BenchmarkRepeatedSelections(b *testing.B) {
	ta := testkit.NewTestApp(b, testkit.SQLite)
	body, err := json.Marshal(graphql.Request{Query: "fragment F on Query { serverVersion } {" + strings.Repeat(" ...F", 6000) + " }"})
	if err != nil {
		b.Fatal(err)
	}
	// An API key, which the per-address budget does not limit: a guest
	// gets TOO_MANY_REQUESTS after three (each is priced 6,000).
	_, key, err := ta.Accounts.Service.CreateAPIKey(authz.WithSubject(context.Background(), authz.SystemSubject("bench")), "bench", authz.RoleDeveloper)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest(http.MethodPost, ta.URL+"/graphql", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(out, []byte("QUERY_TOO_COMPLEX")) {
			b.Fatalf("not refused: %s", out)
		}
	}
}
