package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetriesFollowTheSchedule: a notify_url that never answers "success"
// gets the first attempt and one retry per delay of the schedule (8 in
// all with Alipay's), then nothing more.
func TestRetriesFollowTheSchedule(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("fail"))
	}))
	defer rcv.Close()
	sched := make([]time.Duration, len(Schedule))
	for i, d := range Schedule {
		sched[i] = d / 24000 // 4m -> 10ms ... 15h -> 2.25s
	}
	s, err := Start(Options{AppID: "2021000000000001", AppPublicKey: &key.PublicKey, Schedule: sched})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.newTrade(url.Values{"notify_url": {rcv.URL}}, func(k string) string {
		return map[string]string{"out_trade_no": "o1", "total_amount": "1.00", "subject": "s"}[k]
	})
	s.mu.Unlock()
	if err := s.Pay("o1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Pay("o1"); err != ErrTradePaid {
		t.Errorf("paying twice: %v, want ErrTradePaid", err)
	}
	time.Sleep(5 * time.Second)
	notes := s.Notifications()
	if len(notes) != 8 || hits.Load() != 8 {
		t.Fatalf("%d attempts (%d received), want 8", len(notes), hits.Load())
	}
	for i := 1; i < len(notes); i++ {
		gap := notes[i].At.Sub(notes[i-1].At)
		if gap < sched[i-1] || notes[i].NotifyID != notes[0].NotifyID {
			t.Errorf("attempt %d after %s (want >= %s), notify_id %s", i+1, gap, sched[i-1], notes[i].NotifyID)
		}
	}
}
