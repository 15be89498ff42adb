package sandbox

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestScheduleSpansThreeDays: 25 retries, the last about three days
// after the first attempt, as PayPal documents.
func TestScheduleSpansThreeDays(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for _, d := range Schedule {
		total += d
	}
	if len(Schedule) != 25 || total < 71*time.Hour || total > 73*time.Hour {
		t.Errorf("%d retries over %s, want 25 over about 72h", len(Schedule), total)
	}
}

// TestRetriesUntil2xx: a webhook URL that keeps failing gets the first
// transmission and one per delay of the schedule, each a new
// transmission of the same event, then nothing more.
func TestRetriesUntil2xx(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer rcv.Close()
	sched := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}
	sb, err := Start(Options{ClientID: "c", Secret: "s", WebhookID: "WH1234567", WebhookURL: rcv.URL, Schedule: sched})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	sb.deliver(sb.eventLocked("PAYMENT.CAPTURE.COMPLETED", "capture", map[string]string{"id": "X"}), false)
	time.Sleep(300 * time.Millisecond)
	ds := sb.Deliveries()
	if len(ds) != 4 || hits.Load() != 4 {
		t.Fatalf("%d transmissions (%d hits), want 4: the first and 3 retries", len(ds), hits.Load())
	}
	seen := map[string]bool{}
	for _, d := range ds {
		if d.EventID != ds[0].EventID || seen[d.TransmissionID] {
			t.Errorf("retry %+v: want the same event id in a new transmission", d)
		}
		seen[d.TransmissionID] = true
	}
}
