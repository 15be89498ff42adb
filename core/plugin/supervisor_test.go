package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/httpauth"
)

func eur(amount int64) money.Money {
	cur, _ := money.ParseCurrency("EUR")
	return money.New(amount, cur)
}

func create(t testing.TB, e *env, amount int64) (payment.CreateResult, error) {
	t.Helper()
	gw, err := e.svc.Gateway(ctx(), testID)
	if err != nil {
		t.Fatal(err)
	}
	return gw.CreatePayment(ctx(), payment.CreateRequest{AttemptID: "pay_1", Amount: eur(amount), IdempotencyKey: "idem-1"})
}

// eventually retries a successful call until the plugin is back.
func eventually(t *testing.T, e *env, within time.Duration) (payment.CreateResult, []string) {
	t.Helper()
	var codes []string
	deadline := time.Now().Add(within)
	for {
		res, err := create(t, e, 100)
		if err == nil {
			return res, codes
		}
		codes = append(codes, code(err))
		if time.Now().After(deadline) {
			t.Fatalf("plugin did not come back within %s: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLazyStartAndCall(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, "")
	if e.pid() != 0 {
		t.Fatal("the plugin started before its first use")
	}
	res, err := create(t, e, 1999)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != payment.StatusSucceeded || res.GatewayRef != "gw_pay_1" || res.Amount != eur(1999) {
		t.Fatalf("CreatePayment = %+v", res)
	}
	// The adapter fills the plugin's page and webhook URLs.
	if res.MerchantMessage != "idem-1|http://shop.test/plugins/payment.hosttest|http://shop.test/webhooks/payment.hosttest" {
		t.Fatalf("merchant message %q", res.MerchantMessage)
	}
	if e.pid() == 0 {
		t.Fatal("no process after the first call")
	}
	gw, _ := e.svc.Gateway(ctx(), testID)
	if !gw.Supports(payment.CapHTTP) || gw.Supports(payment.CapRefund) {
		t.Fatal("capabilities not reported")
	}
	// Optional RPCs the plugin does not implement are detected.
	_, err = gw.Refund(ctx(), payment.RefundRequest{RefundID: "ref_1", Amount: eur(1)})
	if !errors.Is(err, payment.ErrNotSupported) || code(err) != CodeNotSupported || errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("Refund on a gateway without refunds: %v", err)
	}
	h, err := e.svc.CheckHealth(ctx(), testID)
	if err != nil || h.Status != HealthServing {
		t.Fatalf("health %+v, %v", h, err)
	}
	if p, _ := e.svc.Get(ctx(), testID); p.Health.Status != HealthServing {
		t.Fatalf("Get health %+v", p.Health)
	}
	gws, err := e.svc.Gateways(ctx())
	if err != nil || len(gws) != 1 || gws[0].ID() != testID {
		t.Fatalf("Gateways = %v, %v", gws, err)
	}
	if chs, _ := e.svc.Channels(ctx()); len(chs) != 0 {
		t.Fatal("a payment plugin listed as a channel")
	}
	if _, err := e.svc.Channel(ctx(), testID); code(err) != CodeWrongKind {
		t.Fatalf("Channel(payment plugin) = %v", err)
	}
	if !strings.Contains(e.logs.String(), "plugin started") || !strings.Contains(e.logs.String(), "plugin="+testID) {
		t.Fatal("start not logged with the plugin id")
	}
}

func TestKillDuringCall(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, "")
	if _, err := create(t, e, 100); err != nil {
		t.Fatal(err)
	}
	pid := e.pid()
	errc := make(chan error, 1)
	go func() {
		_, err := create(t, e, 5555) // the plugin answers after 2s
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-errc:
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not return after the plugin was killed")
	}
	if code(err) != CodeUnavailable || !errors.Is(err, errs.ErrUnavailable) || !errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("call interrupted by kill -9 = %v (code %s), want %s and outcome unknown", err, code(err), CodeUnavailable)
	}
	if !strings.Contains(err.Error(), "outcome is unknown") {
		t.Fatalf("message %q does not say the outcome is unknown", err)
	}
	res, codes := eventually(t, e, 10*time.Second)
	if res.Status != payment.StatusSucceeded {
		t.Fatalf("after restart: %+v", res)
	}
	for _, c := range codes {
		if c != CodeUnavailable {
			t.Fatalf("during the restart callers got %q, want %s", c, CodeUnavailable)
		}
	}
	if p := e.pid(); p == 0 || p == pid {
		t.Fatalf("pid after restart %d (was %d)", p, pid)
	}
	if !strings.Contains(e.logs.String(), "plugin process exited") {
		t.Fatal("the crash was not logged")
	}
}

