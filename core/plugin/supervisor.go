package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/host"
)

// unhealthyLimit is how many health checks in a row may fail before a
// running but unresponsive plugin is killed and restarted.
const unhealthyLimit = 3

// instance supervises the process of one plugin: it starts it on first use,
// notices when it exits, restarts it with exponential backoff, health-checks
// it and stops it. go-plugin has no restart of its own.
type instance struct {
	s   *Service
	id  string
	log *slog.Logger

	mu       sync.Mutex
	proc     *host.Plugin
	info     sdk.Info
	revision int64  // catalog revision the process was configured with
	sha      string // checksum the process was started with
	started  time.Time
	// starting is non-nil while a start runs; closed when it ends.
	starting chan struct{}
	// epoch changes whenever the process is stopped on purpose, so a start
	// that began before is discarded instead of resurrecting old settings.
	epoch uint64
	// lastErr says why the plugin is down; returned to callers during
	// backoff.
	lastErr *errs.Error
	// failures counts consecutive crashes and failed starts.
	failures int
	retryAt  time.Time
	// wanted plugins are restarted in the background after a crash; a
	// plugin never used, stopped or disabled is not.
	wanted      bool
	timer       *time.Timer
	health      Health
	hasHealth   bool
	persisted   Health
	healthFails int
	closed      bool
	// lastCall is when a call last began (unix nanoseconds).
	lastCall atomic.Int64
}

// disabledIdle is how long a disabled gateway's process, started for the
// payments it took, stays after its last call.
const disabledIdle = 2 * time.Minute

// usedWithin reports whether a call began within d.
func (i *instance) usedWithin(d time.Duration) bool {
	return time.Since(time.Unix(0, i.lastCall.Load())) < d
}

func newInstance(s *Service, id string) *instance {
	return &instance{s: s, id: id, log: s.log.With(attrPlugin, id)}
}

// acquire returns the running process, starting it if needed. While the
// plugin is in backoff after a failure it fails at once with the reason,
// so callers never pile up behind a broken plugin.
func (i *instance) acquire(ctx context.Context) (*host.Plugin, error) {
	for waited := 0; ; waited++ {
		i.mu.Lock()
		if i.closed {
			i.mu.Unlock()
			return nil, unavailable(CodeUnavailable, "plugin %s is unavailable: the plugin host is shutting down", i.id)
		}
		if p := i.proc; p != nil {
			if !p.Exited() {
				i.mu.Unlock()
				return p, nil
			}
			i.exitedLocked(p)
		}
		ch := i.starting
		if ch == nil {
			// A start we waited for failed: report why. (A start discarded
			// because the plugin was reloaded meanwhile leaves no error and
			// is tried again, a few times at most.)
			if waited > 0 && (i.lastErr != nil || waited >= 3) {
				err := i.lastErrLocked()
				i.mu.Unlock()
				return nil, err
			}
			if now := time.Now(); now.Before(i.retryAt) {
				err := i.backoffErrLocked(now)
				i.mu.Unlock()
				return nil, err
			}
			ch = i.beginStartLocked()
		}
		i.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", unavailable(CodeUnavailable, "plugin %s is starting; gave up waiting", i.id), ctx.Err())
		}
	}
}

func (i *instance) lastErrLocked() error {
	if i.lastErr == nil {
		return unavailable(CodeUnavailable, "plugin %s is unavailable; it was restarted while starting", i.id)
	}
	e := *i.lastErr
	return &e
}

func (i *instance) backoffErrLocked(now time.Time) error {
	wait := i.retryAt.Sub(now).Round(time.Millisecond)
	if i.lastErr == nil {
		return unavailable(CodeUnavailable, "plugin %s is unavailable; next start attempt in %s", i.id, wait)
	}
	e := *i.lastErr
	e.Message = fmt.Sprintf("%s (next start attempt in %s)", e.Message, wait)
	return &e
}

// beginStartLocked starts the plugin in the background; the start does not
// belong to the caller who triggered it, so a caller giving up does not
// abort a start others wait for.
func (i *instance) beginStartLocked() chan struct{} {
	ch := make(chan struct{})
	i.starting = ch
	epoch := i.epoch
	go i.runStart(ch, epoch)
	return ch
}

