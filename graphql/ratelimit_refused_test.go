package graphql

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
)

// TestRefusedDocumentSpendsNoBudget: a document refused before it runs
// (over the cost budget, too long, not parsed) answers its own error and
// spends refusedPoints of its client's points, not the cost it asked for
// (issue 9): the work it asked for never happened, and a client must not
// be locked out by one query it got wrong.
func TestRefusedDocumentSpendsNoBudget(t *testing.T) {
	t.Parallel()
	guest := authz.AnonymousSubject()
	overBudget := fmt.Sprintf(`{"query":%q}`, aliases(1500))
	broken := `{"query":"{ serverVersion"}`
	for _, tc := range []struct {
		name, body, wantCode string
	}{
		{"over the cost budget", overBudget, CodeTooComplex},
		{"a syntax error", broken, CodeValidationFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newLimitedEnv(t, nil)
			// Five refusals: 7500 points under the old accounting, five
			// times the whole bucket; 5 now.
			for range 5 {
				status, _, out := e.send(guest, "192.0.2.1", tc.body)
				if status != 200 || !strings.Contains(out, `"code":"`+tc.wantCode+`"`) {
					t.Fatalf("refused document: status %d %.300s; want 200 with %s", status, out, tc.wantCode)
				}
			}
			// 995 points left: a document of 990 runs at once.
			e.expect(guest, "192.0.2.1", fmt.Sprintf(`{"query":%q}`, aliases(990)), 200, "")
			// and the refusals did cost something: 5 left, 10 asked.
			e.expect(guest, "192.0.2.1", fmt.Sprintf(`{"query":%q}`, aliases(10)), 429, "1")
		})
	}
}