func TestCrashRestartsInBackground(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, "")
	_, err := create(t, e, 6666) // the plugin exits mid-call
	if code(err) != CodeUnavailable || !errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("crash: %v", err)
	}
	// Right after the crash the plugin is in backoff: a clear error, and
	// nothing was sent, so the outcome is known (not attempted).
	_, err = create(t, e, 100)
	if err != nil && (code(err) != CodeUnavailable || errors.Is(err, payment.ErrOutcomeUnknown)) {
		t.Fatalf("during backoff: %v", err)
	}
	// The supervisor restarts it without waiting for a call.
	deadline := time.Now().Add(10 * time.Second)
	for e.pid() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not restarted in the background")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := create(t, e, 100); err != nil {
		t.Fatal(err)
	}
}

func TestHungPluginHitsDeadline(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	e := sqliteEnv(t, func(o *Options) { o.CallTimeout = timeout })
	e.installEnabled(t, "")
	if _, err := create(t, e, 100); err != nil { // start it: start time is not call time
		t.Fatal(err)
	}
	begin := time.Now()
	_, err := create(t, e, 4242)
	took := time.Since(begin)
	if code(err) != CodeTimeout || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("hung call = %v (code %s)", err, code(err))
	}
	if took < timeout || took > timeout+time.Second {
		t.Fatalf("hung call returned after %s, want about %s", took, timeout)
	}
	// A caller's own, earlier deadline wins.
	cctx, cancel := context.WithTimeout(ctx(), 100*time.Millisecond)
	defer cancel()
	gw, _ := e.svc.Gateway(ctx(), testID)
	begin = time.Now()
	_, err = gw.CreatePayment(cctx, payment.CreateRequest{Amount: eur(4242)})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) > timeout {
		t.Fatalf("caller deadline: %v after %s", err, time.Since(begin))
	}
	// The plugin itself is fine: other calls work.
	if _, err := create(t, e, 100); err != nil {
		t.Fatal(err)
	}
}

func TestTamperedBinaryRefused(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, "")
	path := filepath.Join(e.opts.Dir, testID)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("\x00evil"))
	f.Close()
	_, err = create(t, e, 100)
	if code(err) != CodeChecksumMismatch || !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("tampered binary: %v (code %s)", err, code(err))
	}
	for _, want := range []string{"refused to start", "checksum mismatch", "reinstall"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if e.pid() != 0 {
		t.Fatal("a tampered binary is running")
	}
	p, _ := e.svc.Get(ctx(), testID)
	if p.Health.Status != HealthUnavailable || !strings.Contains(p.Health.Message, "checksum mismatch") {
		t.Fatalf("health %+v", p.Health)
	}
	// Reinstalling the right binary (the operator's fix) makes it work.
	if _, err := e.svc.Install(ctx(), gatewayBin, InstallOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := create(t, e, 100); err != nil {
		t.Fatalf("after reinstall: %v", err)
	}
}

func TestSettingsReachRunningPlugin(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, `{"mode":"sandbox","api_key":"`+plainSecret+`"}`)
	srv := httptest.NewServer(e.svc.HTTPHandler())
	defer srv.Close()
	config := func() map[string]any {
		res, err := http.Get(srv.URL + "/plugins/" + testID + "/config")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if c := config(); c["api_key"] != plainSecret || c["mode"] != "sandbox" {
		t.Fatalf("plugin got %v", c)
	}
	// Changing settings reconfigures the running process (secret kept).
	pid := e.pid()
	if _, err := e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"live"}`)); err != nil {
		t.Fatal(err)
	}
	if c := config(); c["api_key"] != plainSecret || c["mode"] != "live" {
		t.Fatalf("after update the plugin has %v", c)
	}
	if e.pid() != pid {
		t.Fatal("reconfiguring restarted the process")
	}
	// Settings the plugin itself refuses are not saved.
	_, err := e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"sandbox","refuse":true}`))
	all := errs.All(err)
	if len(all) != 1 || all[0].Message != "the gateway refuses these settings" || strings.Join(all[0].Field, ".") != "settings.refuse" {
		t.Fatalf("plugin refusal: %v", err)
	}
	if p, _ := e.svc.Get(ctx(), testID); string(p.Settings) != `{"mode":"live"}` {
		t.Fatalf("refused settings were saved: %s", p.Settings)
	}
	if c := config(); c["mode"] != "live" {
		t.Fatal("the plugin lost its settings")
	}
	if strings.Contains(e.logs.String(), plainSecret) {
		t.Fatal("the secret reached the log")
	}
}

