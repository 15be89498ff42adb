package resolver

import (
	"context"
	"errors"
	"strings"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
)

// staffOperations lists the staff and API key operations with the
// permission each needs (account.Service enforces them).
var staffOperations = map[string]Permission{
	"Query.viewer":           public,
	"Query.staffMembers":     {authz.Staff, authz.Read},
	"Query.staffMember":      {authz.Staff, authz.Own(authz.Read)},
	"Query.staffInvitations": {authz.Staff, authz.Read},
	"Query.apiKeys":          {authz.APIKey, authz.Read},

	"Mutation.staffLogin":                public,
	"Mutation.staffSetupOwner":           public,
	"Mutation.staffInvite":               {authz.Staff, authz.Write},
	"Mutation.staffInvitationRevoke":     {authz.Staff, authz.Write},
	"Mutation.staffAcceptInvitation":     public,
	"Mutation.staffUpdate":               {authz.Staff, authz.Own(authz.Write)},
	"Mutation.staffDisable":              {authz.Staff, authz.Write},
	"Mutation.staffEnable":               {authz.Staff, authz.Write},
	"Mutation.staffChangePassword":       {authz.Staff, authz.Own(authz.Write)},
	"Mutation.staffRequestPasswordReset": public,
	"Mutation.staffResetPassword":        public,
	"Mutation.apiKeyCreate":              {authz.APIKey, authz.Write},
	"Mutation.apiKeyRevoke":              {authz.APIKey, authz.Write},
}

// staffRoot resolves the staff's queries and mutations.
type staffRoot struct {
	svc    *account.Service
	access *authz.Enforcer
}

func isNotFound(err error) bool { return errors.Is(err, errs.ErrNotFound) }

// staffResolver resolves StaffMember.
type staffResolver struct{ m *account.StaffMember }

func newStaff(m *account.StaffMember) *staffResolver {
	if m == nil {
		return nil
	}
	return &staffResolver{m}
}

func (r *staffResolver) ID() gql.ID             { return gql.ID(r.m.ID) }
func (r *staffResolver) Email() string          { return r.m.Email }
func (r *staffResolver) Name() string           { return r.m.Name }
func (r *staffResolver) Status() string         { return strings.ToUpper(string(r.m.Status)) }
func (r *staffResolver) CreatedAt() catalogTime { return catalogTime{r.m.CreatedAt} }

func (r *staffResolver) Roles() []string {
	if r.m.Roles == nil {
		return []string{}
	}
	return r.m.Roles
}

func (r *staffResolver) LastLoginAt() *catalogTime {
	if r.m.LastLoginAt == nil {
		return nil
	}
	return &catalogTime{*r.m.LastLoginAt}
}

// invitationResolver resolves StaffInvitation.
type invitationResolver struct{ inv *account.Invitation }

func (r *invitationResolver) ID() gql.ID             { return gql.ID(r.inv.ID) }
func (r *invitationResolver) Email() string          { return r.inv.Email }
func (r *invitationResolver) Name() string           { return r.inv.Name }
func (r *invitationResolver) Roles() []string        { return r.inv.Roles() }
func (r *invitationResolver) ExpiresAt() catalogTime { return catalogTime{r.inv.ExpiresAt} }
func (r *invitationResolver) CreatedAt() catalogTime { return catalogTime{r.inv.CreatedAt} }

// apiKeyResolver resolves ApiKey.
type apiKeyResolver struct{ k *account.APIKey }

func (r *apiKeyResolver) ID() gql.ID             { return gql.ID(r.k.ID) }
func (r *apiKeyResolver) Name() string           { return r.k.Name }
func (r *apiKeyResolver) Hint() string           { return r.k.Hint }
func (r *apiKeyResolver) Role() string           { return r.k.Role }
func (r *apiKeyResolver) CreatedAt() catalogTime { return catalogTime{r.k.CreatedAt} }

// CreatedBy is nil for keys that answer to no staff member and when the
// caller may not read that member (the service leaves Creator nil).
func (r *apiKeyResolver) CreatedBy() *staffResolver { return newStaff(r.k.Creator) }

