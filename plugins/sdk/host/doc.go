// Package host starts plugin processes and hands out clients that implement
// the SDK's interfaces over gRPC. It is what Kassa's core/plugin and the
// conformance kit (sdk/plugintest) use; plugin authors do not need it.
//
//	p, err := host.Start(ctx, host.Config{
//		Path:     "/var/lib/kassa/plugins/testpay",
//		SHA256:   pinnedSHA256, // from the catalog; a replaced binary is refused
//		PluginID: "payment.testpay",
//		DataDir:  "/var/lib/kassa/plugin-data/payment.testpay",
//		Logger:   logger, // plugin log lines arrive here tagged plugin=<id>
//	})
//	if err != nil { ... }
//	defer p.Kill()
//	info, err := p.Describe(ctx)
//	res, err := p.Plugin().Configure(ctx, settingsJSON) // res.Errors are data
//	gw, err := p.Gateway()                              // a payment.Gateway
//	out, err := gw.CreatePayment(ctx, req)
//
// Errors of client calls unwrap to sdk.ErrUnimplemented (optional method not
// implemented), sdk.ErrUnavailable (the process died or is unreachable; the
// outcome of a mutating call is unknown) or context.DeadlineExceeded. A call
// without a deadline gets Config.CallTimeout.
//
// go-plugin has no restarts: supervise with [Plugin.Done] / [Plugin.Exited]
// and start a new Plugin after a crash.
package host