func TestSupervisorAppliesCatalogChanges(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, "")
	if _, err := create(t, e, 100); err != nil {
		t.Fatal(err)
	}
	// Another kassa instance (a second Service on the same database)
	// changes the settings; this one applies them on its next tick.
	other, err := NewService(e.db, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	if _, err := other.UpdateSettings(ctx(), testID, []byte(`{"mode":"live"}`)); err != nil {
		t.Fatal(err)
	}
	pid := e.pid()
	if err := e.svc.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	i := e.svc.existing(testID)
	i.mu.Lock()
	rev := i.revision
	i.mu.Unlock()
	if rev != mustRow(t, e).Revision || e.pid() != pid {
		t.Fatalf("revision %d not applied in place", rev)
	}
	// Disabled elsewhere: the process stops once its last call is
	// older than disabledIdle (a disabled gateway still settles what it
	// took, ADR 0014).
	if _, err := other.Disable(ctx(), testID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.pid() != pid {
		t.Fatal("a disabled gateway called a moment ago was stopped")
	}
	i.lastCall.Store(time.Now().Add(-disabledIdle).UnixNano())
	if err := e.svc.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.pid() != 0 {
		t.Fatal("still running after being disabled and idle")
	}
	if _, err := e.svc.Gateway(ctx(), testID); code(err) != CodeDisabled {
		t.Fatalf("Gateway of a disabled plugin: %v", err)
	}
}

func TestDisableAndCloseStopProcesses(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, "")
	gw, _ := e.svc.Gateway(ctx(), testID)
	if _, err := create(t, e, 100); err != nil {
		t.Fatal(err)
	}
	pid := e.pid()
	if _, err := e.svc.Disable(ctx(), testID); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	// An adapter obtained before the plugin was disabled starts no new
	// payment, but still settles the ones it took (ADR 0014).
	if _, err := gw.CreatePayment(ctx(), payment.CreateRequest{AttemptID: "pay_2", Amount: eur(100), IdempotencyKey: "idem-2"}); code(err) != CodeDisabled {
		t.Fatalf("new payment after disable: %v", err)
	}
	if e.pid() != 0 {
		t.Fatal("a refused new payment started the disabled plugin")
	}
	if _, err := gw.GetPayment(ctx(), payment.GetRequest{AttemptID: "pay_1"}); err != nil {
		t.Fatalf("settling call after disable: %v", err)
	}
	if e.pid() == 0 {
		t.Fatal("the settling call did not start the disabled gateway")
	}
	// It is not offered for new payments.
	if _, err := e.svc.Gateway(ctx(), testID); code(err) != CodeDisabled {
		t.Fatalf("Gateway of a disabled plugin: %v", err)
	}
	if _, err := e.svc.Enable(ctx(), testID); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.GetPayment(ctx(), payment.GetRequest{AttemptID: "pay_1"}); err != nil {
		t.Fatalf("call after enable: %v", err)
	}
	pid = e.pid()
	if err := e.svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, err := gw.GetPayment(ctx(), payment.GetRequest{}); code(err) != CodeUnavailable {
		t.Fatalf("call after close: %v", err)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		// A killed child stays a zombie until reaped; go-plugin reaps it.
		if b, err := os.ReadFile("/proc/" + itoa(pid) + "/status"); err == nil && strings.Contains(string(b), "zombie") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestHTTPHandler(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, "")
	srv := httptest.NewServer(e.svc.HTTPHandler())
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/plugins/"+testID+"/pay/pay_1?x=1", strings.NewReader("a=b"))
	req.Header.Set("Cookie", "kassa_session=staff")
	req.Header.Set("Authorization", "Bearer staff-token")
	// The API key header as httpauth reads it; Accept-Language is no
	// credential and is forwarded.
	req.Header.Set(httpauth.APIKeyHeader, "kkey_staff")
	req.Header.Set("Accept-Language", "de")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || res.Header.Get("X-Plugin") != "yes" || res.Header.Get("Set-Cookie") != "" {
		t.Fatalf("status %d headers %v", res.StatusCode, res.Header)
	}
	// Issue 7: the page runs sandboxed in an opaque origin, whatever the
	// plugin asks for; its own policy comes second and only tightens.
	if csp := res.Header.Values("Content-Security-Policy"); len(csp) != 2 || csp[0] != PageCSP ||
		!strings.HasPrefix(csp[0], "sandbox ") || strings.Contains(csp[0], "allow-same-origin") || !strings.Contains(csp[0], "connect-src 'none'") {
		t.Fatalf("Content-Security-Policy = %q, want the host's sandbox first", csp)
	}
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"method": "POST", "path": "/pay/pay_1", "query": "x=1", "base": "http://shop.test/plugins/" + testID,
		"cookie": "", "auth": "", "api_key": "", "lang": "de", "body": "a=b",
		"data_dir": filepath.Join(e.opts.DataDir, "plugin-data", testID), "id": testID,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for path, status := range map[string]int{
		"/plugins/payment.unknown/x": http.StatusNotFound,
		"/plugins/":                  http.StatusNotFound,
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != status {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, status)
		}
	}
	if _, err := e.svc.Disable(ctx(), testID); err != nil {
		t.Fatal(err)
	}
	res, _ = http.Get(srv.URL + "/plugins/" + testID + "/pay/pay_1")
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("disabled plugin page: %d", res.StatusCode)
	}
}

