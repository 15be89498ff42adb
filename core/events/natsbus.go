package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of NATSOptions.
const (
	DefaultStream          = "KASSA"
	DefaultMaxAge          = 7 * 24 * time.Hour
	DefaultDuplicateWindow = 2 * time.Minute
)

// Message headers Kassa sets besides Nats-Msg-Id (the event id).
const (
	headerOccurredAt = "Kassa-Occurred-At"
	headerActor      = "Kassa-Actor"
)

// NATSOptions configure OpenNATS.
type NATSOptions struct {
	// URL of an external NATS server or cluster with JetStream enabled,
	// e.g. "nats://127.0.0.1:4222" (several comma-separated URLs for a
	// cluster; credentials may be given as nats://user:pass@host:4222).
	// Empty runs an embedded server inside the kassa process.
	URL string
	// CredentialsFile is the path of a NATS .creds file used to
	// authenticate to the external server. Optional.
	CredentialsFile string
	// DataDir is Kassa's data directory; the embedded server keeps its
	// JetStream files in DataDir/nats. Required when URL is empty.
	DataDir string
	// ListenAddr makes the embedded server also accept TCP clients at this
	// address (e.g. "127.0.0.1:4222"), for inspecting the stream with the
	// nats CLI while debugging. Empty, the default, opens no port at all:
	// kassa talks to its embedded server in-process.
	ListenAddr string
	// Stream is the JetStream stream holding the events (default "KASSA").
	Stream string
	// SubjectPrefix replaces the leading "kassa" of every subject on the
	// wire (default "kassa", i.e. no change). Code always sees
	// "kassa.<domain>.<event>". Use it to share one NATS account between
	// several shops or test runs; each needs its own Stream too.
	SubjectPrefix string
	// MaxAge is how long the stream keeps an event (default 7 days). A
	// durable consumer offline for longer misses what expired.
	MaxAge time.Duration
	// DuplicateWindow is how long JetStream remembers event ids to drop
	// republished events (default 2 minutes). It must cover the time the
	// outbox relay may need to republish after a crash.
	DuplicateWindow time.Duration
	// Replicas is the number of copies a NATS cluster keeps of the stream.
	// 0 keeps the current setting of an existing stream and creates a new
	// one with 1. The embedded server always uses 1.
	Replicas int
	// Name is the connection name shown in NATS monitoring (default
	// "kassa").
	Name string
	// Logger receives connection and server messages; nil means
	// slog.Default().
	Logger *slog.Logger
}

// NATSBus is the Bus on NATS JetStream, with an embedded server or an
// external one.
type NATSBus struct {
	log    *slog.Logger
	srv    *server.Server // nil for an external server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream string
	prefix string
	closed chan struct{} // closed when nc is closed

	mu       sync.Mutex
	isClosed bool
	subs     map[Subscription]struct{}
}

var (
	_ Bus            = (*NATSBus)(nil)
	_ batchPublisher = (*NATSBus)(nil)
)

var prefixRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// OpenNATS connects to the external server named by opt.URL, or starts an
// embedded one, and creates or updates the event stream so its settings
// match opt.
func OpenNATS(ctx context.Context, opt NATSOptions) (*NATSBus, error) {
	if opt.Stream == "" {
		opt.Stream = DefaultStream
	}
	if opt.SubjectPrefix == "" {
		opt.SubjectPrefix = Root
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
	}
	if opt.DuplicateWindow <= 0 {
		opt.DuplicateWindow = DefaultDuplicateWindow
	}
	if opt.DuplicateWindow > opt.MaxAge {
		opt.DuplicateWindow = opt.MaxAge
	}
	if opt.Name == "" {
		opt.Name = "kassa"
	}
	if !prefixRe.MatchString(opt.SubjectPrefix) {
		return nil, fmt.Errorf("events: subject prefix %q must be one token of letters, digits, '-' or '_'", opt.SubjectPrefix)
	}
	if !prefixRe.MatchString(opt.Stream) {
		return nil, fmt.Errorf("events: stream name %q must be letters, digits, '-' or '_'", opt.Stream)
	}
	b := &NATSBus{
		log:    componentLogger(opt.Logger).With(attrBus, "nats"),
		stream: opt.Stream,
		prefix: opt.SubjectPrefix,
		closed: make(chan struct{}),
		subs:   map[Subscription]struct{}{},
	}
	copts := []nats.Option{
		nats.Name(opt.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", attrError, err.Error())
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", attrURL, nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			b.log.Warn("nats asynchronous error", attrError, err.Error())
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
	}
	url := opt.URL
	if url == "" {
		if opt.DataDir == "" {
			return nil, errors.New("events: embedded nats needs a data directory")
		}
		srv, err := startEmbedded(opt, b.log)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		copts = append(copts, nats.InProcessServer(srv))
	} else if opt.CredentialsFile != "" {
		copts = append(copts, nats.UserCredentials(opt.CredentialsFile))
	}
	nc, err := nats.Connect(url, copts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("events: connect to nats %s: %w", redact(url), err)
	}
	b.nc = nc
	// The timeout resolves an asynchronous publish (PublishBatch) whose
	// acknowledgement never comes, so it does not stay pending for the
	// life of the connection.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(asyncAckTimeout))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("events: jetstream: %w", err)
	}
	b.js = js
	if err := b.ensureStream(ctx, opt); err != nil {
		b.Close()
		return nil, err
	}
	if b.srv != nil {
		b.log.Info("embedded nats started", attrStore, filepath.Join(opt.DataDir, "nats"), attrListen, opt.ListenAddr, attrStream, b.stream)
	} else {
		b.log.Info("connected to nats", attrURL, nc.ConnectedUrlRedacted(), attrStream, b.stream)
	}
	return b, nil
}

