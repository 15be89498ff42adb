package graphql_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
