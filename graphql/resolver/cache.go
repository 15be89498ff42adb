package resolver

import "slices"

// CachePolicy is what the response cache (graphql.CacheOptions) may share
// between callers, and when it must forget it. Each domain declares its
// own next to its resolvers (catalogCache in catalog.go), and Cache
// collects them: a domain whose events change what a public read shows
// (promotions changing prices) adds its policy here, and core/app, which
// only passes the collection on, stays as it is.
type CachePolicy struct {
	// Fields are root Query fields whose answer, for guests and signed-in
	// buyers, depends only on the arguments: nothing personal, nothing a
	// buyer may see that a guest may not.
	Fields []string
	// Subjects are event subject filters after which a shared answer may
	// be stale; every instance drops its cached answers when one arrives.
	Subjects []string
}

// rootCache covers the root fields of schema.graphql: the version changes
// only with a restart.
var rootCache = CachePolicy{Fields: []string{"serverVersion"}}

// Cache returns the response cache policy of every domain, sorted and
// without repeats.
func Cache() CachePolicy {
	var out CachePolicy
	for _, p := range []CachePolicy{rootCache, catalogCache, settingsCache} {
		out.Fields = append(out.Fields, p.Fields...)
		out.Subjects = append(out.Subjects, p.Subjects...)
	}
	slices.Sort(out.Fields)
	slices.Sort(out.Subjects)
	out.Fields = slices.Compact(out.Fields)
	out.Subjects = slices.Compact(out.Subjects)
	return out
}