func startEmbedded(opt NATSOptions, log *slog.Logger) (*server.Server, error) {
	so := &server.Options{
		ServerName: "kassa",
		JetStream:  true,
		StoreDir:   filepath.Join(opt.DataDir, "nats"),
		DontListen: opt.ListenAddr == "",
		NoSigs:     true,
		// Write every stored message to disk before acknowledging it: the
		// relay marks an outbox row sent on that acknowledgement, so a
		// power cut must not lose what was acknowledged. Kassa's event
		// rate is far below what this costs.
		SyncAlways: true,
	}
	if opt.ListenAddr != "" {
		host, port, err := net.SplitHostPort(opt.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("events: nats listen address %q: %w", opt.ListenAddr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("events: nats listen address %q: bad port", opt.ListenAddr)
		}
		so.Host, so.Port = host, p
	}
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("events: embedded nats: %w", err)
	}
	srv.SetLoggerV2(natsLogger{log.With(attrPart, "nats-server")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, errors.New("events: embedded nats did not become ready")
	}
	return srv, nil
}

func (b *NATSBus) ensureStream(ctx context.Context, opt NATSOptions) error {
	cfg := jetstream.StreamConfig{
		Name:        b.stream,
		Description: "Kassa domain events. Managed by kassa: its settings are reapplied at every start.",
		Subjects:    []string{b.prefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      opt.MaxAge,
		Duplicates:  opt.DuplicateWindow,
		Replicas:    opt.Replicas,
	}
	if b.srv != nil {
		cfg.Replicas = 1
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
		s, err := b.js.Stream(ctx, b.stream)
		switch {
		case err == nil:
			cfg.Replicas = s.CachedInfo().Config.Replicas
		case !errors.Is(err, jetstream.ErrStreamNotFound):
			return fmt.Errorf("events: look up stream %s: %w", b.stream, err)
		}
	}
	if _, err := b.js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("events: create or update stream %s: %w", b.stream, err)
	}
	return nil
}

// Ready reports whether the bus can accept events: the connection is up
// and the stream answers. Use it for /readyz.
func (b *NATSBus) Ready(ctx context.Context) error {
	if s := b.nc.Status(); s != nats.CONNECTED {
		return fmt.Errorf("events: nats connection is %s", s)
	}
	if _, err := b.js.Stream(ctx, b.stream); err != nil {
		return fmt.Errorf("events: stream %s: %w", b.stream, err)
	}
	return nil
}

// Conn returns the underlying NATS connection, for tests and tools.
func (b *NATSBus) Conn() *nats.Conn { return b.nc }

func (b *NATSBus) wire(subject string) string { return b.prefix + subject[len(Root):] }

func (b *NATSBus) unwire(subject string) string {
	if len(subject) < len(b.prefix) {
		return subject
	}
	return Root + subject[len(b.prefix):]
}

// Publish implements Publisher. It returns after JetStream stored the
// event (or recognised it as a duplicate).
func (b *NATSBus) Publish(ctx context.Context, e Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if b.closing() {
		return ErrClosed
	}
	ack, err := b.js.PublishMsg(ctx, b.message(e), jetstream.WithMsgID(e.ID), jetstream.WithExpectStream(b.stream))
	if err != nil {
		return fmt.Errorf("events: publish %s %s: %w", e.Subject, e.ID, err)
	}
	b.noteDuplicate(e, ack)
	return nil
}

// message is e as a NATS message, without the JetStream headers.
func (b *NATSBus) message(e Event) *nats.Msg {
	m := nats.NewMsg(b.wire(e.Subject))
	m.Data = e.Payload
	m.Header.Set(headerOccurredAt, e.OccurredAt.UTC().Format(time.RFC3339Nano))
	if e.Actor != "" {
		m.Header.Set(headerActor, e.Actor)
	}
	for k, v := range e.Headers {
		m.Header.Set(k, v)
	}
	return m
}

func (b *NATSBus) noteDuplicate(e Event, ack *jetstream.PubAck) {
	if ack != nil && ack.Duplicate {
		b.log.Debug("duplicate event dropped by the stream", attrEventID, e.ID, attrSubject, e.Subject)
	}
}

// asyncAckTimeout bounds the wait for one acknowledgement of PublishBatch.
const asyncAckTimeout = 10 * time.Second

// errCodeWrongLastMsgID is JetStream's error code for a message whose
// Nats-Expected-Last-Msg-Id is not the id of the stream's last message
// (nats-server's JSStreamWrongLastMsgIDErrF; nats.go names no constant).
const errCodeWrongLastMsgID jetstream.ErrorCode = 10070

// PublishBatch implements batchPublisher: it sends every event of evs
// without waiting, then waits for their acknowledgements, so a batch
// costs the stream's writes but one round trip. It returns how many
// leading events the stream acknowledged (stored, or dropped as
// duplicates) and why the next one was not.
//
// Several events in flight must not be stored out of order: if one is
// lost (a connection cut, a publish retried after "no responders") the
// ones after it must not be stored ahead of it. So each event after the
// first expects the one before it to be the stream's last message
// (Nats-Expected-Last-Msg-Id), and the stream refuses it otherwise; the
// refusals go on down the batch, since none of them is stored. A refusal
// whose predecessor was acknowledged is not a failure but the sign that
// the predecessor was a duplicate (already in the stream, not last):
// PublishBatch then returns errOutOfTurn and the caller publishes the
// rest again, the refused event first, with no expectation.
func (b *NATSBus) PublishBatch(ctx context.Context, evs []Event) (int, error) {
	if b.closing() {
		return 0, ErrClosed
	}
	futures := make([]jetstream.PubAckFuture, 0, len(evs))
	var sendErr error
	for i, e := range evs {
		if sendErr = e.Validate(); sendErr != nil {
			break
		}
		opts := []jetstream.PublishOpt{jetstream.WithMsgID(e.ID), jetstream.WithExpectStream(b.stream)}
		if i > 0 {
			opts = append(opts, jetstream.WithExpectLastMsgID(evs[i-1].ID))
		}
		f, err := b.js.PublishMsgAsync(b.message(e), opts...)
		if err != nil {
			sendErr = fmt.Errorf("events: publish %s %s: %w", e.Subject, e.ID, err)
			break
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		e := evs[i]
		select {
		case ack := <-f.Ok():
			b.noteDuplicate(e, ack)
		case err := <-f.Err():
			var apiErr *jetstream.APIError
			if i > 0 && errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeWrongLastMsgID {
				b.log.Debug("event published out of turn after a duplicate; publishing again", attrEventID, e.ID, attrSubject, e.Subject)
				return i, fmt.Errorf("events: publish %s %s: %w", e.Subject, e.ID, errOutOfTurn)
			}
			return i, fmt.Errorf("events: publish %s %s: %w", e.Subject, e.ID, err)
		case <-ctx.Done():
			return i, fmt.Errorf("events: publish %s %s: %w", e.Subject, e.ID, ctx.Err())
		}
	}
	return len(futures), sendErr
}

func (b *NATSBus) decode(subject string, h nats.Header, data []byte) (Event, error) {
	e := Event{
		ID:      h.Get(jetstream.MsgIDHeader),
		Subject: b.unwire(subject),
		Actor:   h.Get(headerActor),
		Payload: append(json.RawMessage(nil), data...),
	}
	t, err := time.Parse(time.RFC3339Nano, h.Get(headerOccurredAt))
	if err != nil {
		return Event{}, fmt.Errorf("%w: %s header: %v", ErrInvalidEvent, headerOccurredAt, err)
	}
	e.OccurredAt = t.UTC()
	for k, vs := range h {
		if len(vs) > 0 && validHeaderName(k) {
			if e.Headers == nil {
				e.Headers = map[string]string{}
			}
			e.Headers[k] = vs[0]
		}
	}
	return e, e.Validate()
}

// Subscribe implements Bus with a durable JetStream pull consumer named
// durable. Acknowledgements are explicit, sent without waiting for the
// server's confirmation (see deliver); a failed event is negatively acknowledged with the backoff delay for its
// delivery count; after the last allowed delivery it is terminated and
// logged.
func (b *NATSBus) Subscribe(ctx context.Context, durable, filter string, h Handler, opts ...SubscribeOption) (Subscription, error) {
	if err := validateDurable(durable); err != nil {
		return nil, err
	}
	cfg := newSubscribeConfig(opts)
	filters, err := cfg.filters(filter)
	if err != nil {
		return nil, err
	}
	if b.closing() {
		return nil, ErrClosed
	}
	cc := jetstream.ConsumerConfig{
		Durable:       durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.ackWait,
		MaxDeliver:    cfg.maxDeliver,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 1000,
	}
	// One filter stays FilterSubject, as consumers made before multiple
	// filters were used have it: their configuration does not change.
	// Several need NATS 2.10 or later; an older server gets the narrowest
	// filter covering them all, and deliver drops (acknowledges) what
	// none of them matches.
	var only []string
	switch {
	case len(filters) == 1:
		cc.FilterSubject = b.wire(filter)
	case b.multipleFilters():
		for _, f := range filters {
			cc.FilterSubjects = append(cc.FilterSubjects, b.wire(f))
		}
	default:
		cc.FilterSubject = b.wire(coveringFilter(filters))
		only = filters
	}
	if cfg.deliverNew {
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	// The start position of an existing consumer cannot change; keep it.
	if c, err := b.js.Consumer(ctx, b.stream, durable); err == nil {
		old := c.CachedInfo().Config
		cc.DeliverPolicy, cc.OptStartSeq, cc.OptStartTime = old.DeliverPolicy, old.OptStartSeq, old.OptStartTime
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("events: look up consumer %s: %w", durable, err)
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, b.stream, cc)
	if err != nil {
		return nil, fmt.Errorf("events: create consumer %s: %w", durable, err)
	}
	s := &natsSub{log: b.log.With(attrDurable, durable)}
	hctx := context.WithoutCancel(ctx)
	consume, err := cons.Consume(func(m jetstream.Msg) {
		if !s.enter() {
			// Stopping: hand it back at once rather than after AckWait.
			_ = m.Nak()
			return
		}
		defer s.running.Done()
		b.deliver(hctx, s.log, cfg, only, h, m)
	},
		jetstream.PullMaxMessages(64),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			s.log.Warn("consumer error", attrError, err.Error())
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("events: consume %s: %w", durable, err)
	}
	s.stop = func() {
		// Drain rather than Stop: messages already buffered for this
		// subscription go through the callback, which hands them back
		// (Nak) for prompt redelivery instead of leaving them to time out
		// after AckWait. Waiting for Closed and flushing makes sure the
		// server dropped our interest before Stop returns.
		consume.Drain()
		select {
		case <-consume.Closed():
		case <-time.After(5 * time.Second):
			consume.Stop()
		}
		_ = b.nc.FlushTimeout(5 * time.Second)
	}
	b.track(s)
	s.onStop = func() { b.untrack(s) }
	return s, nil
}

// multipleFilters reports whether the server takes several filters per
// consumer (NATS 2.10 and later).
func (b *NATSBus) multipleFilters() bool {
	major, rest, _ := strings.Cut(b.nc.ConnectedServerVersion(), ".")
	minor, _, _ := strings.Cut(rest, ".")
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	return err1 == nil && err2 == nil && (ma > 2 || ma == 2 && mi >= 10)
}

// coveringFilter is the narrowest single filter matching every subject
// filters match: their common leading tokens and ">", or the filter
// itself when they are all the same.
func coveringFilter(filters []string) string {
	common := strings.Split(filters[0], ".")
	for _, f := range filters[1:] {
		toks := strings.Split(f, ".")
		n := 0
		for n < len(common) && n < len(toks) && common[n] == toks[n] && common[n] != ">" {
			n++
		}
		if n < len(common) || len(toks) != len(common) {
			// ">" takes one token at least: a filter ending where the
			// common part does needs one token less.
			if n >= len(toks) || n >= len(common) {
				n = min(len(toks), len(common)) - 1
			}
			common = append(common[:n], ">")
		}
	}
	return strings.Join(common, ".")
}

// deliver runs h on m and acknowledges it, or asks for its redelivery.
// With only set (several filters on a server without them), a message
// none of only matches is acknowledged without h.
func (b *NATSBus) deliver(ctx context.Context, log *slog.Logger, cfg subscribeConfig, only []string, h Handler, m jetstream.Msg) {
	if only != nil && !matchesAny(only, b.unwire(m.Subject())) {
		_ = m.Ack()
		return
	}
	e, err := b.decode(m.Subject(), m.Headers(), m.Data())
	if err != nil {
		log.Error("malformed event message dropped", attrSubject, m.Subject(), attrError, err.Error())
		_ = m.Term()
		return
	}
	n := 1
	if md, err := m.Metadata(); err == nil {
		n = int(md.NumDelivered)
	}
	hctx, cancel := context.WithTimeout(withDelivery(ctx, n), cfg.ackWait)
	err = callHandler(hctx, h, e)
	cancel()
	if err == nil {
		// Not waited for (DoubleAck): a lost acknowledgement only means
		// the event comes again after AckWait, which at-least-once
		// handlers take; waiting would cost a round trip per event and
		// consumer, most of them events the handler dropped.
		if err := m.Ack(); err != nil {
			log.Warn("acknowledgement not sent; the event will be redelivered", attrEventID, e.ID, attrError, err.Error())
		}
		return
	}
	l := log.With(attrEventID, e.ID, attrSubject, e.Subject, attrDelivery, n, attrError, err.Error())
	switch {
	case IsPermanent(err):
		l.Error("event handler failed permanently; event dropped")
		_ = m.Term()
	case n >= cfg.maxDeliver:
		l.Error("event handler failed on the last delivery; event dropped")
		_ = m.Term()
	default:
		l.Warn("event handler failed; will redeliver")
		_ = m.NakWithDelay(cfg.delay(n))
	}
}

// Listen implements Bus with a plain NATS subscription: every listening
// instance gets its own copy of each event published while it listens.
func (b *NATSBus) Listen(ctx context.Context, filter string, h Handler) (Subscription, error) {
	if err := ValidateFilter(filter); err != nil {
		return nil, err
	}
	if b.closing() {
		return nil, ErrClosed
	}
	s := &natsSub{log: b.log.With(attrListener, filter)}
	hctx := context.WithoutCancel(ctx)
	sub, err := b.nc.Subscribe(b.wire(filter), func(m *nats.Msg) {
		if !s.enter() {
			return
		}
		defer s.running.Done()
		e, err := b.decode(m.Subject, m.Header, m.Data)
		if err != nil {
			s.log.Warn("malformed event message ignored", attrSubject, m.Subject, attrError, err.Error())
			return
		}
		if err := callHandler(hctx, h, e); err != nil {
			s.log.Warn("event listener failed", attrEventID, e.ID, attrSubject, e.Subject, attrError, err.Error())
		}
	})
	if err != nil {
		return nil, fmt.Errorf("events: listen on %s: %w", filter, err)
	}
	s.stop = func() { _ = sub.Unsubscribe() }
	b.track(s)
	s.onStop = func() { b.untrack(s) }
	// Make sure the server registered the interest before returning, so an
	// event published right after Listen returns is seen.
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.nc.FlushWithContext(fctx); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("events: listen on %s: %w", filter, err)
	}
	return s, nil
}

func (b *NATSBus) track(s Subscription) {
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
}

func (b *NATSBus) untrack(s Subscription) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

func (b *NATSBus) closing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.isClosed
}

// Close stops every subscription (waiting for running handlers), drains
// the connection so nothing in flight is lost, and shuts the embedded
// server down.
func (b *NATSBus) Close() error {
	b.mu.Lock()
	if b.isClosed {
		b.mu.Unlock()
		return nil
	}
	b.isClosed = true
	subs := make([]Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		_ = s.Stop()
	}
	var err error
	if b.nc != nil {
		if derr := b.nc.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) {
			err = fmt.Errorf("events: drain nats connection: %w", derr)
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-time.After(10 * time.Second):
			b.nc.Close()
		}
	}
	b.shutdownServer()
	return err
}