// denyAll refuses every operation.
type denyAll struct{}

func (denyAll) Can(context.Context, authz.Object, authz.Action) error {
	return errs.Forbidden("FORBIDDEN", "not allowed")
}

// readOnly allows reading plugins only.
type readOnly struct{}

func (readOnly) Can(_ context.Context, obj authz.Object, act authz.Action) error {
	if obj == authz.Plugin && act == authz.Read {
		return nil
	}
	return errs.Forbidden("FORBIDDEN", "not allowed")
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	if _, err := e.svc.Install(ctx(), gatewayBin, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	deny, _ := NewService(e.db, Options{Dir: e.opts.Dir, Authz: denyAll{}})
	ro, _ := NewService(e.db, Options{Dir: e.opts.Dir, Authz: readOnly{}})
	for name, err := range map[string]error{
		"list":     func() error { _, err := deny.List(ctx()); return err }(),
		"get":      func() error { _, err := deny.Get(ctx(), testID); return err }(),
		"verify":   func() error { _, err := deny.Verify(ctx()); return err }(),
		"health":   func() error { _, err := deny.CheckHealth(ctx(), testID); return err }(),
		"install":  func() error { _, err := ro.Install(ctx(), gatewayBin, InstallOptions{Replace: true}); return err }(),
		"settings": func() error { _, err := ro.UpdateSettings(ctx(), testID, []byte(`{"mode":"live"}`)); return err }(),
		"enable":   func() error { _, err := ro.Enable(ctx(), testID); return err }(),
		"disable":  func() error { _, err := ro.Disable(ctx(), testID); return err }(),
		"remove":   ro.Remove(ctx(), testID),
	} {
		if !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
	if _, err := ro.List(ctx()); err != nil {
		t.Fatalf("read-only list: %v", err)
	}
}

// TestCheckStartsEnabledPlugins: a supervisor round starts every enabled
// plugin that is not running, so health is known without anyone using
// it (enabled from the CLI, an instance restarted) and a binary changed
// behind Kassa's back is reported and logged at once.
func TestCheckStartsEnabledPlugins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tamper     bool
		wantStatus HealthStatus
		wantText   string // in the health message and the log
	}{
		{name: "healthy", wantStatus: HealthServing},
		{name: "tampered", tamper: true, wantStatus: HealthUnavailable, wantText: "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := sqliteEnv(t)
			e.installEnabled(t, "")
			if tt.tamper {
				f, err := os.OpenFile(filepath.Join(e.opts.Dir, testID), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = f.Write([]byte("\x00evil"))
				f.Close()
			}
			if err := e.svc.Check(ctx()); err != nil {
				t.Fatal(err)
			}
			if running := e.pid() != 0; running != !tt.tamper {
				t.Fatalf("running after a round: %v, want %v", running, !tt.tamper)
			}
			// The health is written to the catalog in the background.
			deadline := time.Now().Add(10 * time.Second)
			var p Plugin
			for {
				p, _ = e.svc.Get(ctx(), testID)
				if p.Health.Status == tt.wantStatus || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if p.Health.Status != tt.wantStatus || !strings.Contains(p.Health.Message, tt.wantText) {
				t.Fatalf("health %+v, want %s with %q", p.Health, tt.wantStatus, tt.wantText)
			}
			if tt.wantText != "" && !strings.Contains(e.logs.String(), tt.wantText) {
				t.Errorf("the log does not say %q:\n%s", tt.wantText, e.logs.String())
			}
		})
	}
}

// TestNewSettingsEndTheBackoff: a plugin that could not start on its
// settings (it refused them: settings saved by an earlier version,
// before the plugin was asked at every save) waits out a backoff before
// the next start; settings saved meanwhile are tried at the next use,
// not after it.
func TestNewSettingsEndTheBackoff(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t, func(o *Options) { o.BackoffMin, o.BackoffMax = time.Minute, time.Minute })
	e.installEnabled(t, "")
	r := mustRow(t, e)
	prev := r.Revision
	r.Settings, r.Revision = `{"mode":"sandbox","refuse":true}`, r.Revision+1
	if err := e.svc.st.saveSettings(context.Background(), r, prev); err != nil {
		t.Fatal(err)
	}
	if _, err := create(t, e, 100); err == nil || !strings.Contains(err.Error(), "refused its settings") {
		t.Fatalf("a plugin refusing its settings: %v", err)
	}
	if _, err := create(t, e, 100); err == nil {
		t.Fatal("the failed start was tried again at once: no backoff to end")
	}
	if _, err := e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"sandbox"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := create(t, e, 100); err != nil {
		t.Fatalf("right after the settings were fixed: %v", err)
	}
}