func (r *apiKeyResolver) LastUsedAt() *catalogTime {
	if r.k.LastUsedAt == nil {
		return nil
	}
	return &catalogTime{*r.k.LastUsedAt}
}

func (r *apiKeyResolver) RevokedAt() *catalogTime {
	if r.k.RevokedAt == nil {
		return nil
	}
	return &catalogTime{*r.k.RevokedAt}
}

// viewerResolver resolves Viewer.
type viewerResolver struct {
	s    authz.Subject
	root *staffRoot
}

func (r *viewerResolver) Kind() string { return viewerKind(r.s.Kind) }

// viewerKind is the ViewerKind of a subject's kind: Viewer.kind and
// TimelineEntry.actorKind.
func viewerKind(k authz.SubjectKind) string {
	if k == authz.KindAPIKey {
		return "API_KEY"
	}
	return strings.ToUpper(string(k))
}

func (r *viewerResolver) ID() *gql.ID {
	if r.s.ID == "" {
		return nil
	}
	id := gql.ID(r.s.ID)
	return &id
}

func (r *viewerResolver) Roles() []string {
	if r.s.Roles == nil {
		return []string{}
	}
	return r.s.Roles
}

func (r *viewerResolver) Permissions() []string {
	var ps []authz.Permission
	if r.s.Kind == authz.KindSystem {
		ps = authz.AllPermissions()
	} else if r.root.access != nil {
		ps = r.root.access.EffectivePermissions(r.s.Roles, r.s.Store)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func (r *viewerResolver) Customer(ctx context.Context) (*customerResolver, error) {
	c, err := r.root.svc.Me(ctx)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return newCustomer(r.root.svc, c), nil
}

func (r *viewerResolver) StaffMember(ctx context.Context) (*staffResolver, error) {
	if r.s.Kind != authz.KindStaff {
		return nil, nil
	}
	m, err := r.root.svc.StaffMember(ctx, r.s.ID)
	if err != nil {
		return nil, err
	}
	return newStaff(m), nil
}

// ---- payloads ----

type staffLoginPayload struct {
	staff      *staffResolver
	session    *sessionInfo
	userErrors []*userError
}

func (p *staffLoginPayload) StaffMember() *staffResolver { return p.staff }
func (p *staffLoginPayload) Session() *sessionInfo       { return p.session }
func (p *staffLoginPayload) UserErrors() []*userError    { return p.userErrors }

type staffPayload struct {
	staff      *staffResolver
	userErrors []*userError
}

func (p *staffPayload) StaffMember() *staffResolver { return p.staff }
func (p *staffPayload) UserErrors() []*userError    { return p.userErrors }

type invitePayload struct {
	inv        *invitationResolver
	userErrors []*userError
}

func (p *invitePayload) Invitation() *invitationResolver { return p.inv }
func (p *invitePayload) UserErrors() []*userError        { return p.userErrors }

type apiKeyCreatePayload struct {
	key        *apiKeyResolver
	secret     *string
	userErrors []*userError
}

func (p *apiKeyCreatePayload) APIKey() *apiKeyResolver  { return p.key }
func (p *apiKeyCreatePayload) Secret() *string          { return p.secret }
func (p *apiKeyCreatePayload) UserErrors() []*userError { return p.userErrors }

type apiKeyPayload struct {
	key        *apiKeyResolver
	userErrors []*userError
}

func (p *apiKeyPayload) APIKey() *apiKeyResolver  { return p.key }
func (p *apiKeyPayload) UserErrors() []*userError { return p.userErrors }

// ---- queries ----

// Viewer resolves Query.viewer.
func (r *staffRoot) Viewer(ctx context.Context) *viewerResolver {
	return &viewerResolver{s: authz.SubjectFrom(ctx), root: r}
}

// StaffMembers resolves Query.staffMembers.
func (r *staffRoot) StaffMembers(ctx context.Context, args struct {
	First *int32
	After *string
}) (*conn[*staffResolver], error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.StaffMembers(ctx, req)
	if err != nil {
		return nil, err
	}
	return newConn(p, newStaff), nil
}

// StaffMember resolves Query.staffMember.
func (r *staffRoot) StaffMember(ctx context.Context, args struct{ ID gql.ID }) (*staffResolver, error) {
	m, err := r.svc.StaffMember(ctx, string(args.ID))
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return newStaff(m), nil
}

// StaffInvitations resolves Query.staffInvitations.
func (r *staffRoot) StaffInvitations(ctx context.Context) ([]*invitationResolver, error) {
	invs, err := r.svc.Invitations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*invitationResolver, len(invs))
	for i, inv := range invs {
		out[i] = &invitationResolver{inv}
	}
	return out, nil
}

// APIKeys resolves Query.apiKeys.
func (r *staffRoot) APIKeys(ctx context.Context, args struct {
	First *int32
	After *string
}) (*conn[*apiKeyResolver], error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.APIKeys(ctx, req)
	if err != nil {
		return nil, err
	}
	return newConn(p, func(k *account.APIKey) *apiKeyResolver { return &apiKeyResolver{k} }), nil
}

// ---- mutations ----

func staffLogin(ctx context.Context, m *account.StaffMember, sess *account.NewSession, err error, returnToken bool) (*staffLoginPayload, error) {
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &staffLoginPayload{userErrors: ue}, err
	}
	setSession(ctx, sess)
	return &staffLoginPayload{staff: newStaff(m), session: &sessionInfo{s: sess, showToken: returnToken}}, nil
}