func (i *instance) runStart(ch chan struct{}, epoch uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), i.s.opts.StartTimeout+i.s.opts.CallTimeout)
	defer cancel()
	begin := time.Now()
	p, st, err := i.s.launch(ctx, i.id)

	var discard *host.Plugin
	i.mu.Lock()
	i.starting = nil
	switch {
	case err == nil && (i.closed || i.epoch != epoch):
		// Stopped while starting: throw this process away; waiters loop
		// and start afresh (or see the host closed).
		discard = p
	case err != nil:
		i.failLocked(err)
	default:
		i.proc, i.info, i.revision, i.sha = p, st.info, st.revision, st.sha
		i.started = time.Now()
		i.lastErr, i.retryAt, i.wanted, i.healthFails = nil, time.Time{}, true, 0
		i.setHealthLocked(st.health)
		i.log.Info("plugin started", "version", st.info.Version, "pid", p.PID(), "duration", time.Since(begin))
		go i.watch(p)
	}
	close(ch)
	i.mu.Unlock()
	if discard != nil {
		discard.Kill()
	}
}

// failLocked records a failed start and schedules the next attempt.
func (i *instance) failLocked(err error) {
	de := domainErr(err)
	i.lastErr = de
	if de.Code == CodeDisabled || de.Code == CodeNotFound {
		// Nothing to retry: the next use after enabling starts at once.
		i.wanted, i.failures, i.retryAt = false, 0, time.Time{}
		i.setHealthLocked(Health{Status: HealthStopped, Message: de.Message, CheckedAt: time.Now().UTC()})
		return
	}
	i.failures++
	d := i.backoff()
	i.retryAt = time.Now().Add(d)
	i.setHealthLocked(Health{Status: HealthUnavailable, Message: de.Message, CheckedAt: time.Now().UTC()})
	i.log.Error("plugin failed to start", attrErr, err, "code", de.Code, "attempt", i.failures, "retry_in", d)
	if i.wanted {
		i.scheduleLocked(d)
	}
}

func (i *instance) backoff() time.Duration {
	d := i.s.opts.BackoffMin
	for n := 1; n < i.failures && d < i.s.opts.BackoffMax; n++ {
		d *= 2
	}
	return min(d, i.s.opts.BackoffMax)
}

// watch notices the exit of p, whatever the cause (crash, kill -9, OOM).
func (i *instance) watch(p *host.Plugin) {
	<-p.Done()
	i.mu.Lock()
	i.exitedLocked(p)
	i.mu.Unlock()
}

// exitedLocked handles the unplanned exit of p once; planned stops clear
// i.proc first, so they never get here.
func (i *instance) exitedLocked(p *host.Plugin) {
	if i.proc != p {
		return
	}
	i.proc = nil
	uptime := time.Since(i.started)
	// A plugin that ran for a while before crashing starts again quickly;
	// only crash loops back off far.
	if uptime >= i.s.opts.BackoffMax {
		i.failures = 0
	}
	i.failures++
	d := i.backoff()
	i.retryAt = time.Now().Add(d)
	i.lastErr = unavailable(CodeUnavailable, "plugin %s is unavailable: its process exited unexpectedly and is being restarted", i.id)
	i.setHealthLocked(Health{Status: HealthUnavailable, Message: "process exited unexpectedly; restarting", CheckedAt: time.Now().UTC()})
	i.log.Error("plugin process exited", "pid", p.PID(), "uptime", uptime.Round(time.Millisecond), "restart_in", d, "crashes", i.failures)
	if i.wanted && !i.closed {
		i.scheduleLocked(d)
	}
}

func (i *instance) scheduleLocked(d time.Duration) {
	if i.timer != nil {
		i.timer.Stop()
	}
	i.timer = time.AfterFunc(d, i.autoRestart)
}

// autoRestart brings a wanted plugin back after its backoff, so it is up
// before the next call needs it.
func (i *instance) autoRestart() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed || !i.wanted || i.proc != nil || i.starting != nil {
		return
	}
	if wait := time.Until(i.retryAt); wait > 0 {
		i.scheduleLocked(wait)
		return
	}
	i.beginStartLocked()
}

// stopProcess stops the process on purpose (disabled, removed, new binary,
// reload). The next use starts it again from the catalog.
func (i *instance) stopProcess(why string) {
	i.mu.Lock()
	p := i.proc
	i.proc = nil
	i.epoch++
	i.wanted, i.failures, i.retryAt, i.lastErr, i.healthFails = false, 0, time.Time{}, nil, 0
	if i.timer != nil {
		i.timer.Stop()
	}
	i.setHealthLocked(Health{Status: HealthStopped, Message: why, CheckedAt: time.Now().UTC()})
	i.mu.Unlock()
	if p != nil {
		p.Kill()
		i.log.Info("plugin stopped", "reason", why)
	}
}

