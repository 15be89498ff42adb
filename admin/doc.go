// Package admin serves the staff's web admin: a single-page application
// (React, built by Vite into dist/, committed) that talks only to the
// public GraphQL API at /graphql. The built files are embedded in the
// binary; the build tag no_ui leaves them out and serves a short page
// saying so.
//
// Mount it under /admin/:
//
//	mux.Handle("GET /admin/", admin.Handler())
//
// Hashed assets (dist/assets/) are cached for a year as immutable; every
// other path answers index.html, uncached, so the application's router
// decides what the path shows. Every answer carries a strict
// Content-Security-Policy: scripts and styles from the shop's own origin
// only, nothing inline.
//
// Rebuild dist/ with `make admin` after changing src/;
// admin/check-dist.sh proves the committed dist/ is what src/ builds.
package admin
