// Package app is Kassa's composition root: it builds every component in
// one order (config -> database -> events -> plugins -> services -> HTTP)
// and tears them down in reverse. cmd/kassa only calls Main.
//
//	a, err := app.New(ctx, cfg, app.Options{})
//	if err != nil { ... }
//	defer a.Close(context.Background())
//	err = a.Serve(ctx) // until ctx is cancelled (SIGTERM), then drains
package app