// clearFailure forgets a failed start (e.g. after the binary was repaired)
// so the next use starts at once.
func (i *instance) clearFailure() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc == nil {
		i.failures, i.retryAt, i.lastErr = 0, time.Time{}, nil
	}
}

// close stops the process for good (shutdown).
func (i *instance) close() {
	i.mu.Lock()
	i.closed = true
	p := i.proc
	i.proc = nil
	i.epoch++
	if i.timer != nil {
		i.timer.Stop()
	}
	i.mu.Unlock()
	if p != nil {
		p.Kill()
		i.log.Info("plugin stopped", "reason", "shutdown")
	}
}

// running returns the live process or nil, without starting one.
// redact masks the values of the plugin's secret settings in text it
// returned (host.Plugin.Redact), for text that reaches staff or a log.
func (i *instance) redact(s string) string {
	if s == "" {
		return s
	}
	if p := i.running(); p != nil {
		return p.Redact(s)
	}
	return s
}

func (i *instance) running() *host.Plugin {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc != nil && i.proc.Exited() {
		i.exitedLocked(i.proc)
	}
	return i.proc
}

func (i *instance) setHealthLocked(h Health) {
	i.health, i.hasHealth = h, true
	if h.Status != i.persisted.Status || h.Message != i.persisted.Message {
		i.persisted = h
		i.s.recordHealthAsync(i.id, h)
	}
}

// currentHealth returns the health this host observed, if any.
func (i *instance) currentHealth() (Health, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.health, i.hasHealth
}

// probe health-checks a running process. An unresponsive process is
// killed after unhealthyLimit failed checks; the crash handling restarts it.
func (i *instance) probe(ctx context.Context) (Health, error) {
	p := i.running()
	if p == nil {
		return Health{}, unavailable(CodeUnavailable, "plugin %s is not running", i.id)
	}
	ctx, cancel := context.WithTimeout(ctx, min(i.s.opts.CallTimeout, 10*time.Second))
	defer cancel()
	h, err := p.Plugin().Health(ctx)
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc != p {
		return Health{}, unavailable(CodeUnavailable, "plugin %s stopped during the health check", i.id)
	}
	if err != nil {
		i.healthFails++
		hh := Health{Status: HealthUnavailable, Message: "health check failed: " + err.Error(), CheckedAt: time.Now().UTC()}
		i.setHealthLocked(hh)
		i.log.Warn("plugin health check failed", attrErr, err, "failures", i.healthFails)
		if i.healthFails >= unhealthyLimit && !p.Exited() {
			i.log.Error("plugin unresponsive; killing it for a restart", "failures", i.healthFails)
			go p.Kill() // the watcher sees the exit and restarts it
		}
		return hh, err
	}
	i.healthFails = 0
	h.Message = p.Redact(h.Message)
	hh := healthFrom(h)
	i.setHealthLocked(hh)
	return hh, nil
}

// reconfigure hands the running process the catalog's current settings
// (changed by another instance or the CLI).
func (i *instance) reconfigure(ctx context.Context, r *row) {
	p := i.running()
	if p == nil {
		return
	}
	settings, err := i.s.startSettings(r)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, i.s.opts.CallTimeout)
		var res sdk.ConfigureResult
		res, err = p.Plugin().Configure(i.s.configureContext(ctx), settings)
		cancel()
		if err == nil && !res.OK() {
			err = res.Err()
		}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc != p {
		return
	}
	// Recorded even on failure, so a refused revision is not retried every
	// tick; the plugin keeps its previous settings (contract of Configure).
	i.revision = r.Revision
	if err != nil {
		i.log.Error("plugin refused its new settings; it keeps the previous ones", attrErr, err)
		i.setHealthLocked(Health{Status: HealthNotServing, Message: "new settings refused: " + err.Error(), CheckedAt: time.Now().UTC()})
		return
	}
	i.log.Info("plugin reconfigured", "revision", r.Revision)
}

// launched is what a successful start established.
type launched struct {
	info     sdk.Info
	revision int64
	sha      string
	health   Health
}

