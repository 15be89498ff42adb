// Package app is Kassa's composition root: New builds every component in
// one order (config -> database -> events -> plugins -> services -> HTTP)
// and starts nothing; Start starts the background work as workers
// (core/worker: outbox relay, plugin supervisor, event consumers); Close
// tears everything down in reverse, the workers first. Commands that run
// beside a serving instance build an offline App and never start it.
// cmd/kassa only calls Main.
//
//	a, err := app.New(ctx, cfg, app.Options{})
//	if err != nil { ... }
//	defer a.Close(context.Background())
//	err = a.Start(ctx)
//	err = a.Serve(ctx) // until ctx is cancelled (SIGTERM), then drains
package app
