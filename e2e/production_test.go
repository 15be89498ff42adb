package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestProductionMode: KASSA_ENV=production serves no GraphiQL, answers no
// anonymous introspection and writes no buyer's sign-in token to the log.
func TestProductionMode(t *testing.T) {
	t.Parallel()
	in := start(t, t.TempDir(), "--env", "production")
	defer in.stop()

	req, _ := http.NewRequest(http.MethodGet, in.base+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Fatal("GraphiQL is served in production")
	}
	var intro struct {
		Schema *struct{ QueryType struct{ Name string } } `json:"__schema"`
	}
	in.graphql(`{ __schema { queryType { name } } }`, nil, &intro)
	if intro.Schema != nil {
		t.Fatal("anonymous introspection answered in production")
	}
	var reg struct {
		CustomerRegister struct{ UserErrors []struct{ Code string } }
	}
	in.graphql(`mutation { customerRegister(input: {email: "prod@example.com", password: "a long enough passphrase"}) { userErrors { code } } }`, nil, &reg)
	if len(reg.CustomerRegister.UserErrors) > 0 {
		t.Fatalf("register: %+v", reg.CustomerRegister.UserErrors)
	}
	// The owner setup token is printed for the person starting the shop;
	// a buyer's verification token must never be logged.
	for _, line := range strings.Split(in.logs.String(), "\n") {
		if strings.Contains(line, "level=") && strings.Contains(line, "ktok_") {
			t.Fatalf("a token reached the log in production: %s", line)
		}
	}
}
