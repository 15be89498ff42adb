// Package pythonnotify tests the Python example plugin (src/__main__.py)
// with the Go conformance kit, the way a third-party author of a non-Go
// plugin would: the kit only needs the executable.
package pythonnotify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/notify"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

// python is Debian's interpreter, the one its python3-grpcio is built for.
const python = "/usr/bin/python3"

// build packages the plugin with build.sh into a temporary directory. CI
// installs the Python packages (.ci/run), so there a missing package is a
// failure; elsewhere the test is skipped with the command that fixes it.
func build(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import grpc, google.protobuf, cryptography").CombinedOutput(); err != nil {
		msg := "the Python example plugin needs Debian's python3-grpcio, python3-protobuf and python3-cryptography for " +
			python + " (apt-get install -y python3-grpcio python3-protobuf python3-cryptography): " +
			strings.TrimSpace(err.Error()+" "+string(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin := filepath.Join(t.TempDir(), "notify-pyfile")
	if out, err := exec.Command("bash", "build.sh", bin).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	return bin
}

// outbox reads the JSON lines the plugin wrote.
func outbox(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("outbox line %q is not JSON: %v", sc.Text(), err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func linesFor(recs []map[string]any, messageID string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["message_id"] == messageID {
			out = append(out, r)
		}
	}
	return out
}

func TestConformance(t *testing.T) {
	bin := build(t)
	// The kit gives the plugin a fresh data directory of its own; the
	// checks below need to read the outbox, so the test names the
	// directory. Env entries come after the kit's, and exec keeps the last
	// value of a repeated variable.
	dataDir := t.TempDir()
	file := filepath.Join(dataDir, "outbox.jsonl")
	written := func(n int) func(t *testing.T, msg notify.Message, d notify.Delivery) {
		return func(t *testing.T, msg notify.Message, d notify.Delivery) {
			lines := linesFor(outbox(t, file), msg.ID)
			if len(lines) != n {
				t.Fatalf("outbox holds %d lines for %s after a send and its retry, want %d", len(lines), msg.ID, n)
			}
			if n == 0 {
				return
			}
			if lines[0]["delivery_id"] != d.ID || lines[0]["template_id"] != msg.TemplateID {
				t.Errorf("outbox line %v does not match delivery %s of %s", lines[0], d.ID, msg.TemplateID)
			}
			if _, ok := lines[0]["secret_data"]; ok || strings.Contains(mustJSON(t, lines[0]), "reset_token") {
				t.Errorf("outbox line keeps secret data: %v", lines[0])
			}
		}
	}
	plugintest.RunChannel(t, plugintest.ChannelConfig{
		Binary: bin,
		Env:    []string{sdk.EnvDataDir + "=" + dataDir},
		Config: json.RawMessage(`{"file_name":"outbox.jsonl","templates":["order.placed","order.paid"]}`),
		Cases: []plugintest.ChannelCase{
			{Name: "order_paid", Message: notify.Message{
				TemplateID: notify.TemplateOrderPaid, Locale: "zh-CN", StoreID: "st_1",
				Recipient: notify.Recipient{URL: "https://merchant.example/hook"},
				Data:      json.RawMessage(`{"order":{"number":"1001","total":{"amount":1999,"currency":"CNY"}}}`),
			}, Check: written(1)},
			{Name: "secret_data_not_kept", Message: notify.Message{
				TemplateID: notify.TemplateOrderPlaced, Data: json.RawMessage(`{"order":{"number":"1002"}}`),
				SecretData: json.RawMessage(`{"reset_token":"do-not-keep"}`),
			}, Check: written(1)},
			{Name: "event_not_configured", Message: notify.Message{
				TemplateID: notify.TemplateOrderShipped, Data: json.RawMessage(`{}`),
			}, WantStatus: notify.DeliveryFailed, WantErrorCode: "template_missing", Check: written(0)},
			{Name: "data_not_an_object", Message: notify.Message{
				TemplateID: notify.TemplateOrderPaid, Data: json.RawMessage(`[1,2]`),
			}, WantStatus: notify.DeliveryFailed, WantErrorCode: "invalid_data", Check: written(0)},
		},
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// records keeps the log records the host passed on from the plugin.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) find(msg string) (slog.Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message == msg {
			return rec, true
		}
	}
	return slog.Record{}, false
}

// TestProtocol checks what the kit does not: the magic cookie, idempotency
// across a restart (the index is rebuilt from the outbox), the JSON log
// lines arriving in the host's log with level and attributes, and a prompt
// exit on Shutdown.
func TestProtocol(t *testing.T) {
	bin := build(t)

	t.Run("refuses_without_magic_cookie", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("run without cookie: %v, want exit status 1", err)
		}
		if !strings.Contains(string(out), "kassa plugin install") {
			t.Errorf("output %q does not tell how to use the plugin", out)
		}
	})

	t.Run("restart_keeps_idempotency_logs_and_stops", func(t *testing.T) {
		dataDir := t.TempDir()
		cfg := json.RawMessage(`{"file_name":"outbox.jsonl"}`)
		msg := notify.Message{ID: "msg_restart_1", TemplateID: notify.TemplateOrderPaid, Data: json.RawMessage(`{}`)}
		var first notify.Delivery
		for round := range 2 {
			logs := &records{}
			p := plugintest.Start(t, plugintest.StartConfig{Binary: bin, DataDir: dataDir, PluginID: "notify.pyfile", Logger: slog.New(logs)})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			res, err := p.Plugin().Configure(ctx, cfg)
			if err != nil || !res.OK() {
				cancel()
				t.Fatalf("round %d: Configure = %v, %v", round, res.Errors, err)
			}
			ch, err := p.Channel()
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			d, err := ch.Send(ctx, msg)
			cancel()
			if err != nil || d.Status != notify.DeliverySent {
				t.Fatalf("round %d: Send = %+v, %v", round, d, err)
			}
			if round == 0 {
				first = d
				// The plugin's stderr reaches the host's logger through
				// go-plugin's reader, after Send has answered: wait for it.
				rec, ok := logs.find("message written")
				for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); {
					time.Sleep(10 * time.Millisecond)
					rec, ok = logs.find("message written")
				}
				if !ok {
					t.Fatalf("the plugin's JSON log line did not reach the host's logger")
				}
				attrs := map[string]string{}
				rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
				if rec.Level != slog.LevelInfo || attrs["message_id"] != msg.ID || attrs["template_id"] != msg.TemplateID {
					t.Errorf("log record = %s %q %v, want INFO with message_id=%s template_id=%s", rec.Level, rec.Message, attrs, msg.ID, msg.TemplateID)
				}
			} else if d.ID != first.ID {
				t.Errorf("after a restart the retry got delivery %s, want the first one %s", d.ID, first.ID)
			}
			start := time.Now()
			p.Kill()
			if !p.Exited() {
				t.Fatalf("round %d: the plugin did not exit", round)
			}
			// go-plugin waits 2s for a graceful exit before SIGKILL.
			if took := time.Since(start); took >= 2*time.Second {
				t.Errorf("round %d: stopping took %s: the plugin ignored Shutdown and was killed", round, took)
			}
			if _, killed := logs.find("plugin failed to exit gracefully"); killed {
				t.Errorf("round %d: the host had to kill the plugin", round)
			}
		}
		if n := len(linesFor(outbox(t, filepath.Join(dataDir, "outbox.jsonl")), msg.ID)); n != 1 {
			t.Errorf("outbox holds %d lines for %s after two rounds, want 1", n, msg.ID)
		}
	})
}