// launch runs the lifecycle: load the catalog entry, check and assemble
// the settings, start the process (checksum verified), Describe, Configure,
// Health. On any failure the half-started process is killed.
func (s *Service) launch(ctx context.Context, id string) (_ *host.Plugin, _ launched, err error) {
	r, err := s.st.get(ctx, id)
	if err != nil {
		return nil, launched{}, err
	}
	if !r.Enabled && Kind(r.Kind) != KindPayment {
		// A disabled gateway still starts for the payments it took
		// (InstalledGateway); nothing else asks for a disabled plugin's
		// process: checkout, pages and health checks look for enabled
		// ones.
		return nil, launched{}, unavailable(CodeDisabled, "plugin %s is disabled", id)
	}
	settings, err := s.startSettings(r)
	if err != nil {
		return nil, launched{}, err
	}
	p, info, err := s.startConfigured(ctx, r, settings, s.pluginDataDir(id))
	if err != nil {
		return nil, launched{}, err
	}
	h, err := p.Plugin().Health(ctx)
	if err != nil {
		p.Kill()
		return nil, launched{}, unavailable(CodeUnavailable, "plugin %s failed to start: Health: %v", id, err)
	}
	h.Message = p.Redact(h.Message)
	return p, launched{info: info, revision: r.Revision, sha: r.SHA256, health: healthFrom(h)}, nil
}

// startConfigured starts r's binary (checksum verified) with dataDir as
// its data directory ("" for none), checks that it is the plugin r names
// and serves its kind, and configures it with settings: a refusal is
// CodeMisconfigured naming the plugin's reasons, with the process killed.
func (s *Service) startConfigured(ctx context.Context, r *row, settings json.RawMessage, dataDir string) (_ *host.Plugin, _ sdk.Info, err error) {
	id := r.ID
	p, err := host.Start(ctx, host.Config{
		Path: s.binaryPath(r), SHA256: r.SHA256, PluginID: id, DataDir: dataDir,
		Logger: s.log, LogLevel: s.opts.LogLevel,
		StartTimeout: s.opts.StartTimeout, CallTimeout: s.opts.CallTimeout,
	})
	switch {
	case errors.Is(err, host.ErrChecksumMismatch):
		return nil, sdk.Info{}, unavailable(CodeChecksumMismatch, "plugin %s refused to start: %v", id, err)
	case err != nil:
		return nil, sdk.Info{}, unavailable(CodeUnavailable, "plugin %s failed to start: %v", id, err)
	}
	defer func() {
		if err != nil {
			p.Kill()
		}
	}()
	info, err := p.Describe(ctx)
	if err != nil {
		return nil, sdk.Info{}, unavailable(CodeUnavailable, "plugin %s failed to start: Describe: %v", id, err)
	}
	if info.ID != id || string(info.Kind) != r.Kind {
		return nil, sdk.Info{}, unavailable(CodeUnavailable, "plugin %s failed to start: the binary describes itself as %s (%s)", id, info.ID, info.Kind)
	}
	if err := dispense(p, Kind(r.Kind)); err != nil {
		return nil, sdk.Info{}, unavailable(CodeUnavailable, "plugin %s failed to start: %v", id, err)
	}
	res, err := p.Plugin().Configure(s.configureContext(ctx), settings)
	if err != nil {
		return nil, sdk.Info{}, unavailable(CodeUnavailable, "plugin %s failed to start: Configure: %v", id, err)
	}
	if !res.OK() {
		return nil, sdk.Info{}, &refusedSettings{id: id, errs: res.Errors}
	}
	return p, info, nil
}

// refusedSettings is a plugin's refusal of its settings at start:
// CodeMisconfigured to a caller of the process, userErrors on the
// settings (settingsErrors) to staff saving or enabling them.
type refusedSettings struct {
	id   string
	errs []sdk.ConfigError
}

func (e *refusedSettings) Error() string { return e.domain().Error() }

// Unwrap makes the refusal the CodeMisconfigured error callers see.
func (e *refusedSettings) Unwrap() error { return e.domain() }

func (e *refusedSettings) domain() error {
	msgs := make([]string, len(e.errs))
	for i, c := range e.errs {
		msgs[i] = c.Error()
	}
	return unavailable(CodeMisconfigured, "plugin %s refused its settings: %v", e.id, strings.Join(msgs, "; "))
}

// dispense checks that the process serves its kind's service.
func dispense(p *host.Plugin, k Kind) error {
	var err error
	switch k {
	case KindPayment:
		_, err = p.Gateway()
	case KindInvoice:
		_, err = p.Rule()
	case KindNotify:
		_, err = p.Channel()
	default:
		err = fmt.Errorf("unknown kind %q", k)
	}
	return err
}

// startSettings assembles and validates the settings a process gets:
// strict decode, then the schema. Refused settings keep the plugin down
// with a clear reason instead of reaching the plugin.
func (s *Service) startSettings(r *row) (json.RawMessage, error) {
	schema, err := compileSchema(r.ConfigSchema)
	if err != nil {
		return nil, unavailable(CodeMisconfigured, "plugin %s has an invalid settings schema: %v", r.ID, err)
	}
	full, err := s.settingsOf(r)
	if err != nil {
		return nil, err
	}
	if problems := schema.validate(full); problems != nil {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Error()
		}
		return nil, unavailable(CodeMisconfigured, "plugin %s has settings its schema refuses; update them: %s", r.ID, strings.Join(msgs, "; "))
	}
	b, err := json.Marshal(full)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: encode settings: %w", r.ID, err)
	}
	return b, nil
}

