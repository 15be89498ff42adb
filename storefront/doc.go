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
// Pages:
//
//	GET /                              home: featured collections, products
//	GET /collections/{handle}          a collection, paged and sorted
//	GET /search?q=                     product search, paged and sorted
//	GET /products/{handle}             a product with its variant picker
//	GET /cart, POST /cart/{add,update,remove}
//	GET /checkout, POST /checkout, POST /checkout/complete
//	                                   one-page checkout, usable without JavaScript
//	GET /orders/{id}/status[?token=]   the order's payment status, live
//	GET /sitemap.xml, GET /robots.txt
//	GET /static/...                    the theme's static files
//
// Each part registers its routes with Handler.handle in New, keeps its
// templates in templates/ (partials shared by every page are _NAME.html)
// and its messages in i18n/<area>.<lang>.json. Forms carry a csrf_token.
//
// The status page is where a buyer lands back from a payment gateway (the
// returnUrl of paymentCreate): it shows what Kassa knows of the payment
// and, with JavaScript, follows Subscription.orderUpdated over
// server-sent events until the payment settles, without a reload.
package storefront