// StaffLogin resolves Mutation.staffLogin.
func (r *staffRoot) StaffLogin(ctx context.Context, args struct{ Input loginInput }) (*staffLoginPayload, error) {
	m, sess, err := r.svc.StaffLogin(ctx, args.Input.Email, args.Input.Password)
	return staffLogin(ctx, m, sess, err, isTrue(args.Input.ReturnToken))
}

// StaffSetupOwner resolves Mutation.staffSetupOwner.
func (r *staffRoot) StaffSetupOwner(ctx context.Context, args struct {
	Input struct {
		Token       string
		Email       string
		Name        *string
		Password    string
		ReturnToken *bool
	}
}) (*staffLoginPayload, error) {
	in := args.Input
	m, sess, err := r.svc.SetupOwner(ctx, in.Token, account.NewStaff{Email: in.Email, Name: str(in.Name), Password: in.Password})
	return staffLogin(ctx, m, sess, err, isTrue(in.ReturnToken))
}

// StaffInvite resolves Mutation.staffInvite.
func (r *staffRoot) StaffInvite(ctx context.Context, args struct {
	Input struct {
		Email string
		Name  *string
		Roles []string
	}
}) (*invitePayload, error) {
	inv, err := r.svc.Invite(ctx, args.Input.Email, str(args.Input.Name), args.Input.Roles)
	return invitationPayload(inv, err)
}

func invitationPayload(inv *account.Invitation, err error) (*invitePayload, error) {
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &invitePayload{userErrors: ue}, err
	}
	return &invitePayload{inv: &invitationResolver{inv}}, nil
}

// StaffInvitationRevoke resolves Mutation.staffInvitationRevoke.
func (r *staffRoot) StaffInvitationRevoke(ctx context.Context, args struct{ Input struct{ ID gql.ID } }) (*invitePayload, error) {
	inv, err := r.svc.RevokeInvitation(ctx, string(args.Input.ID))
	return invitationPayload(inv, err)
}

// StaffAcceptInvitation resolves Mutation.staffAcceptInvitation.
func (r *staffRoot) StaffAcceptInvitation(ctx context.Context, args struct {
	Input struct {
		Token       string
		Name        *string
		Password    string
		ReturnToken *bool
	}
}) (*staffLoginPayload, error) {
	in := args.Input
	m, sess, err := r.svc.AcceptInvitation(ctx, in.Token, str(in.Name), in.Password)
	return staffLogin(ctx, m, sess, err, isTrue(in.ReturnToken))
}

func staffMemberPayload(m *account.StaffMember, err error) (*staffPayload, error) {
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &staffPayload{userErrors: ue}, err
	}
	return &staffPayload{staff: newStaff(m)}, nil
}