func healthFrom(h sdk.Health) Health {
	st := HealthUnknown
	switch h.Status {
	case sdk.HealthServing:
		st = HealthServing
	case sdk.HealthDegraded:
		st = HealthDegraded
	case sdk.HealthNotServing:
		st = HealthNotServing
	}
	return Health{Status: st, Message: h.Message, CheckedAt: time.Now().UTC()}
}

// domainErr returns the *errs.Error in err, or wraps err as unavailable.
func domainErr(err error) *errs.Error {
	var de *errs.Error
	if errors.As(err, &de) {
		return de
	}
	return errs.Unavailable(CodeUnavailable, err.Error())
}

// recordHealthAsync persists a health change without blocking the caller
// (it may hold an instance lock). One writer per plugin drains the latest
// value, so writes stay in order and bursts collapse into one.
func (s *Service) recordHealthAsync(id string, h Health) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.pendingHealth[id] = h
	if s.healthWriting[id] {
		return
	}
	s.healthWriting[id] = true
	s.wg.Add(1)
	go s.writeHealth(id)
}

func (s *Service) writeHealth(id string) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		h, ok := s.pendingHealth[id]
		if !ok {
			delete(s.healthWriting, id)
			s.mu.Unlock()
			return
		}
		delete(s.pendingHealth, id)
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.st.recordHealth(ctx, id, h); err != nil {
			s.log.Warn("record plugin health", attrPlugin, id, attrErr, err)
		}
		cancel()
	}
}

// HealthInterval is how often the supervisor should run Check.
func (s *Service) HealthInterval() time.Duration { return s.opts.HealthInterval }

// Check is one round of the supervisor: it applies catalog changes made
// by other instances or by the CLI (new binary, settings, disabled,
// removed) to the running processes, health-checks them and starts the
// enabled plugins that are not running. A serving App runs it at start
// and every HealthInterval as a worker (worker.NewPeriodic); it fails
// only when the catalog cannot be read.
func (s *Service) Check(ctx context.Context) error {
	rows, err := s.st.list(ctx, "", false)
	if err != nil {
		return fmt.Errorf("plugin supervisor: read catalog: %w", err)
	}
	// Changes made by another instance or the CLI reach the cached lists
	// of enabled plugins at least this often (enabled_cache.go).
	s.enabled.drop()
	byID := make(map[string]*row, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	s.mu.Lock()
	insts := make([]*instance, 0, len(s.instances))
	for _, i := range s.instances {
		insts = append(insts, i)
	}
	s.mu.Unlock()
	for _, i := range insts {
		s.syncInstance(ctx, i, byID[i.id])
		if i.running() != nil {
			_, _ = i.probe(ctx)
		}
	}
	// Enabled plugins not running yet are started now rather than on
	// first use: health then says within one round whether a plugin
	// enabled by the CLI or another instance works, and a binary changed
	// behind Kassa's back (checksum) is reported and logged at start, not
	// at the first buyer's payment. One in backoff fails at once.
	for _, r := range rows {
		if !r.Enabled || r.ID == "" {
			continue
		}
		if i := s.existing(r.ID); i != nil && i.running() != nil {
			continue
		}
		i, err := s.instance(r.ID)
		if err != nil {
			continue
		}
		i.mu.Lock()
		i.wanted = true // a failed start is retried in the background
		i.mu.Unlock()
		sctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout+s.opts.CallTimeout)
		_, _ = i.acquire(sctx) // a failure is logged and becomes the plugin's health
		cancel()
	}
	return nil
}

// syncInstance applies the catalog row r (nil when removed) to i.
func (s *Service) syncInstance(ctx context.Context, i *instance, r *row) {
	if i.running() == nil {
		return
	}
	i.mu.Lock()
	sha, rev := i.sha, i.revision
	i.mu.Unlock()
	switch {
	case r == nil:
		i.stopProcess("removed")
	case !r.Enabled && !(Kind(r.Kind) == KindPayment && i.usedWithin(disabledIdle)):
		// A disabled gateway started for its payments' follow-ups stops
		// once they are done.
		i.stopProcess("disabled")
	case r.SHA256 != sha:
		i.stopProcess("new binary installed")
	case r.Revision != rev:
		i.reconfigure(ctx, r)
	}
}
