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
//	GET /subdivisions/{country}[?lang=]
//	                                   a country's states or provinces, JSON, for the
//	                                   address forms' suggestions (address.go)
//	GET /orders/{id}/status[?token=]   the order's payment status, live
//	POST /orders/{id}/pay              pay the rest of a partly paid order
//	GET /products/{handle}/image.svg   a product's image
//	GET /sitemap.xml, GET /robots.txt
//	GET /static/...                    the theme's static files
//
// Account pages (account.go, account_book.go), forms without JavaScript,
// answered no-store and noindex; a guest is sent to sign in and back:
//
//	GET /account                       the buyer's overview
//	GET|POST /account/register         sign up (a verification email follows)
//	GET|POST /account/login[?return=]  sign in; the guest's cart joins the buyer's
//	POST /account/logout               sign out
//	GET|POST /account/forgot-password  ask for a reset link by email
//	GET|POST /account/reset-password   set a new password with the mailed token
//	GET|POST /account/verify-email     confirm the email with the mailed token
//	GET /account/addresses, GET|POST /account/addresses/new,
//	GET|POST /account/addresses/{id}, POST /account/addresses/{id}/{delete,default}
//	                                   the address book
//	GET /account/orders, GET /account/orders/{id}
//	                                   order history: lines, payments, refunds, invoices
//	POST /account/orders/{id}/cancel   cancel an unpaid order
//
// The session cookie (kassa_session) holds the token customerLogin
// returned: HttpOnly, SameSite=Lax, and Secure when the public URL is
// https, the request came over TLS, or a trusted proxy (Options.TrustProxy)
// says the buyer reached it over https. Another buyer's ids answer 404.
//
// Each part registers its routes with Handler.handle in New, keeps its
// templates in templates/ (partials shared by every page are _NAME.html)
// and its messages in i18n/<area>.<lang>.json. Forms carry a csrf_token.
//
// The address forms (checkout, address book) suggest the chosen
// country's states or provinces in the province field, a <datalist>
// drawn with the page; static/province.js follows the country select.
// The field stays free text (address.go).
//
// The checkout's payment step offers availablePaymentMethods, named in
// the buyer's language: a method the shop routes (card) is paid with
// paymentCreate(method:), so the owner's routes pick the gateway and
// fail over to the next when one provably received nothing; a gateway no
// route names is paid with paymentCreate(gatewayId:).
//
// The status page is where a buyer lands back from a payment gateway (the
// returnUrl of paymentCreate): it shows what Kassa knows of the payment
// and, with JavaScript, follows Subscription.orderUpdated over
// server-sent events until the payment settles, without a reload. For a
// PARTIALLY_PAID order it shows what was paid and what is left
// (amountOutstanding) and offers the payment methods to pay the rest,
// which paymentCreate asks instead of the total.
package storefront