// StaffUpdate resolves Mutation.staffUpdate.
func (r *staffRoot) StaffUpdate(ctx context.Context, args struct {
	Input struct {
		ID    gql.ID
		Name  *string
		Roles *[]string
	}
}) (*staffPayload, error) {
	m, err := r.svc.UpdateStaff(ctx, string(args.Input.ID), account.StaffUpdate{Name: args.Input.Name, Roles: args.Input.Roles})
	return staffMemberPayload(m, err)
}

type staffDisablePayload struct {
	staff      *staffResolver
	revoked    []*apiKeyResolver
	userErrors []*userError
}

func (p *staffDisablePayload) StaffMember() *staffResolver       { return p.staff }
func (p *staffDisablePayload) RevokedAPIKeys() []*apiKeyResolver { return p.revoked }
func (p *staffDisablePayload) UserErrors() []*userError          { return p.userErrors }

// StaffDisable resolves Mutation.staffDisable.
func (r *staffRoot) StaffDisable(ctx context.Context, args struct{ Input struct{ ID gql.ID } }) (*staffDisablePayload, error) {
	m, keys, err := r.svc.DisableStaff(ctx, string(args.Input.ID))
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &staffDisablePayload{revoked: []*apiKeyResolver{}, userErrors: ue}, err
	}
	revoked := make([]*apiKeyResolver, len(keys))
	for i, k := range keys {
		revoked[i] = &apiKeyResolver{k}
	}
	return &staffDisablePayload{staff: newStaff(m), revoked: revoked}, nil
}

// StaffEnable resolves Mutation.staffEnable.
func (r *staffRoot) StaffEnable(ctx context.Context, args struct{ Input struct{ ID gql.ID } }) (*staffPayload, error) {
	m, err := r.svc.EnableStaff(ctx, string(args.Input.ID))
	return staffMemberPayload(m, err)
}

// StaffChangePassword resolves Mutation.staffChangePassword.
func (r *staffRoot) StaffChangePassword(ctx context.Context, args struct{ Input changePasswordInput }) (*requestPayload, error) {
	ue, err := userErrors(r.svc.ChangeStaffPassword(ctx, args.Input.CurrentPassword, args.Input.NewPassword))
	return &requestPayload{userErrors: ue}, err
}

// APIKeyCreate resolves Mutation.apiKeyCreate.
func (r *staffRoot) APIKeyCreate(ctx context.Context, args struct {
	Input struct {
		Name string
		Role string
	}
}) (*apiKeyCreatePayload, error) {
	k, secret, err := r.svc.CreateAPIKey(ctx, args.Input.Name, args.Input.Role)
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &apiKeyCreatePayload{userErrors: ue}, err
	}
	return &apiKeyCreatePayload{key: &apiKeyResolver{k}, secret: &secret}, nil
}

// APIKeyRevoke resolves Mutation.apiKeyRevoke.
func (r *staffRoot) APIKeyRevoke(ctx context.Context, args struct{ Input struct{ ID gql.ID } }) (*apiKeyPayload, error) {
	k, err := r.svc.RevokeAPIKey(ctx, string(args.Input.ID))
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &apiKeyPayload{userErrors: ue}, err
	}
	return &apiKeyPayload{key: &apiKeyResolver{k}}, nil
}

// StaffRequestPasswordReset resolves Mutation.staffRequestPasswordReset.
func (r *staffRoot) StaffRequestPasswordReset(ctx context.Context, args struct{ Input struct{ Email string } }) (*requestPayload, error) {
	ue, err := userErrors(r.svc.RequestStaffPasswordReset(ctx, args.Input.Email))
	return &requestPayload{userErrors: ue}, err
}

// StaffResetPassword resolves Mutation.staffResetPassword.
func (r *staffRoot) StaffResetPassword(ctx context.Context, args struct {
	Input struct {
		Token    string
		Password string
	}
}) (*requestPayload, error) {
	ue, err := userErrors(r.svc.ResetStaffPassword(ctx, args.Input.Token, args.Input.Password))
	return &requestPayload{userErrors: ue}, err
}
