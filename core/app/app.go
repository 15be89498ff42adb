package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kassahq/kassa/admin"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/delivery"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/core/notify"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/worker"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/live"
	"github.com/kassahq/kassa/graphql/loader"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/httpauth"
	"github.com/kassahq/kassa/migrations"
	"github.com/kassahq/kassa/storefront"
)

// Version is the Kassa release, set at build time with
// -ldflags "-X github.com/kassahq/kassa/core/app.Version=v1.2.3".
var Version = "dev"

// Options are the parts of an App that are not settings.
type Options struct {
	// LogOutput receives the logs; nil means standard error.
	LogOutput io.Writer
	// SkipMigrate leaves the schema alone (kassa migrate manages it).
	SkipMigrate bool
	// DB, when set, is used instead of opening Config.Database(); the
	// caller closes it (tests pass a storetest database).
	DB *store.DB
	// Offline builds the instance without an event bus, for commands
	// that run beside a serving instance on the same data (seed, user):
	// no second embedded NATS touches the server's store, and the data
	// directory's lock that a serving instance holds is not taken. Such
	// an instance is never started (Start refuses it): events it causes
	// wait in the outbox until a server's relay publishes them.
	Offline bool
}

// App is one running Kassa instance.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	DB      *store.DB
	Metrics *prometheus.Registry
	Bus     *events.NATSBus
	Outbox  *events.Outbox
	Relay   *events.Relay
	Authz   authz.Authorizer
	// Accounts are the permission system and the accounts of buyers and
	// staff.
	Accounts *Accounts
	// Plugins is the plugin host: catalog, settings, supervisor, domain
	// ports.
	Plugins *plugin.Service
	// Deliveries journals what the event consumers did with each event
	// and keeps their dead letters for replay.
	Deliveries *delivery.Journal
	Catalog    *catalog.Service
	GraphQL    *graphql.Server
	// Live tells the GraphQL subscriptions open on this instance that
	// their order changed; it listens to every order event.
	Live *live.Hub
	// LiveAccess tells the live connections open on this instance that
	// their caller's access may have changed (a revoked key, a disabled
	// member, a logout, a policy change), so they check it again at once.
	LiveAccess *live.Access
	// Settings are the shop settings, shipping and tax.
	Settings *Settings
	// Checkout is the carts and the idempotency keys of checkout.
	Checkout *Checkout
	// Orders holds placed orders; the cart places them at checkout.
	Orders *order.Service
	// Payments pays orders through the gateway plugins and keeps the
	// ledger.
	Payments *payment.Service
	// Invoices issues invoices and credit notes through the invoice rule
	// plugins and keeps them for staff and buyers.
	Invoices *invoice.Service
	// Storefront is the shop's pages, rendered from GraphQL in-process.
	Storefront *storefront.Handler
	// storefrontForms is the storefront forms' CSRF rule (storefront/csrf.go).
	storefrontForms *httpauth.FormTokenCSRF

	ready   atomic.Bool
	closers []namedCloser
	// workers are the background work Start starts: nil offline.
	workers *worker.Group
}

type namedCloser struct {
	name string
	fn   func(ctx context.Context) error
}

// onClose registers a teardown step; Close runs them in reverse order.
func (a *App) onClose(name string, fn func(ctx context.Context) error) {
	a.closers = append(a.closers, namedCloser{name, fn})
}

