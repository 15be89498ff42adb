package store

import (
	"net/url"
	"strings"
)

// pgQueryExecMode is how pgx sends statements unless the URL says
// otherwise (default_query_exec_mode). bun writes its arguments into the
// statement text, so nearly every statement is a text PostgreSQL never
// saw; pgx's default (cache_statement) would prepare each one first, a
// second round trip, and keep it prepared until its cache of 512 evicts
// it. "exec" sends each in one round trip (an unnamed statement), and
// the statements QueryStmt prepares explicitly stay prepared.
const pgQueryExecMode = "exec"

// withExecMode adds default_query_exec_mode to a PostgreSQL URL that does
// not set it.
func withExecMode(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // sql.Open reports it
	}
	q := u.Query()
	if q.Has("default_query_exec_mode") {
		return rawURL
	}
	sep := "?"
	if strings.Contains(rawURL, "?") {
		sep = "&"
	}
	return rawURL + sep + "default_query_exec_mode=" + pgQueryExecMode
}
