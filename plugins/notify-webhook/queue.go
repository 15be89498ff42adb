package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/notify"
	"github.com/kassahq/kassa/plugins/sdk/state"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// Headers of every POST.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>">" made with the endpoint's signing secret; verify it with
	// the SDK's webhook.Verifier.
	SignatureHeader = "Kassa-Signature"
	// EventIDHeader is the event's id (also "id" in the body); the same on
	// every attempt, so receivers can drop duplicates.
	EventIDHeader = "Kassa-Event-Id"
	// EventTypeHeader is the event's type (also "type" in the body).
	EventTypeHeader = "Kassa-Event-Type"
	// DeliveryIDHeader is the plugin's delivery id.
	DeliveryIDHeader = "Kassa-Delivery-Id"
	// AttemptHeader counts the attempts, from 1.
	AttemptHeader = "Kassa-Delivery-Attempt"
)

// Error codes of failed deliveries (notify.Delivery.ErrorCode).
const (
	// CodeNotConfigured: Send before Configure.
	CodeNotConfigured = "not_configured"
	// CodeInvalidData: Message.Data is not a JSON object.
	CodeInvalidData = "invalid_data"
	// CodeUnknownEndpoint: Recipient.URL names no configured endpoint.
	CodeUnknownEndpoint = "unknown_endpoint"
	// CodeEndpointRejected: the endpoint answered 3xx (redirects are not
	// followed) or a 4xx other than 408, 425 and 429; not retried.
	CodeEndpointRejected = "endpoint_rejected"
	// CodeRetriesExhausted: every attempt failed with a 5xx, 408, 425, 429,
	// a timeout or a connection error.
	CodeRetriesExhausted = "retries_exhausted"
	// CodeEndpointRemoved: the endpoint left the settings before its
	// delivery succeeded.
	CodeEndpointRemoved = "endpoint_removed"
)

// maxDelay caps the exponential backoff.
const maxDelay = time.Hour

// answerMargin is kept free before the deadline of Kassa's call, so Send
// answers with a status instead of timing out.
const answerMargin = 500 * time.Millisecond

// Target states.
const (
	statePending = "pending"
	stateSent    = "sent"
	stateFailed  = "failed"
)

