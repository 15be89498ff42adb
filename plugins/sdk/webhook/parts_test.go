package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

func mac(secret, msg []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(msg)
	return m.Sum(nil)
}

func TestEqualMAC(t *testing.T) {
	msg := []byte("1700000000\n{\"id\":\"evt_1\"}")
	good := mac(secret, msg)
	for _, tc := range []struct {
		name        string
		secret, mac []byte
		msg         []byte
		want        bool
	}{
		{"signed", secret, good, msg, true},
		{"another message", secret, good, append([]byte("x"), msg...), false},
		{"another secret", []byte("other-secret"), good, msg, false},
		{"truncated", secret, good[:16], msg, false},
		{"empty", secret, nil, msg, false},
		{"the empty secret, signed with it", nil, mac(nil, msg), msg, false},
		{"an empty secret, signed with it", []byte{}, mac([]byte{}, msg), msg, false},
	} {
		if got := webhook.EqualMAC(tc.secret, tc.msg, tc.mac); got != tc.want {
			t.Errorf("%s: EqualMAC = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheckFresh(t *testing.T) {
	for _, tc := range []struct {
		name     string
		received time.Time
		tol      time.Duration
		stale    bool
	}{
		{"at once", t0, 0, false},
		{"at the edge", t0.Add(webhook.DefaultTolerance), 0, false},
		{"late", t0.Add(webhook.DefaultTolerance + time.Second), 0, true},
		{"from the future", t0.Add(-webhook.DefaultTolerance - time.Second), 0, true},
		{"a wider window", t0.Add(time.Hour), 2 * time.Hour, false},
	} {
		err := webhook.CheckFresh(t0, tc.received, tc.tol)
		if got := errors.Is(err, webhook.ErrStale); got != tc.stale || (err != nil) != tc.stale {
			t.Errorf("%s: CheckFresh = %v, want stale %v", tc.name, err, tc.stale)
		}
	}
}

func TestDeliveryKeyNamesWhatWasSigned(t *testing.T) {
	a, b := webhook.DeliveryKey([]byte("1700000000\nbody")), webhook.DeliveryKey([]byte("1700000000\nbody"))
	if a != b || a == webhook.DeliveryKey([]byte("1700000001\nbody")) || len(a) != 64 {
		t.Fatalf("keys %q %q", a, b)
	}
	cache := webhook.NewReplayCache(10)
	if !cache.Add(a, t0.Add(time.Minute), t0) || cache.Add(b, t0.Add(time.Minute), t0.Add(time.Second)) {
		t.Fatal("the same signed message is one delivery")
	}
}