func (b *NATSBus) shutdownServer() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// natsSub is a running consumer or listener; Stop waits for its handler.
type natsSub struct {
	log     *slog.Logger
	stop    func()
	onStop  func()
	mu      sync.Mutex
	stopped bool
	running sync.WaitGroup
	once    sync.Once
}

// enter registers a handler run; false once the subscription is stopping.
func (s *natsSub) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.running.Add(1)
	return true
}

// Stop implements Subscription.
func (s *natsSub) Stop() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		if s.stop != nil {
			s.stop()
		}
		s.running.Wait()
		if s.onStop != nil {
			s.onStop()
		}
	})
	return nil
}

// natsLogger sends the embedded server's log to slog. Notices (the start
// banner and the like) go to debug: they are noise in kassa's log.
type natsLogger struct{ l *slog.Logger }

func (n natsLogger) Noticef(format string, v ...any) { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n natsLogger) Warnf(format string, v ...any)   { n.l.Warn(fmt.Sprintf(format, v...)) }
func (n natsLogger) Fatalf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n natsLogger) Errorf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n natsLogger) Debugf(format string, v ...any)  { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n natsLogger) Tracef(string, ...any)           {}

var urlPassword = regexp.MustCompile(`//([^:@/]+):[^@/]*@`)

// redact hides a password in a server URL for error messages.
func redact(url string) string { return urlPassword.ReplaceAllString(url, "//$1:***@") }
