package graphql_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
)

// TestMeasureCostAttack times the batch of issue 7 item 4 against 100
// active products, for the figures in docs/security.md. It runs only
// with KASSA_MEASURE_ATTACK set (to the number of documents, 1 to 10):
// without the budget it takes seconds and hundreds of megabytes.
func TestMeasureCostAttack(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("KASSA_MEASURE_ATTACK"))
	if n <= 0 {
		t.Skip("set KASSA_MEASURE_ATTACK=<documents> to measure")
	}
	db := storetest.NewSQLite(t)
	e := newAccountsEnv(t, db)
	owner := authz.SystemSubject("seed")
	for i := 0; i < 100; i++ {
		res := e.exec(owner, `mutation($input: ProductCreateInput!) { productCreate(input: $input) { userErrors { code } } }`,
			in("title", fmt.Sprintf("Tea %d", i), "status", "ACTIVE", "variants", []any{map[string]any{"sku": fmt.Sprintf("SKU-%d", i), "inventoryQuantity": 5}}))
		must(t, res)
	}
	batch := make([]graphql.Request, n)
	for i := range batch {
		batch[i] = graphql.Request{Query: attackDocument(i)}
	}
	body := []byte(mustJSON(t, batch))
	start := time.Now()
	resp, err := http.Post(e.http.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	size, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.Logf("%d documents, request %d bytes: status %d, %s, answer %d bytes", n, len(body), resp.StatusCode, time.Since(start), size)
}