// TestSettingsCheckedByAnIdlePlugin: with no process running (disabled,
// or not used yet), saving settings still asks the plugin: a process is
// started for the question, without the plugin's data directory (the
// real process may start beside it). Its refusal is a userError on the
// field and nothing is saved; the process does not stay.
func TestSettingsCheckedByAnIdlePlugin(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.installEnabled(t, "")
	if _, err := e.svc.Disable(ctx(), testID); err != nil {
		t.Fatal(err)
	}
	before := mustRow(t, e)
	_, err := e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"sandbox","refuse":true}`))
	all := errs.All(err)
	if len(all) != 1 || all[0].Code != CodeInvalidSettings || strings.Join(all[0].Field, ".") != "settings.refuse" {
		t.Fatalf("settings the plugin refuses, saved while it is disabled: %v", err)
	}
	if r := mustRow(t, e); r.Revision != before.Revision || r.Settings != before.Settings {
		t.Fatalf("refused settings were saved: %s", r.Settings)
	}
	if e.pid() != 0 {
		t.Fatal("the process started for the question kept running")
	}
	if _, err := os.Stat(e.svc.pluginDataDir(testID)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the process started for the question was given the plugin's data directory: %v", err)
	}
	if _, err := e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"live"}`)); err != nil {
		t.Fatalf("settings the plugin takes: %v", err)
	}
}