// New builds an App from cfg. On error everything already started is
// stopped again.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	if opts.LogOutput == nil {
		opts.LogOutput = os.Stderr
	}
	a := &App{Config: cfg, Log: newLogger(cfg, opts.LogOutput), Metrics: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			_ = a.Close(context.Background())
		}
	}()
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// One serving instance per data directory, taken before anything
	// opens the embedded NATS store or the database. Released last.
	if !opts.Offline && ownsDataDir(cfg) {
		unlock, err := lockDataDir(cfg)
		if err != nil {
			return nil, err
		}
		a.onClose("data dir lock", func(context.Context) error { unlock(); return nil })
	}

	// Database.
	if opts.DB != nil {
		a.DB = opts.DB
	} else {
		a.DB, err = store.Open(ctx, cfg.Database(), store.Options{})
		if err != nil {
			return nil, err
		}
		a.onClose("database", func(context.Context) error { return a.DB.Close() })
	}
	a.Metrics.MustRegister(collectors.NewDBStatsCollector(a.DB.DB.DB, "kassa"))
	if !opts.SkipMigrate {
		m, err := store.NewMigrator(a.DB, migrations.FS)
		if err != nil {
			return nil, err
		}
		applied, err := m.Up(ctx)
		if err != nil {
			return nil, err
		}
		if len(applied) > 0 {
			a.Log.Info("database migrated", "dialect", a.DB.Dialect, "applied", applied)
		}
	}

	// Events: the bus, the outbox domain services write to, and the relay
	// that moves outbox rows onto the bus.
	a.Outbox = events.NewOutbox(a.DB)
	var bus events.Bus // stays nil offline: an interface holding a nil *NATSBus would not be
	if !opts.Offline {
		a.Bus, err = events.OpenNATS(ctx, events.NATSOptions{URL: cfg.NATSURL, DataDir: cfg.DataDir, Logger: a.Log, Name: "kassa", Replicas: cfg.NATSReplicas})
		if err != nil {
			return nil, err
		}
		bus = a.Bus
		a.onClose("event bus", func(context.Context) error { return a.Bus.Close() })
		a.Relay, err = events.NewRelay(a.Outbox, a.Bus, events.RelayOptions{Logger: a.Log, Registerer: a.Metrics})
		if err != nil {
			return nil, err
		}
	}

	// Services. Permissions first: every service checks with them.
	a.Accounts, err = NewAccounts(ctx, a.DB, AccountsOptions{Bus: bus, Outbox: a.Outbox, Logger: a.Log})
	if err != nil {
		return nil, err
	}
	a.onClose("accounts", func(context.Context) error { a.Accounts.Close(); return nil })
	a.Authz = a.Accounts.Enforcer
	// Plugins close before the database: their last health writes go there.
	a.Plugins, err = NewPlugins(ctx, cfg, a.DB, a.Authz, a.Log)
	if err != nil {
		return nil, err
	}
	a.onClose("plugins", a.Plugins.Close)
	box, err := secret.Load(cfg.SecretKey, cfg.DataDir, a.Log)
	if err != nil {
		return nil, err
	}
	a.Deliveries, err = delivery.New(a.DB, delivery.Options{Box: box, Authz: a.Authz, Logger: a.Log})
	if err != nil {
		return nil, err
	}
	if cfg.PluginAutoInstall {
		ids, err := InstallNewPlugins(ctx, a.Plugins, cfg.Plugins(), a.Log)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			a.Log.Info("plugins installed from the plugin directory", "plugins", ids)
		}
	}
	a.Catalog, err = catalog.NewService(a.DB, catalog.Options{Authz: a.Authz, Outbox: a.Outbox})
	if err != nil {
		return nil, err
	}
	a.Settings, err = NewSettings(a.DB, SettingsOptions{Authz: a.Authz, Outbox: a.Outbox, DefaultCurrency: a.Catalog.DefaultCurrency()})
	if err != nil {
		return nil, err
	}
	a.Orders, err = NewOrders(a.DB, OrdersOptions{Authz: a.Authz, Outbox: a.Outbox, Settings: a.Settings, Accounts: a.Accounts.Service})
	if err != nil {
		return nil, err
	}
	a.Checkout, err = NewCheckout(a.DB, CheckoutOptions{Authz: a.Authz, Settings: a.Settings, Orders: a.Orders, Accounts: a.Accounts.Service,
		GuestCartLifetime: cfg.GuestCartLifetime, BuyerCartLifetime: cfg.BuyerCartLifetime})
	if err != nil {
		return nil, err
	}
	a.Payments, err = NewPayments(a.DB, PaymentsOptions{Authz: a.Authz, Outbox: a.Outbox, Orders: a.Orders, Plugins: a.Plugins,
		Settings: a.Settings, Keys: a.Checkout.Keys, PublicURL: cfg.BaseURL(), Logger: a.Log,
		ReconcileInterval: a.Config.PaymentReconcileInterval, RecheckAfter: a.Config.PaymentRecheckAfter,
		Observer: newPaymentMetrics(a.Metrics)}) // payment_metrics.go
	if err != nil {
		return nil, err
	}
	a.Invoices, err = NewInvoices(a.DB, InvoicesOptions{Authz: a.Authz, Outbox: a.Outbox, Orders: a.Orders, Payments: a.Payments,
		Plugins: a.Plugins, StoreName: cfg.StoreName, Logger: a.Log}) // invoice_wiring.go
	if err != nil {
		return nil, err
	}

	// API.
	if a.Live, err = live.NewHub(live.Options{Registerer: a.Metrics}); err != nil {
		return nil, err
	}
	// A change committed here reaches this instance's subscriptions at
	// once; other instances hear of it from the bus (consumers.Start).
	for _, subject := range live.Subjects {
		if err := a.Outbox.OnCommit(subject, a.Live.HandleCommitted); err != nil {
			return nil, err
		}
	}
	// Likewise an account change that may end a live connection's access
	// (consumers.Start listens on the bus for other instances'), and any
	// load of the permission policy, wherever it was changed.
	a.LiveAccess = live.NewAccess()
	for _, subject := range live.AccessSubjects {
		if err := a.Outbox.OnCommit(subject, a.LiveAccess.HandleCommitted); err != nil {
			return nil, err
		}
	}
	a.Accounts.Enforcer.OnReload(a.LiveAccess.PolicyChanged)
	a.GraphQL, err = graphql.New(resolver.Services{Catalog: a.Catalog, Accounts: a.Accounts.Service, Access: a.Accounts.Enforcer, Plugins: a.Plugins, Deliveries: a.Deliveries,
		Shop: a.Settings.Shop, Shipping: a.Settings.Shipping, Tax: a.Settings.Tax,
		Carts: a.Checkout.Carts, RunInTx: a.DB.RunInTx,
		Orders: a.Orders, Payments: a.Payments, Live: a.Live}, graphql.Options{
		Version:    Version,
		Production: cfg.Production(),
		Logger:     a.Log,
		Registerer: a.Metrics,
		PerRequest: func(ctx context.Context) context.Context {
			ctx = resolver.AttachInvoices(ctx, a.Invoices) // Order.invoices, graphql/resolver/invoice.go
			return loader.AttachNew(ctx, loader.Services{Catalog: a.Catalog, Customers: a.Accounts.Service})
		},
		// Each domain declares the reads it shares and the events that
		// make them stale (resolver.Cache).
		Cache: &graphql.CacheOptions{PublicFields: resolver.Cache().Fields, TTL: 30 * time.Second},
		// Subscriptions: connection_init credentials are resolved like
		// the HTTP headers; pages of the shop's public URL may connect.
		// Their credentials are checked again while they are open, at
		// once after the notices of LiveAccess.
		Live: graphql.LiveOptions{Authenticator: a.Accounts.Service, AllowedOrigins: []string{cfg.BaseURL()}, Access: a.LiveAccess},
		// Operations beyond the database pool's size wait in line rather
		// than for a connection, which database/sql hands to a random
		// waiter (graphql/admission.go).
		Admission: graphql.AdmissionOptions{Slots: graphqlSlots(cfg.GraphQLConcurrency)},
	})
	if err != nil {
		return nil, err
	}
	// Cached public answers were computed under the old policy: what the
	// guests' role no longer may read must not be served from them.
	a.Accounts.Enforcer.OnReload(a.GraphQL.InvalidateCache)
	// Open WebSockets and event streams end (clients connect again,
	// elsewhere) before the services they read.
	a.onClose("live subscriptions", func(context.Context) error { a.GraphQL.CloseLive(); a.Live.Close(); return nil })
	// The storefront's form tokens are keyed from the master key
	// (KASSA_SECRET_KEY, else the key file secret.Load made sure of),
	// derived for that purpose only; neither key is ever logged.
	master := []byte(cfg.SecretKey)
	if len(master) == 0 {
		if master, err = os.ReadFile(filepath.Join(cfg.DataDir, secret.KeyFileName)); err != nil {
			return nil, fmt.Errorf("storefront form key: %w", err)
		}
	}
	if a.storefrontForms, err = httpauth.NewFormTokenCSRF(storefront.FormKey(master), 0); err != nil {
		return nil, err
	}
	forms := a.storefrontForms
	if a.Storefront, err = storefront.New(storefront.Options{GraphQL: a.GraphQL, ThemeDir: cfg.ThemeDir, Logger: a.Log, BaseURL: cfg.BaseURL(), StoreName: cfg.StoreName,
		FormKey: storefront.FormKey(master), SessionFormToken: func(ctx context.Context) string { return forms.Token(httpauth.SessionFrom(ctx)) },
		TrustProxy: cfg.TrustProxy}); err != nil {
		return nil, err
	}
	if !opts.Offline {
		if err := a.buildWorkers(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// buildWorkers builds the background work that Start starts: the outbox
// relay, the plugin supervisor and the event consumers, in that order.
// The group stops them in reverse, and its teardown is registered last
// so that Close runs it first: the consumers stop before the services
// their handlers use (they may add events), then the supervisor, then
// the relay, which flushes what is pending before the bus closes.
func (a *App) buildWorkers() (err error) {
	a.workers, err = worker.NewGroup(worker.GroupOptions{Logger: a.Log, Registerer: a.Metrics})
	if err != nil {
		return err
	}
	// Whatever cannot be flushed in time stays in the outbox for the next
	// start; the relay's loop itself is always waited for.
	relay := worker.NewLoop("outbox.relay", a.Relay.Run, func(ctx context.Context) error {
		fctx, cancel := context.WithTimeout(ctx, a.Config.ShutdownTimeout)
		defer cancel()
		if err := a.Relay.Flush(fctx); err != nil {
			return fmt.Errorf("flush outbox: %w", err)
		}
		return nil
	})
	// Applies catalog changes made elsewhere (another instance, the CLI)
	// to running plugins and health-checks them.
	supervisor, err := worker.NewPeriodic("plugin.supervisor", a.Plugins.Check, worker.PeriodicOptions{Interval: a.Plugins.HealthInterval(), Immediate: true})
	if err != nil {
		return err
	}
	// Deletes the idempotency keys past their 24 hours.
	expiry, err := a.Checkout.expiryWorker()
	if err != nil {
		return err
	}
	// Deletes expired carts with their lines.
	purge, err := a.Checkout.purgeWorker(a.Log)
	if err != nil {
		return err
	}
	// Deletes old delivered rows and dead letters of the journal.
	cleanup, err := worker.NewPeriodic("delivery.cleanup", a.Deliveries.Cleanup, worker.PeriodicOptions{Interval: time.Hour, Jitter: 5 * time.Minute})
	if err != nil {
		return err
	}
	if err := a.workers.Add(relay, supervisor, &consumers{a: a}, expiry, purge, cleanup); err != nil {
		return err
	}
	// Reminds buyers of unpaid orders and cancels those past their
	// payment deadline; instances share the work through row claims.
	if err := a.addOrderSchedulers(); err != nil {
		return err
	}
	// Asks the gateways about payments and refunds whose outcome is open.
	reconciler, err := a.Payments.Workers()
	if err != nil {
		return err
	}
	if err := a.workers.Add(reconciler...); err != nil {
		return err
	}
	a.onClose("workers", a.workers.Stop)
	return nil
}

// Start starts the instance's background work: the outbox relay, the
// plugin supervisor and the event consumers, in that order; a failed start
// stops again what had started. Close stops them, consumers first. An
// offline instance cannot start; nor can an instance start twice.
func (a *App) Start(ctx context.Context) error {
	if a.workers == nil {
		return errors.New("app: an offline instance cannot start: it has no event bus")
	}
	return a.workers.Start(ctx)
}

// Handler returns the HTTP handler of the instance.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	secureCookies := strings.HasPrefix(a.Config.BaseURL(), "https://")
	mux.Handle("/graphql", a.Accounts.Middleware(a.Log, secureCookies, a.Config.TrustProxy, httpauth.HeaderCSRF{}, httpauth.JSON{})(a.GraphQL))
	mux.Handle("GET /graphql/assets/", a.GraphQL.AssetsHandler())
	// Subscriptions as server-sent events, for clients without WebSocket.
	mux.Handle(graphql.StreamPath, a.Accounts.Middleware(a.Log, secureCookies, a.Config.TrustProxy, httpauth.HeaderCSRF{}, httpauth.JSON{})(a.GraphQL.StreamHandler()))
	// Orders as CSV for the shop's bookkeeping (order read), streamed.
	mux.Handle("GET "+ExportOrdersPath, a.Accounts.Middleware(a.Log, secureCookies, a.Config.TrustProxy, httpauth.HeaderCSRF{}, httpauth.JSON{})(exportOrders(a.Orders, exportPayments(a.Payments), a.Log)))
	// Invoices and credit notes, for their buyer and staff (invoice_route.go).
	mux.Handle(InvoicePattern, a.Accounts.Middleware(a.Log, secureCookies, a.Config.TrustProxy, httpauth.HeaderCSRF{}, httpauth.JSON{})(downloadInvoice(a.Invoices, a.Log)))
	// The staff's web admin: static files; its API calls go to /graphql.
	mux.Handle("GET "+admin.Prefix, admin.Handler())
	// Pages plugins serve through Kassa (a plugin has no listener).
	mux.Handle("/plugins/", a.Plugins.HTTPHandler())
	// Payment gateways' notifications, authenticated by their signature.
	webhookRoutes(mux, a.Payments, a.Log) // webhook_route.go
	// The storefront's pages: HTML answers; its forms carry csrf_token.
	for _, p := range a.Storefront.Patterns() {
		mux.Handle(p, a.Accounts.Middleware(a.Log, secureCookies, a.Config.TrustProxy, a.storefrontForms, httpauth.HTML{})(a.Storefront))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", a.serveReady)
	mux.Handle("GET /metrics", a.Accounts.Middleware(a.Log, secureCookies, a.Config.TrustProxy, httpauth.HeaderCSRF{}, httpauth.JSON{})(metricsHandler(a.Metrics, a.Authz, a.Log)))
	notFound := a.Accounts.Middleware(a.Log, secureCookies, a.Config.TrustProxy, a.storefrontForms, httpauth.HTML{})(a.Storefront.NotFound())
	// Security headers outermost, so the answers of recovered panics
	// carry them too.
	return securityHeaders(instrument(pageNotFound(mux, notFound), a.Log, newHTTPMetrics(a.Metrics)), secureCookies)
}

// pageNotFound serves mux, and page for a GET or HEAD that no route of mux
// takes with any method: a buyer following an old link gets the shop's
// page, not net/http's bare text. A path a route takes with another
// method is still mux's 405 with its Allow header. Only GETs pay the extra
// route lookups; the API's POSTs go straight to mux.
func pageNotFound(mux *http.ServeMux, page http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if _, pattern := mux.Handler(r); pattern == "" {
				probe := r.Clone(r.Context())
				probe.Method = http.MethodPost
				if _, other := mux.Handler(probe); other == "" {
					page.ServeHTTP(w, r)
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// serveReady answers 200 when the instance can take traffic: started, not
// shutting down, database reachable.
func (a *App) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !a.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.DB.PingContext(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	if a.Bus == nil {
		http.Error(w, "no event bus (offline instance)", http.StatusServiceUnavailable)
		return
	}
	if len(a.workers.Running()) == 0 {
		http.Error(w, "background work not started", http.StatusServiceUnavailable)
		return
	}
	if err := a.Bus.Ready(ctx); err != nil {
		http.Error(w, "event bus unreachable", http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// Serve listens on the configured address and serves until ctx is done,
// then drains requests in flight and stops.
func (a *App) Serve(ctx context.Context) error {
	ln, err := listen(a.Config.HTTPAddr, "--http-addr HOST:PORT or KASSA_HTTP_ADDR")
	if err != nil {
		return err
	}
	return a.ServeListener(ctx, ln)
}

// listen binds the shop's HTTP address. Its error says how to choose
// another address: setting names the flag (and variable) that sets it for
// the command at hand.
func listen(addr, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("cannot listen on %s: %w: another program (another kassa serve?) is listening there; stop it, or serve on a free address with %s",
			addr, syscall.EADDRINUSE, setting)
	default:
		return nil, fmt.Errorf("cannot listen on %s: %w; choose another address with %s", addr, err, setting)
	}
}

// ServeListener is Serve on an existing listener (tests use port 0).
func (a *App) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Shutdown waits for no hijacked WebSocket and would wait for every
	// endless event stream: end them first.
	srv.RegisterOnShutdown(a.GraphQL.CloseLive)
	errc := make(chan error, 1)
	// Ready before the first request is accepted: the listener is bound,
	// so a caller told the address may already have connected.
	a.ready.Store(true)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("kassa serving", "addr", ln.Addr().String(), "version", Version, "env", a.Config.Env, "database", a.DB.Dialect)

	select {
	case err := <-errc:
		a.ready.Store(false)
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	a.ready.Store(false)
	a.Log.Info("shutting down", "timeout", a.Config.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("drain http requests: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// consumers is the worker of the instance's event consumers: the
// notification dispatcher's durable consumers and the cache invalidation
// listeners. It starts after the relay and the plugin supervisor and
// stops before them: its handlers use the services and may add events.
type consumers struct {
	a    *App
	subs []events.Subscription
}

var _ worker.Worker = (*consumers)(nil)

// Name implements worker.Worker.
func (c *consumers) Name() string { return "event.consumers" }

// Start subscribes every consumer; when one fails, those already
// subscribed are stopped again.
func (c *consumers) Start(ctx context.Context) (err error) {
	a := c.a
	defer func() {
		if err != nil {
			_ = c.Stop(ctx)
		}
	}()
	// Buyers are emailed about their orders (placed, shipped, cancelled,
	// payment reminders, ...).
	dopts := []notify.DispatcherOption{notify.WithOrders(orderEmails{orders: a.Orders}),
		notify.WithPayments(PaymentEmails(a.Orders, a.Payments, a.Accounts.Service, a.Authz, a.Config.BaseURL()))} // notify_payments.go
	// Account emails leave through the enabled notification channels.
	// Durable, so each event is handled once across instances and retried
	// while no channel can take it.
	if !a.Config.Production() {
		dopts = append(dopts, notify.WithDevelopmentLog())
	}
	dispatcher := notify.NewDispatcher(a.Plugins, notify.Store{Name: a.Config.StoreName, URL: a.Config.BaseURL()}, a.Log, dopts...)
	consumerCtx := authz.WithSubject(context.WithoutCancel(ctx), authz.SystemSubject("notify"))
	for i, filters := range dispatcher.Subjects() {
		sub, err := subscribeFilters(consumerCtx, a.Bus, fmt.Sprintf("notify-accounts-%d", i), filters,
			a.Deliveries.Wrap(fmt.Sprintf("notify-accounts-%d", i), dispatcher.Handle, events.DefaultMaxDeliver, delivery.OnlyWanted(dispatcher.Wants)))
		if err != nil {
			return fmt.Errorf("subscribe notifications to %v: %w", filters, err)
		}
		c.subs = append(c.subs, sub)
	}
	// Order emails start at the newest event, like merchant events: an
	// instance upgraded to send them does not email buyers about last
	// week's orders.
	for i, filters := range dispatcher.OrderSubjects() {
		sub, err := subscribeFilters(consumerCtx, a.Bus, fmt.Sprintf("notify-orders-%d", i), filters,
			a.Deliveries.Wrap(fmt.Sprintf("notify-orders-%d", i), dispatcher.HandleOrder, events.DefaultMaxDeliver, delivery.OnlyWanted(dispatcher.WantsOrder)), events.WithDeliverNew())
		if err != nil {
			return fmt.Errorf("subscribe order emails to %v: %w", filters, err)
		}
		c.subs = append(c.subs, sub)
	}
	// Payment emails: declines, instructions, refunds; paid orders to staff.
	if err := c.subscribePayments(consumerCtx, dispatcher); err != nil { // notify_payments.go
		return err
	}
	// Invoices and credit notes through the invoice rule plugins.
	if err := c.subscribeInvoices(ctx); err != nil { // invoice_wiring.go
		return err
	}
	// An order's other open payments closed once one took its money.
	if err := c.subscribeSuperseded(ctx); err != nil { // payment.go
		return err
	}
	// Shop events go to the merchant's own systems (notify.webhook).
	// A new consumer starts at the newest event: a merchant who enables
	// webhooks gets what happens from then on, not the last week again.
	for i, filters := range dispatcher.MerchantSubjects() {
		durable := "notify-merchant" // the first keeps the name existing streams know
		if i > 0 {
			durable = fmt.Sprintf("notify-merchant-%d", i)
		}
		sub, err := subscribeFilters(consumerCtx, a.Bus, durable, filters,
			a.Deliveries.Wrap(durable, dispatcher.Forward, events.DefaultMaxDeliver, delivery.OnlyWanted(dispatcher.WantsForward)), events.WithDeliverNew())
		if err != nil {
			return fmt.Errorf("subscribe merchant events to %v: %w", filters, err)
		}
		c.subs = append(c.subs, sub)
	}
	// Every instance drops its cached public answers when what they show
	// changes anywhere (the subjects each domain declares): a plain
	// (non-durable) subscription per instance.
	for _, subject := range resolver.Cache().Subjects {
		sub, err := a.Bus.Listen(ctx, subject, func(context.Context, events.Event) error {
			a.GraphQL.InvalidateCache()
			return nil
		})
		if err != nil {
			return fmt.Errorf("listen to %s: %w", subject, err)
		}
		c.subs = append(c.subs, sub)
	}
	// The catalog's checkout answers kept in memory (catalog.CheckoutReader)
	// are dropped by a catalog change or stock move on any instance, not
	// only this one's; their time to live is the backstop.
	for _, subject := range catalog.CacheSubjects() {
		sub, err := a.Bus.Listen(ctx, subject, a.Catalog.ForgetCheckoutAnswers)
		if err != nil {
			return fmt.Errorf("listen to %s: %w", subject, err)
		}
		c.subs = append(c.subs, sub)
	}
	sub, err := a.listenSettings(ctx)
	if err != nil {
		return err
	}
	c.subs = append(c.subs, sub)
	// Every instance hears every order and payment event and tells the
	// subscriptions open on it: one NATS subscription per subject however
	// many there are.
	for _, subject := range live.Subjects {
		if sub, err = a.Bus.Listen(ctx, subject, a.Live.HandleOrderEvent); err != nil {
			return fmt.Errorf("listen to %s: %w", subject, err)
		}
		c.subs = append(c.subs, sub)
	}
	// And every account change that may end a live connection's access,
	// wherever it was made: the connections open here check again.
	for _, subject := range live.AccessSubjects {
		if sub, err = a.Bus.Listen(ctx, subject, a.LiveAccess.HandleEvent); err != nil {
			return fmt.Errorf("listen to %s: %w", subject, err)
		}
		c.subs = append(c.subs, sub)
	}
	return nil
}

// subscribeFilters subscribes the durable consumer durable to the events
// matching any of filters (a group of the dispatcher's subjects): one
// delivery per event whichever filter it matches.
func subscribeFilters(ctx context.Context, bus events.Bus, durable string, filters []string, h events.Handler, opts ...events.SubscribeOption) (events.Subscription, error) {
	if len(filters) == 0 {
		return nil, fmt.Errorf("consumer %s has no filter", durable)
	}
	return bus.Subscribe(ctx, durable, filters[0], h, append(opts, events.WithFilters(filters[1:]...))...)
}

// Stop ends every subscription, waiting for running handlers. A
// subscription that fails to stop is logged and does not keep the others.
func (c *consumers) Stop(context.Context) error {
	for _, s := range c.subs {
		if err := s.Stop(); err != nil {
			c.a.Log.Warn("stop subscriber", "err", err)
		}
	}
	c.subs = nil
	return nil
}

// Close stops every component in reverse order of start.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		c := a.closers[i]
		if err := c.fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", c.name, err))
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}
