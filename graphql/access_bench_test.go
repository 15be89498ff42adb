package graphql_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
)

// BenchmarkRequestAuthorization runs small GraphQL requests in-process
// with the default Casbin policy and with AllowAll; the difference is the
// authorization cost per request (its p50/p99 are reported for each).
func BenchmarkRequestAuthorization(b *testing.B) {
	db := storetest.NewSQLite(b)
	quiet := slog.New(slog.DiscardHandler)
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer enf.Close()
	reqs := []struct {
		sub   authz.Subject
		query string
	}{
		{authz.AnonymousSubject(), `{ products(first: 24) { nodes { id } } collections { nodes { id } } }`},
		{authz.Subject{Kind: authz.KindStaff, ID: "stf_1", Roles: []string{authz.RoleManager}, Store: authz.DefaultStore},
			`{ customers(first: 20) { nodes { id } } roles { name } }`},
	}
	for _, mode := range []struct {
		name string
		az   authz.Authorizer
	}{{"casbin", enf}, {"allow-all", authz.AllowAll{}}} {
		b.Run(mode.name, func(b *testing.B) {
			acc := newAccounts(b, db, enf, account.Options{Logger: quiet})
			srv, err := graphql.New(resolver.Services{Catalog: newCatalog(b, db, mode.az), Accounts: acc, Access: enf},
				graphql.Options{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			ctxs := make([]context.Context, len(reqs))
			for i, r := range reqs {
				ctxs[i] = authz.WithSubject(context.Background(), r.sub)
			}
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % len(reqs)
				start := time.Now()
				if res := srv.Exec(ctxs[k], graphql.Request{Query: reqs[k].query}); len(res.Errors) > 0 && mode.name == "casbin" {
					b.Fatal(res.Errors[0].Message)
				}
				ds = append(ds, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
		})
	}
}
