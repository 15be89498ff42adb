// Package storefront is the shop a buyer sees: server-rendered pages
// (html/template) whose data comes only from the GraphQL schema, executed
// in-process with the buyer's subject (DESIGN.md: storefront -> graphql),
// and a little progressive JavaScript where a page follows something live.
//
// Templates, static files and message catalogs are embedded; a theme
// directory (Options.ThemeDir) overrides any of them file by file, so a
// shop owner restyles the shop without rebuilding Kassa. Messages are in
// English and Simplified Chinese; the language comes from ?lang=, then
// the kassa_lang cookie, then Accept-Language.
//
// Pages so far:
//
//	GET /orders/{id}/status[?token=]   the order's payment status, live
//	GET /static/...                    the theme's static files
//
// The status page is where a buyer lands back from a payment gateway (the
// returnUrl of paymentCreate): it shows what Kassa knows of the payment
// and, with JavaScript, follows Subscription.orderUpdated over
// server-sent events until the payment settles, without a reload.
package storefront
