package authz

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/store/storetest"
)

// reportPercentiles adds p50 and p99 of ds to the benchmark's output.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds()), "p99-ns")
}

// requestChecks is the authorization work of a typical GraphQL request of
// each kind of caller: the checks its services make.
var requestChecks = []struct {
	sub    Subject
	checks []Permission
}{
	{AnonymousSubject(), []Permission{{Product, Read}, {Collection, Read}}},
	{Subject{Kind: KindCustomer, ID: "cus_1", Roles: []string{RoleCustomer}, Store: DefaultStore},
		[]Permission{{Customer, Read}, {Customer, Own(Read)}, {Order, Own(Read)}}},
	{Subject{Kind: KindStaff, ID: "stf_1", Roles: []string{RoleSupport}, Store: DefaultStore},
		[]Permission{{Customer, Read}, {Order, Read}, {Product, Write}}},
	{Subject{Kind: KindStaff, ID: "stf_2", Roles: []string{RoleOwner}, Store: DefaultStore},
		[]Permission{{Role, Write}, {Settings, Write}}},
}

func benchRequests(b *testing.B, e *Enforcer) {
	ctxs := make([]context.Context, len(requestChecks))
	for i, rc := range requestChecks {
		ctxs[i] = WithSubject(context.Background(), rc.sub)
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(requestChecks)
		start := time.Now()
		for _, p := range requestChecks[k].checks {
			_ = e.Can(ctxs[k], p.Object, p.Action)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, ds)
}

// BenchmarkAuthorizationPerRequest measures the Casbin checks of one
// GraphQL request (2-3 checks, the mix of guests, buyers and staff) with
// the default policy: with the decision cache, as in production, and
// without it, the cost of the first request after a policy change.
func BenchmarkAuthorizationPerRequest(b *testing.B) {
	db := storetest.NewSQLite(b)
	e, err := NewEnforcer(context.Background(), db, Options{ReloadEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.Run("cached", func(b *testing.B) { benchRequests(b, e) })
	b.Run("uncached", func(b *testing.B) {
		e.ce.EnableCache(false)
		e.decisions.Store(nil)
		defer func() {
			e.ce.EnableCache(true)
			e.decisions.Store(newDecisionCache())
		}()
		benchRequests(b, e)
	})
}
