package account_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store/storetest"
)

var quiet = slog.New(slog.DiscardHandler)

func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkLogin measures a buyer's sign-in with the production argon2id
// parameters (19 MiB, t=2, p=1) on SQLite: password check, throttle read,
// session insert. Slow by design.
func BenchmarkLogin(b *testing.B) {
	db := storetest.NewSQLite(b)
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer enf.Close()
	svc := build(b, db, enf, account.Options{Logger: quiet})
	ctx := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	if err := svc.Register(ctx, account.Registration{Email: "bench@example.com", Password: "a benchmark passphrase"}); err != nil {
		b.Fatal(err)
	}
	b.Run("correct password", func(b *testing.B) {
		ds := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, _, err := svc.Login(ctx, "bench@example.com", "a benchmark passphrase"); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		reportPercentiles(b, ds)
	})
	b.Run("unknown email", func(b *testing.B) {
		ds := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			start := time.Now()
			_, _, _ = svc.Login(ctx, fmt.Sprintf("nobody%d@example.com", i), "a benchmark passphrase")
			ds = append(ds, time.Since(start))
		}
		reportPercentiles(b, ds)
	})
}

// BenchmarkAuthenticate measures turning a session token into a subject,
// the per-request cost of a signed-in caller (one indexed lookup of the
// session, one of the account) on SQLite.
func BenchmarkAuthenticate(b *testing.B) {
	db := storetest.NewSQLite(b)
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer enf.Close()
	svc := build(b, db, enf, account.Options{Logger: quiet})
	ctx := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	if err := svc.Register(ctx, account.Registration{Email: "bench@example.com", Password: "a benchmark passphrase"}); err != nil {
		b.Fatal(err)
	}
	_, sess, err := svc.Login(ctx, "bench@example.com", "a benchmark passphrase")
	if err != nil {
		b.Fatal(err)
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := svc.Authenticate(context.Background(), sess.Token); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, ds)
}
