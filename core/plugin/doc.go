// Package plugin is Kassa's plugin host: the catalog of installed plugin
// executables (pinned by sha256, Vault's plugin catalog is the model), their
// settings (validated against each plugin's JSON Schema, secrets encrypted
// with core/secret), the supervisor that runs their processes, and the
// adapters that make plugin processes satisfy the domain ports
// payment.Gateway, invoice.Rule and notify.Channel, so domain code never
// sees gRPC or the SDK.
//
// Lifecycle of a plugin process, like Caddy's modules: strict settings
// decode and schema validation -> start (checksum checked, AutoMTLS) ->
// Describe -> Configure -> Health -> active -> stopped on reload or
// shutdown. A half-started process is killed. Processes start on first use;
// a crashed one is restarted with exponential backoff while callers get
// PLUGIN_UNAVAILABLE, and every call has a deadline.
//
//	svc, err := plugin.NewService(db, plugin.Options{
//		Dir: cfg.Plugins(), DataDir: cfg.DataDir, BaseURL: cfg.BaseURL(),
//		Secrets: box, Authz: enforcer, Logger: log,
//	})
//	err = svc.Check(ctx) // one supervisor round; the app runs it as a worker
//	defer svc.Close(ctx)
//
//	res, err := svc.Install(ctx, "./bin/plugins/testpay", plugin.InstallOptions{Replace: true})
//	gw, err := svc.Gateway(ctx, "payment.testpay")
//	out, err := gw.CreatePayment(ctx, payment.CreateRequest{...})
//	if errors.Is(err, payment.ErrOutcomeUnknown) { /* keep the attempt UNKNOWN, reconcile */ }
//
// Catalog and settings operations check the "plugin" permission (read or
// write) of the subject in ctx; the lookups for domains (Gateway,
// Gateways, Rules, Channels) do not, since the calling service checked its
// own permission.
package plugin
