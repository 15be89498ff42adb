// Package authz decides who may do what. Every core service asks it before
// acting, with the subject that travels in the context, so GraphQL, the
// storefront, the CLI and event consumers all get the same answer.
//
//	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
//		return nil, err // *errs.Error: FORBIDDEN or UNAUTHENTICATED
//	}
//
// Records that belong to a buyer use the ownership rule, written once here
// for every domain: staff holding the permission reach every record, a
// buyer holding the ":own" variant reaches their own.
//
//	if err := authz.CanOwn(ctx, s.authz, authz.Order, authz.Read, order.CustomerID); err != nil {
//		return nil, err
//	}
//
// The Enforcer is Casbin (RBAC with domains, one domain per store; the
// model is model.conf) over the casbin_rule table through this package's
// bun Adapter. The default roles and their permissions (DefaultPolicy,
// shown for people in docs/permissions.md) are seeded at start-up; the
// owner changes them through GraphQL, and a Watcher on the event bus makes
// every running instance reload at once. Background work runs as
// SystemSubject, which is always allowed.
package authz
