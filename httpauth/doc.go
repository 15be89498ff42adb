// Package httpauth authenticates Kassa's HTTP requests and guards them
// against cross-site request forgery, for every transport alike: the
// GraphQL API, the server-rendered storefront and the gateways' webhooks.
//
// Authenticate puts the caller into the request context (a session from a
// bearer token or the session cookie, an API key, or the anonymous
// subject; see core/authz) and then asks the mount's CSRF strategy:
//
//   - HeaderCSRF, for the API: a cookie-authenticated unsafe request must
//     carry the X-Kassa-CSRF header, which browsers never send cross-site
//     without a preflight;
//   - FormTokenCSRF, for HTML forms: the form field csrf_token must hold an
//     HMAC of the session id under a server secret (no storage);
//   - NoCSRF, for requests that authenticate themselves by a signature.
//
// A refused request is answered by the mount's Responder: JSON (the
// GraphQL error envelope), HTML (a plain error page) or a Redirect to the
// sign-in page with a validated local return path.
//
//	api := httpauth.Authenticate(accounts, httpauth.Options{
//		CSRF: httpauth.HeaderCSRF{}, Responder: httpauth.JSON{},
//	})
//	mux.Handle("/graphql", api(graphqlServer))
//
//	forms, err := httpauth.NewFormTokenCSRF(secret, 0)
//	signIn, err := httpauth.NewRedirect("/account/sign-in", httpauth.HTML{})
//	pages := httpauth.Authenticate(accounts, httpauth.Options{CSRF: forms, Responder: signIn})
//	// in a page handler:
//	token := forms.Token(httpauth.SessionFrom(r.Context()))
//	// <input type="hidden" name="csrf_token" value="{{.Token}}">
package httpauth
