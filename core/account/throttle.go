package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/kassahq/kassa/core/kit/errs"
)

// ThrottlePolicy tunes sign-in throttling. Failed sign-ins are counted per
// account (the email, whether or not an account exists, so the answer
// tells nothing) and per client address. Past the free failures, each
// further failure blocks that key for Base doubled per failure, capped at
// Max: guessing gets exponentially slow, yet the real user is never locked
// out for longer than Max, and a password reset clears the account's
// count. The counts live in the database so every instance behind a load
// balancer shares them (an in-memory count per instance would multiply an
// attacker's budget by the number of instances); only failures write.
type ThrottlePolicy struct {
	// AccountFree is how many failures an account gets before back-off.
	AccountFree int
	// IPFree is how many failures a client address gets before back-off
	// (higher: offices and mobile carriers share addresses).
	IPFree int
	// Base is the first block.
	Base time.Duration
	// Max caps a block.
	Max time.Duration
	// AccountWindow restarts an account's count after this long without a
	// failure.
	AccountWindow time.Duration
	// IPWindow restarts an address's count after this long without a
	// failure.
	IPWindow time.Duration
}

// DefaultThrottle is the throttle of a shop: 5 free failures per account,
// 50 per address, then 1 s, 2 s, 4 s ... up to 15 minutes.
var DefaultThrottle = ThrottlePolicy{
	AccountFree: 5, IPFree: 50,
	Base: time.Second, Max: 15 * time.Minute,
	AccountWindow: 24 * time.Hour, IPWindow: time.Hour,
}

func accountKey(kind PrincipalKind, email string) string {
	sum := sha256.Sum256([]byte(string(kind) + ":" + email))
	return "acct:" + hex.EncodeToString(sum[:16])
}

func ipKey(ip string) string { return "ip:" + ip }

type throttleKey struct {
	key    string
	free   int
	window time.Duration
}

func (s *Service) throttleKeys(ctx context.Context, kind PrincipalKind, email string) []throttleKey {
	p := s.opts.Throttle
	keys := []throttleKey{{accountKey(kind, email), p.AccountFree, p.AccountWindow}}
	if ip := ClientFrom(ctx).IP; ip != "" {
		keys = append(keys, throttleKey{ipKey(ip), p.IPFree, p.IPWindow})
	}
	return keys
}

// checkThrottle refuses a sign-in while one of its keys is blocked.
func (s *Service) checkThrottle(ctx context.Context, keys []throttleKey) error {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.key
	}
	rows, err := s.st.throttleRows(ctx, names)
	if err != nil {
		return err
	}
	now := s.now()
	var wait time.Duration
	for _, r := range rows {
		if r.BlockedUntil != nil && r.BlockedUntil.After(now) {
			if d := r.BlockedUntil.Sub(now); d > wait {
				wait = d
			}
		}
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		unit := "seconds"
		if secs == 1 {
			unit = "second"
		}
		return errs.Limited(CodeTooManyAttempts, fmt.Sprintf("too many failed sign-ins; try again in %d %s", secs, unit))
	}
	return nil
}

// recordFailures counts a failed sign-in against every key.
func (s *Service) recordFailures(ctx context.Context, keys []throttleKey) error {
	now := s.now()
	for _, k := range keys {
		n, err := s.st.recordFailure(ctx, k.key, now, k.window)
		if err != nil {
			return err
		}
		if over := n - k.free; over > 0 {
			if err := s.st.blockUntil(ctx, k.key, now.Add(s.backoff(over))); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) backoff(over int) time.Duration {
	p := s.opts.Throttle
	if over > 30 {
		return p.Max
	}
	d := p.Base << (over - 1)
	if d > p.Max || d <= 0 {
		return p.Max
	}
	return d
}

// MailPolicy limits the account emails anyone can ask Kassa to send
// (password reset links, verification links): per recipient address, so
// nobody can flood an inbox, and per client address, so one client cannot
// spread the flood over many recipients.
type MailPolicy struct {
	// PerAddress is how many such emails one address gets per Window;
	// requests beyond it end quietly, with the usual answer.
	PerAddress int
	// PerIP is how many such requests one client address may make per
	// Window; beyond it the request is refused with TOO_MANY_REQUESTS.
	PerIP int
	// Window is the period the counts cover.
	Window time.Duration
}

// DefaultMailPolicy allows 5 account emails per address and 30 requests per
// client address an hour.
var DefaultMailPolicy = MailPolicy{PerAddress: 5, PerIP: 30, Window: time.Hour}

// mayMail counts a request for an account email to email and says whether
// it may be sent. The per-address count is kept whether or not an account
// has the address, and a request over it gets the same quiet answer as an
// unknown address: the limit tells nothing about accounts. A client over
// its own limit gets errs.ErrLimited, which tells nothing either.
func (s *Service) mayMail(ctx context.Context, kind PrincipalKind, email string) (bool, error) {
	p, now := s.opts.Mail, s.now()
	if ip := ClientFrom(ctx).IP; ip != "" {
		n, err := s.st.recordFailure(ctx, "mailip:"+ip, now, p.Window)
		if err != nil {
			return false, err
		}
		if n > p.PerIP {
			return false, errs.Limited(CodeTooManyRequests, "too many requests from this address; try again later")
		}
	}
	sum := sha256.Sum256([]byte(string(kind) + ":" + email))
	n, err := s.st.recordFailure(ctx, "mail:"+hex.EncodeToString(sum[:16]), now, p.Window)
	if err != nil {
		return false, err
	}
	if n > p.PerAddress {
		s.log.WarnContext(ctx, "account email limit reached; request dropped", "kind", string(kind))
		return false, nil
	}
	return true, nil
}