// target is one event's delivery to one endpoint.
type target struct {
	Endpoint  string    `json:"endpoint"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at,omitzero"`
	HTTP      int       `json:"http,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	Code      string    `json:"code,omitempty"`
	DoneAt    time.Time `json:"done_at,omitzero"`
}

// record is one event (one Kassa message) and its deliveries.
type record struct {
	MessageID  string    `json:"message_id"`
	DeliveryID string    `json:"delivery_id"`
	Type       string    `json:"type"`
	CreatedAt  time.Time `json:"created_at"`
	// Body is the exact JSON POSTed; dropped once every target is final.
	Body    json.RawMessage `json:"body,omitempty"`
	Targets []*target       `json:"targets"`
}

func (r *record) final() bool {
	for _, t := range r.Targets {
		if t.State == statePending {
			return false
		}
	}
	return true
}

// delivery summarizes a record for Kassa: SENT when every endpoint took
// the event (or none subscribes to it), QUEUED while retries are pending,
// FAILED when an endpoint refused it or retries ran out.
func (r *record) delivery() notify.Delivery {
	d := notify.Delivery{ID: r.DeliveryID, Status: notify.DeliverySent}
	var notes []string
	for _, t := range r.Targets {
		switch t.State {
		case statePending:
			d.Status = notify.DeliveryQueued
			notes = append(notes, fmt.Sprintf("%s: attempt %d failed (%s), next at %s", t.Endpoint, t.Attempts, t.LastError, t.NextAt.UTC().Format(time.RFC3339)))
		case stateFailed:
			if d.Status == notify.DeliverySent {
				d.Status = notify.DeliveryFailed
			}
			if d.ErrorCode == "" {
				d.ErrorCode = t.Code
			}
			notes = append(notes, fmt.Sprintf("%s: %s after %d attempt(s) (%s)", t.Endpoint, t.Code, t.Attempts, t.LastError))
		}
	}
	if d.Status == notify.DeliveryQueued {
		d.ErrorCode = ""
	}
	d.ErrorMessage = strings.Join(notes, "; ")
	return d
}

// body is the JSON POSTed to endpoints.
type body struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

const (
	// stateFile is the journal (plugins/sdk/state) of the deliveries, by
	// message id, in KASSA_PLUGIN_DATA_DIR, so retries continue after a
	// restart.
	stateFile = "notify-webhook-deliveries.jsonl"
	// legacyStateFile is the whole-state file of earlier builds, rewritten
	// on every change: folded into stateFile once, then removed.
	legacyStateFile = "notify-webhook-state.json"
)

// retention is how long finished deliveries are remembered (for
// idempotent retries and status queries).
const retention = 7 * 24 * time.Hour

// pruneInterval is how often a running plugin forgets the deliveries
// finished longer ago than the retention: without it a plugin that runs
// for months would keep every one of them in memory and in its journal.
const pruneInterval = time.Hour

// queue holds the deliveries and retries them in the background.
type queue struct {
	settings func() *settings
	// now is the clock of the deliveries' timestamps, retries and
	// retention; tests move it forward instead of sleeping.
	now func() time.Time
	// journal makes records durable; nil keeps them in memory only. It
	// gets copies, written under mu, and is synced after mu is released
	// so that concurrent deliveries share fsyncs.
	journal *state.Store[record]

	mu      sync.Mutex
	records map[string]*record // by message id
	busy    map[*target]bool   // attempts under way
	flight  map[string]chan struct{}
	wakeCh  chan struct{}
}

// openQueue loads the deliveries remembered in dir ("" keeps them in
// memory only), whose retention and retries run on the clock now.
func openQueue(dir string, cfg func() *settings, now func() time.Time) (*queue, error) {
	q := &queue{
		settings: cfg, now: now, records: map[string]*record{}, busy: map[*target]bool{},
		flight: map[string]chan struct{}{}, wakeCh: make(chan struct{}, 1),
	}
	if dir == "" {
		return q, nil
	}
	j, err := state.Open(state.Options[record]{
		Dir: dir, File: stateFile, Legacy: legacyStateFile,
		Expired: expired, Clone: cloneRecord, Now: now,
	})
	if err != nil {
		return nil, fmt.Errorf("notify.webhook: deliveries journal: %w", err)
	}
	j.Range(func(id string, r record) bool {
		q.records[id] = &r
		return true
	})
	q.journal = j
	return q, nil
}

// expired reports a delivery finished longer ago than the retention: the
// journal hides it at the next start, and prune forgets it while the
// plugin runs.
func expired(r record, now time.Time) bool {
	if !r.final() {
		return false
	}
	var last time.Time
	for _, t := range r.Targets {
		if t.DoneAt.After(last) {
			last = t.DoneAt
		}
	}
	if last.IsZero() {
		last = r.CreatedAt
	}
	return now.Sub(last) > retention
}

// cloneRecord copies r with its targets, which attempts change in place.
func cloneRecord(r record) record {
	ts := make([]*target, len(r.Targets))
	for i, t := range r.Targets {
		c := *t
		ts[i] = &c
	}
	r.Targets = ts
	return r
}

// saveLocked writes r's current state to the journal, durable after the
// next sync. Call with q.mu held.
func (q *queue) saveLocked(r *record) {
	if q.journal == nil {
		return
	}
	c := cloneRecord(*r)
	if err := q.journal.Append(state.Change[record]{Key: r.MessageID, Record: &c}); err != nil {
		logger().Error("cannot save the delivery state", "message_id", r.MessageID, "err", err)
	}
}

// sync makes the changes saved so far durable. Call without q.mu.
func (q *queue) sync() {
	if q.journal == nil {
		return
	}
	if err := q.journal.Sync(); err != nil {
		logger().Error("cannot save the delivery state", "err", err)
	}
}

// prune forgets the deliveries finished longer ago than the retention, in
// memory and in the journal, and compacts the journal so that the disk
// lets go of them too; deliveries still retrying stay whatever their age.
// It returns how many it forgot.
func (q *queue) prune() int {
	now := q.now()
	q.mu.Lock()
	var gone []state.Change[record] // deletions: a nil Record
	for id, r := range q.records {
		if expired(*r, now) {
			delete(q.records, id)
			gone = append(gone, state.Change[record]{Key: id})
		}
	}
	compact := false
	if q.journal != nil {
		if err := q.journal.Append(gone...); err != nil {
			logger().Error("cannot forget old deliveries", "err", err)
		}
		// The journal also holds the records it hid at Open (expired
		// before this process started), which the queue never loaded.
		compact = len(gone) > 0 || q.journal.Len() > len(q.records)
	}
	q.mu.Unlock()
	if len(gone) > 0 {
		logger().Info("forgot finished deliveries", "count", len(gone), "older_than", retention.String())
	}
	if compact {
		// Outside q.mu: Sends wait for the rewrite only when they reach
		// the journal, not while they POST.
		if err := q.journal.Compact(); err != nil {
			logger().Error("cannot compact the deliveries journal", "err", err)
			q.sync() // the deletions at least
		}
	}
	return len(gone)
}

func (q *queue) wake() {
	select {
	case q.wakeCh <- struct{}{}:
	default:
	}
}

func deliveryID(messageID string) string {
	sum := sha256.Sum256([]byte(messageID))
	return "whd_" + hex.EncodeToString(sum[:12])
}

func failed(code, msg string, retryable bool) notify.Delivery {
	return notify.Delivery{Status: notify.DeliveryFailed, ErrorCode: code, ErrorMessage: msg, Retryable: retryable}
}

// Send POSTs the event to every endpoint subscribed to Message.TemplateID
// (or, when Recipient.URL is set, to the configured endpoint with that
// URL) and answers with the outcome:
//
//   - SENT when every endpoint answered 2xx (also when none subscribes);
//   - QUEUED when an endpoint failed with a 5xx, 408, 425, 429, a timeout
//     or a connection error: the plugin retries in the background with
//     exponential backoff, up to max_attempts;
//   - FAILED (not retryable) when an endpoint refused the event (other
//     4xx, or a redirect, which is never followed) or retries ran out.
//
// Send is idempotent by Message.ID: calling it again never POSTs again and
// returns the current status, so Kassa polls a QUEUED delivery by sending
// the same message again. SecretData is never sent to endpoints.
func (c *Channel) Send(ctx context.Context, msg notify.Message) (notify.Delivery, error) {
	q := c.queue
	release := q.claim(msg.ID)
	defer release()
	q.mu.Lock()
	if r := q.records[msg.ID]; r != nil {
		d := r.delivery()
		q.mu.Unlock()
		return d, nil
	}
	q.mu.Unlock()

	cfg := c.cfg.Load()
	if cfg == nil {
		return failed(CodeNotConfigured, "the webhook plugin has no settings yet", true), nil
	}
	data := bytes.TrimSpace(msg.Data)
	if len(data) == 0 {
		data = []byte("{}")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return failed(CodeInvalidData, "data must be a JSON object", false), nil
	}
	var targets []*target
	for _, e := range cfg.Endpoints {
		if msg.Recipient.URL != "" && e.URL != msg.Recipient.URL {
			continue
		}
		if msg.Recipient.URL != "" || e.wants(msg.TemplateID) {
			targets = append(targets, &target{Endpoint: e.Name, State: statePending})
		}
	}
	if msg.Recipient.URL != "" && len(targets) == 0 {
		return failed(CodeUnknownEndpoint, "no configured endpoint has the recipient URL", false), nil
	}
	now := q.now().UTC()
	b, err := json.Marshal(body{ID: msg.ID, Type: msg.TemplateID, CreatedAt: now.Truncate(time.Millisecond), Data: data})
	if err != nil {
		return failed(CodeInvalidData, err.Error(), false), nil
	}
	r := &record{MessageID: msg.ID, DeliveryID: deliveryID(msg.ID), Type: msg.TemplateID, CreatedAt: now, Body: b, Targets: targets}

	// Recorded before the first attempt: after a crash the retries go on
	// (receivers drop duplicates by event id).
	q.mu.Lock()
	q.records[msg.ID] = r
	for _, t := range targets {
		q.busy[t] = true
	}
	q.saveLocked(r)
	q.mu.Unlock()
	q.sync()

	// Answer before Kassa's deadline: an attempt cut short is retried.
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-answerMargin))
		defer cancel()
	}
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.attempt(ctx, cfg, r, t)
		}()
	}
	wg.Wait()

	q.mu.Lock()
	if r.final() {
		r.Body = nil
	}
	q.saveLocked(r)
	d := r.delivery()
	q.mu.Unlock()
	q.sync() // before answering: Kassa may rely on a QUEUED delivery going on
	logger().Info("event delivered", "message_id", msg.ID, "type", msg.TemplateID, "delivery_id", r.DeliveryID,
		"endpoints", len(targets), "status", d.Status.String())
	q.wake()
	return d, nil
}

// claim serializes Sends of one message id.
func (q *queue) claim(id string) func() {
	for {
		q.mu.Lock()
		ch, busy := q.flight[id]
		if !busy {
			done := make(chan struct{})
			q.flight[id] = done
			q.mu.Unlock()
			return func() {
				q.mu.Lock()
				delete(q.flight, id)
				q.mu.Unlock()
				close(done)
			}
		}
		q.mu.Unlock()
		<-ch
	}
}

// attempt POSTs a record to one endpoint once and updates the target. The
// target must be marked busy; attempt clears the mark.
func (q *queue) attempt(ctx context.Context, cfg *settings, r *record, t *target) {
	q.mu.Lock()
	body, n := r.Body, t.Attempts+1
	q.mu.Unlock()
	log := logger().With("message_id", r.MessageID, "endpoint", t.Endpoint, "attempt", n)

	e, ok := cfg.endpoint(t.Endpoint)
	secret := cfg.SigningSecrets[t.Endpoint]
	if !ok || secret == "" {
		q.finish(t, CodeEndpointRemoved, "the endpoint is no longer in the settings")
		log.Warn("endpoint removed before delivery")
		return
	}
	if code, msg := checkURL(e.URL, cfg.guard); code != "" { // never anything but public http(s)
		q.finish(t, CodeEndpointRejected, msg)
		return
	}
	res := q.post(ctx, cfg, e.URL, secret, r, body, n)

	q.mu.Lock()
	defer q.mu.Unlock()
	defer delete(q.busy, t)
	t.Attempts, t.HTTP, t.LastError = n, res.status, res.err
	now := q.now().UTC()
	switch {
	case res.err == "":
		t.State, t.NextAt, t.DoneAt, t.Code = stateSent, time.Time{}, now, ""
		log.Info("webhook accepted", "http", res.status)
	case !res.retry:
		t.State, t.NextAt, t.DoneAt, t.Code = stateFailed, time.Time{}, now, CodeEndpointRejected
		log.Warn("webhook refused", "http", res.status)
	case n >= cfg.maxAttempts():
		t.State, t.NextAt, t.DoneAt, t.Code = stateFailed, time.Time{}, now, CodeRetriesExhausted
		log.Warn("webhook given up", "http", res.status, "err", res.err)
	default:
		t.NextAt = now.Add(min(max(backoff(cfg.initialDelay(), n), res.retryAfter), maxDelay))
		log.Info("webhook failed, will retry", "http", res.status, "err", res.err, "next_at", t.NextAt)
	}
}

// finish ends a target as failed without an attempt.
func (q *queue) finish(t *target, code, msg string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t.State, t.Code, t.LastError, t.NextAt, t.DoneAt = stateFailed, code, msg, time.Time{}, q.now().UTC()
	delete(q.busy, t)
}

// result is the outcome of one POST.
type result struct {
	status     int           // HTTP status, 0 without an answer
	err        string        // "" on success
	retry      bool          // a failure worth retrying
	retryAfter time.Duration // the endpoint's Retry-After (429, 503)
}

// post sends one attempt.
func (q *queue) post(ctx context.Context, cfg *settings, url, secret string, r *record, body []byte, attempt int) result {
	actx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return result{err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kassa-Webhooks/"+Version)
	req.Header.Set(SignatureHeader, webhook.Sign([]byte(secret), time.Now(), body))
	req.Header.Set(EventIDHeader, r.MessageID)
	req.Header.Set(EventTypeHeader, r.Type)
	req.Header.Set(DeliveryIDHeader, r.DeliveryID)
	req.Header.Set(AttemptHeader, strconv.Itoa(attempt))
	res, err := cfg.httpClient().Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrBlocked) {
			// The endpoint's name resolves to a private address: the
			// settings must change, retrying will not help.
			return result{err: "refused: " + trimURLError(err)}
		}
		if actx.Err() != nil {
			return result{err: fmt.Sprintf("no answer within %s", cfg.timeout()), retry: true}
		}
		return result{err: "connection failed: " + trimURLError(err), retry: true}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	out := result{status: res.StatusCode}
	switch code := res.StatusCode; {
	case code >= 200 && code < 300:
	case code >= 300 && code < 400:
		out.err = fmt.Sprintf("HTTP %d (redirects are not followed)", code)
	case code >= 500, code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		out.err, out.retry = fmt.Sprintf("HTTP %d", code), true
		if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs > 0 {
			out.retryAfter = time.Duration(secs) * time.Second
		}
	default:
		out.err = fmt.Sprintf("HTTP %d", code)
	}
	return out
}

// trimURLError drops the URL from a client error (it may carry a token in
// its query string).
func trimURLError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}

// backoff is the delay before attempt n+1: initial * 2^(n-1), at most an
// hour, with ±10% jitter so that many queued events do not retry in step.
func backoff(initial time.Duration, n int) time.Duration {
	d := initial
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	jitter := time.Duration(float64(d) * 0.1 * (2*rand.Float64() - 1))
	return d + jitter
}

// run retries due targets, and prunes old deliveries every pruneInterval
// (first at once, for those the journal hid at Open), until ctx ends.
func (q *queue) run(ctx context.Context) {
	const sem = 4 // concurrent background attempts
	slots := make(chan struct{}, sem)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	pruneAt := q.now()
	for {
		if !q.now().Before(pruneAt) {
			q.prune()
			pruneAt = q.now().Add(pruneInterval)
		}
		cfg := q.settings()
		next := q.now().Add(time.Hour)
		if pruneAt.Before(next) {
			next = pruneAt
		}
		if cfg != nil {
			type job struct {
				r *record
				t *target
			}
			var due []job
			q.mu.Lock()
			now := q.now()
			for _, id := range slices.Sorted(maps.Keys(q.records)) {
				r := q.records[id]
				for _, t := range r.Targets {
					if t.State != statePending || q.busy[t] {
						continue
					}
					if !t.NextAt.After(now) {
						q.busy[t] = true
						due = append(due, job{r, t})
					} else if t.NextAt.Before(next) {
						next = t.NextAt
					}
				}
			}
			q.mu.Unlock()
			for _, j := range due {
				slots <- struct{}{}
				go func() {
					defer func() { <-slots }()
					q.attempt(ctx, cfg, j.r, j.t)
					q.mu.Lock()
					if j.r.final() {
						j.r.Body = nil
					}
					q.saveLocked(j.r)
					q.mu.Unlock()
					q.sync()
					q.wake()
				}()
			}
		}
		timer.Reset(max(next.Sub(q.now()), 10*time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-q.wakeCh:
		}
	}
}
