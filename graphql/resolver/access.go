package resolver

import (
	"context"
	"strconv"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
)

// accessOperations lists the role administration operations with the
// permission each needs (authz.Enforcer enforces them), and the root
// fields of schema.graphql, which are open to everyone.
var accessOperations = map[string]Permission{
	"Query.serverVersion":     public,
	"Mutation.ping":           public,
	"Query.roles":             {authz.Role, authz.Read},
	"Query.role":              {authz.Role, authz.Read},
	"Query.permissionCatalog": {authz.Role, authz.Read},
	"Mutation.roleCreate":     {authz.Role, authz.Write},
	"Mutation.roleUpdate":     {authz.Role, authz.Write},
	"Mutation.roleDelete":     {authz.Role, authz.Write},
}

// accessRoot resolves the role administration.
type accessRoot struct{ e *authz.Enforcer }

// roleResolver resolves Role.
type roleResolver struct{ r authz.RoleInfo }

func (r *roleResolver) Name() string        { return r.r.Name }
func (r *roleResolver) Description() string { return r.r.Description }
func (r *roleResolver) BuiltIn() bool       { return r.r.Builtin }

func (r *roleResolver) Permissions() []string {
	out := make([]string, len(r.r.Permissions))
	for i, p := range r.r.Permissions {
		out[i] = p.String()
	}
	return out
}

// permissionObject resolves PermissionObject.
type permissionObject struct{ o authz.Object }

func (p *permissionObject) Object() string { return string(p.o) }

func (p *permissionObject) Actions() []string {
	acts := authz.Actions(p.o)
	out := make([]string, len(acts))
	for i, a := range acts {
		out[i] = string(a)
	}
	return out
}

type rolePayload struct {
	role       *roleResolver
	userErrors []*userError
}

func (p *rolePayload) Role() *roleResolver      { return p.role }
func (p *rolePayload) UserErrors() []*userError { return p.userErrors }

type roleDeletePayload struct {
	deleted    *string
	userErrors []*userError
}

func (p *roleDeletePayload) DeletedRoleName() *string { return p.deleted }
func (p *roleDeletePayload) UserErrors() []*userError { return p.userErrors }

// Roles resolves Query.roles.
func (r *accessRoot) Roles(ctx context.Context) ([]*roleResolver, error) {
	rs, err := r.e.Roles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*roleResolver, len(rs))
	for i := range rs {
		out[i] = &roleResolver{rs[i]}
	}
	return out, nil
}

// Role resolves Query.role.
func (r *accessRoot) Role(ctx context.Context, args struct{ Name string }) (*roleResolver, error) {
	info, err := r.e.Role(ctx, args.Name)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return &roleResolver{info}, nil
}

// PermissionCatalog resolves Query.permissionCatalog.
func (r *accessRoot) PermissionCatalog(ctx context.Context) ([]*permissionObject, error) {
	if err := r.e.Can(ctx, authz.Role, authz.Read); err != nil {
		return nil, err
	}
	objs := authz.Objects()
	out := make([]*permissionObject, len(objs))
	for i, o := range objs {
		out[i] = &permissionObject{o}
	}
	return out, nil
}

// parsePermissions reads object:action strings, reporting bad ones under
// input.permissions.N.
func parsePermissions(in []string) ([]authz.Permission, error) {
	var v errs.Validator
	out := make([]authz.Permission, 0, len(in))
	for i, s := range in {
		p, err := authz.ParsePermission(s)
		if err != nil {
			v.Add(errs.Invalid("permissions."+strconv.Itoa(i), "UNKNOWN_PERMISSION", err.Error()))
			continue
		}
		out = append(out, p)
	}
	return out, v.Err()
}

func (r *accessRoot) rolePayload(info authz.RoleInfo, err error) (*rolePayload, error) {
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &rolePayload{userErrors: ue}, err
	}
	return &rolePayload{role: &roleResolver{info}}, nil
}

// RoleCreate resolves Mutation.roleCreate.
func (r *accessRoot) RoleCreate(ctx context.Context, args struct {
	Input struct {
		Name        string
		Description *string
		Permissions []string
	}
}) (*rolePayload, error) {
	if err := r.e.Can(ctx, authz.Role, authz.Write); err != nil {
		return nil, err
	}
	ps, err := parsePermissions(args.Input.Permissions)
	if err != nil {
		return r.rolePayload(authz.RoleInfo{}, err)
	}
	return r.rolePayload(r.e.CreateRole(ctx, authz.RoleInput{Name: args.Input.Name, Description: str(args.Input.Description), Permissions: ps}))
}

// RoleUpdate resolves Mutation.roleUpdate.
func (r *accessRoot) RoleUpdate(ctx context.Context, args struct {
	Input struct {
		Name        string
		Description *string
		Permissions *[]string
	}
}) (*rolePayload, error) {
	if err := r.e.Can(ctx, authz.Role, authz.Write); err != nil {
		return nil, err
	}
	up := authz.RoleUpdate{Description: args.Input.Description}
	if args.Input.Permissions != nil {
		ps, err := parsePermissions(*args.Input.Permissions)
		if err != nil {
			return r.rolePayload(authz.RoleInfo{}, err)
		}
		up.Permissions = &ps
	}
	return r.rolePayload(r.e.UpdateRole(ctx, args.Input.Name, up))
}

// RoleDelete resolves Mutation.roleDelete.
func (r *accessRoot) RoleDelete(ctx context.Context, args struct{ Input struct{ Name string } }) (*roleDeletePayload, error) {
	ue, err := userErrors(r.e.DeleteRole(ctx, args.Input.Name))
	if err != nil || ue != nil {
		return &roleDeletePayload{userErrors: ue}, err
	}
	name := args.Input.Name
	return &roleDeletePayload{deleted: &name}, nil
}
