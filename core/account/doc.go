// Package account holds the accounts of a shop: buyers (customers) with
// their address books, groups and tags; staff members, their invitations
// and the first owner; sessions; API keys.
//
//	svc, err := account.NewService(db, account.Options{Authz: enforcer, Outbox: outbox})
//	_, sess, err := svc.Login(ctx, "ana@example.com", password)
//	// sess.Token goes to the client (cookie or bearer); Kassa stores its SHA-256.
//	sub, err := svc.Authenticate(ctx, sess.Token) // the HTTP layer, per request
//
// Every method asks the permission system first, with the subject in ctx
// (see core/authz): a buyer reaches their own profile, addresses and data
// through the ":own" permissions, staff reach everyone's with the plain
// ones. Sign-in, sign-out and the methods that redeem a token are open to
// everyone, since the credential they carry is the check. The batch
// getters (AddressesByCustomerIDs, TagsByCustomerIDs, GroupsByCustomerIDs)
// answer any number of buyers with one query, for the GraphQL
// dataloaders, under the rules of the single getters: one id the caller
// may not reach fails the whole call.
//
// Secrets: passwords are hashed with argon2id (OWASP parameters, the whole
// password, however long), the most common passwords are refused
// (common_passwords.txt, Openwall's public-domain list), decorated or not
// (EasyToGuess). Session tokens,
// API keys and the single-use tokens mailed to people (email
// verification, password reset, staff invitation, owner setup) are 256
// random bits, stored as SHA-256 only. The mailed tokens leave in the
// payload of kassa.customer.verification_requested,
// kassa.customer.password_reset_requested and kassa.staff.invited for the
// notification consumer, whose development log (never in production)
// shows the links no channel delivered; a TokenSink (tests) receives them
// as well. No other log line ever holds a secret.
//
// Guessing is slowed per account and per client address with exponential
// back-off stored in the database (ThrottlePolicy); sign-in, registration
// and password reset answer the same for known and unknown addresses, and
// an unknown address costs the same argon2id work as a wrong password.
package account
