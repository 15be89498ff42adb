package authz

import "context"

// AllowAll is an Authorizer that permits everything. It exists for unit
// tests of services that are not about permissions; the application always
// wires the Casbin enforcer.
type AllowAll struct{}

// Can always allows.
func (AllowAll) Can(context.Context, Object, Action) error { return nil }
