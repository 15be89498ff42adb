package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/order"
)

// brokenExporter writes a first batch, flushes it, and fails.
type brokenExporter struct{}

func (brokenExporter) Export(_ context.Context, w io.Writer, _ order.Filter, _ order.ExportOptions) (int, error) {
	if _, err := io.WriteString(w, "\uFEFFOrder number\r\n#1001\r\n"); err != nil {
		return 0, err
	}
	if err := w.(order.Flusher).Flush(); err != nil {
		return 1, err
	}
	return 1, errors.New("database went away")
}

// TestExportAbortsMidway: an export failing after its first byte breaks
// the download (the client reads an error, not a short file that looks
// complete), through the app's panic recovery, which lets the abort
// through.
func TestExportAbortsMidway(t *testing.T) {
	h := instrument(exportOrders(brokenExporter{}, nil, slog.New(slog.DiscardHandler)), slog.New(slog.DiscardHandler), newHTTPMetrics(prometheus.NewRegistry()))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + ExportOrdersPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 (the failure comes after the first byte)", res.StatusCode)
	}
	body, err := io.ReadAll(res.Body)
	if err == nil {
		t.Fatalf("the broken download read as complete: %q", body)
	}
	if !strings.Contains(string(body), "#1001") {
		t.Errorf("the first batch did not arrive before the failure: %q", body)
	}
}
