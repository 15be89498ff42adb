package app

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestRequestDurationSeries: the duration of each request lands in the
// series of its route, method and status class, whether the series was
// kept from an earlier request or not, and a method a client made up is
// counted without being kept.
func TestRequestDurationSeries(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := newHTTPMetrics(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	h := instrument(mux, slog.New(slog.NewTextHandler(io.Discard, nil)), m)
	for _, req := range []struct{ method, url string }{
		{"GET", "/x"}, {"GET", "/x"}, {"GET", "/x?fail=1"}, {"POST", "/x"}, {"BREW", "/x"}, {"BREW", "/x"}, {"GET", "/nowhere"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.url, nil))
	}
	want := map[[3]string]uint64{
		{"/x", "GET", "2xx"}: 2, {"/x", "GET", "4xx"}: 1, {"/x", "POST", "2xx"}: 1, {"/x", "BREW", "2xx"}: 2,
		{"unmatched", "GET", "4xx"}: 1,
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[[3]string]uint64{}
	for _, f := range families {
		if f.GetName() != "kassa_http_request_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[[3]string{labels["route"], labels["method"], labels["code"]}] = s.GetHistogram().GetSampleCount()
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%v: %d requests, want %d", k, got[k], n)
		}
	}
	m.series.Range(func(k, _ any) bool {
		if k.(routeLabels).method == "BREW" {
			t.Errorf("kept the series of a made-up method: %v", k)
		}
		return true
	})
}
