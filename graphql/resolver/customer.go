package resolver

import (
	"context"
	"strings"
	"time"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/graphql/loader"
)

// public marks an operation open to everyone: signing in and redeeming a
// token, where the credential itself is the check, and questions about the
// caller.
var public = Permission{}

// customerOperations lists the buyer operations with the permission each
// needs (account.Service enforces them). An action ending in ":own" means
// "the plain action on anyone's record, or this one on one's own". The
// fields Customer.note, Customer.tags and Customer.groups need customer
// read.
var customerOperations = map[string]Permission{
	"Query.me":             public,
	"Query.customer":       {authz.Customer, authz.Own(authz.Read)},
	"Query.customers":      {authz.Customer, authz.Read},
	"Query.customerGroups": {authz.Customer, authz.Read},
	"Query.customerGroup":  {authz.Customer, authz.Read},

	"Mutation.customerRegister":                 {authz.Customer, authz.Register},
	"Mutation.customerVerifyEmail":              public,
	"Mutation.customerRequestEmailVerification": public,
	"Mutation.customerLogin":                    public,
	"Mutation.customerRequestPasswordReset":     public,
	"Mutation.customerResetPassword":            public,
	"Mutation.logout":                           public,
	"Mutation.customerUpdate":                   {authz.Customer, authz.Own(authz.Write)},
	"Mutation.customerChangePassword":           {authz.Customer, authz.Own(authz.Write)},
	"Mutation.customerAddressCreate":            {authz.Customer, authz.Own(authz.Write)},
	"Mutation.customerAddressUpdate":            {authz.Customer, authz.Own(authz.Write)},
	"Mutation.customerAddressDelete":            {authz.Customer, authz.Own(authz.Write)},
	"Mutation.customerDataExport":               {authz.Customer, authz.Own(authz.Read)},
	"Mutation.customerErase":                    {authz.Customer, authz.Own(authz.Erase)},
	"Mutation.customerTagsAdd":                  {authz.Customer, authz.Write},
	"Mutation.customerTagsRemove":               {authz.Customer, authz.Write},
	"Mutation.customerGroupCreate":              {authz.Customer, authz.Write},
	"Mutation.customerGroupUpdate":              {authz.Customer, authz.Write},
	"Mutation.customerGroupDelete":              {authz.Customer, authz.Write},
	"Mutation.customerGroupAddCustomers":        {authz.Customer, authz.Write},
	"Mutation.customerGroupRemoveCustomers":     {authz.Customer, authz.Write},
}

// customerRoot resolves the buyers' queries and mutations.
type customerRoot struct {
	svc *account.Service
	// carts take a guest cart into the buyer's at sign-in.
	carts *cart.Service
}

// loaders returns the request's loaders for a query's page of buyers.
// Without customer loaders in ctx (a server built without
// Options.PerRequest, or with loaders over the catalog only) it makes a
// set for this top-level field, so the page is still batched.
func (r *customerRoot) loaders(ctx context.Context) *loader.Loaders {
	if l := loader.From(ctx); l != nil && l.Addresses != nil {
		return l
	}
	return customerLoaders(r.svc)
}

// SessionTransport carries a session token to the client and back: the
// HTTP middleware (graphql.Authenticate) puts one in the context of each
// request, and the sign-in and sign-out resolvers set or clear the
// session cookie through it. In-process callers have none.
type SessionTransport interface {
	// SetSession hands a new session token to the client.
	SetSession(token string, expires time.Time)
	// ClearSession removes the client's session token.
	ClearSession()
}

type transportKey struct{}

// WithSessionTransport returns ctx carrying t.
func WithSessionTransport(ctx context.Context, t SessionTransport) context.Context {
	return context.WithValue(ctx, transportKey{}, t)
}

// SessionTransportFrom returns the transport in ctx, if any.
func SessionTransportFrom(ctx context.Context) (SessionTransport, bool) {
	t, ok := ctx.Value(transportKey{}).(SessionTransport)
	return t, ok
}

func setSession(ctx context.Context, s *account.NewSession) {
	if t, ok := SessionTransportFrom(ctx); ok {
		t.SetSession(s.Token, s.Session.ExpiresAt)
	}
}

func clearSession(ctx context.Context) {
	if t, ok := SessionTransportFrom(ctx); ok {
		t.ClearSession()
	}
}

func idStr(id *gql.ID) string {
	if id == nil {
		return ""
	}
	return string(*id)
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// isTrue reads a Boolean argument or input field that is false when not
// given. The schema gives such fields no default, and Go a *bool, so that
// an explicit null or a variable the request left out means false, as
// clients expect: graph-gophers refuses a null for a field with a default
// ("got null for non-null").
func isTrue(b *bool) bool { return b != nil && *b }

func kindOf(s *string) account.Kind { return account.Kind(strings.ToLower(str(s))) }

// Me resolves Query.me: null for callers who are not a signed-in buyer.
func (r *customerRoot) Me(ctx context.Context) (*customerResolver, error) {
	c, err := r.svc.Me(ctx)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return newCustomer(r.svc, c), nil
}

// Customer resolves Query.customer.
func (r *customerRoot) Customer(ctx context.Context, args struct{ ID gql.ID }) (*customerResolver, error) {
	c, err := r.svc.Get(ctx, string(args.ID))
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return newCustomer(r.svc, c), nil
}

// Customers resolves Query.customers.
func (r *customerRoot) Customers(ctx context.Context, args struct {
	First   *int32
	After   *string
	Query   *string
	Tag     *string
	GroupID *gql.ID
}) (*conn[*customerResolver], error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.List(ctx, account.CustomerFilter{Query: str(args.Query), Tag: str(args.Tag), GroupID: idStr(args.GroupID)}, req)
	if err != nil {
		return nil, err
	}
	return newCustomerConn(r.svc, r.loaders(ctx), p), nil
}

// CustomerGroups resolves Query.customerGroups.
func (r *customerRoot) CustomerGroups(ctx context.Context, args struct {
	First *int32
	After *string
}) (*conn[*groupResolver], error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.Groups(ctx, req)
	if err != nil {
		return nil, err
	}
	l := loader.From(ctx)
	return newConn(p, func(g *account.Group) *groupResolver {
		l.WantGroups(g.ID)
		gr := newGroup(r.svc, g)
		gr.l = l
		return gr
	}), nil
}

// CustomerGroup resolves Query.customerGroup.
func (r *customerRoot) CustomerGroup(ctx context.Context, args struct{ ID gql.ID }) (*groupResolver, error) {
	g, err := r.svc.Group(ctx, string(args.ID))
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return newGroup(r.svc, g), nil
}

// CustomerRegister resolves Mutation.customerRegister.
func (r *customerRoot) CustomerRegister(ctx context.Context, args struct {
	Input struct {
		Email            string
		Password         string
		FirstName        *string
		LastName         *string
		Kind             *string
		CompanyName      *string
		TaxID            *string
		AcceptsMarketing *bool
	}
}) (*requestPayload, error) {
	in := args.Input
	err := r.svc.Register(ctx, account.Registration{Email: in.Email, Password: in.Password, FirstName: str(in.FirstName),
		LastName: str(in.LastName), Kind: kindOf(in.Kind), CompanyName: str(in.CompanyName), TaxID: str(in.TaxID),
		AcceptsMarketing: isTrue(in.AcceptsMarketing)})
	ue, err := userErrors(err)
	return &requestPayload{userErrors: ue}, err
}

// CustomerVerifyEmail resolves Mutation.customerVerifyEmail.
func (r *customerRoot) CustomerVerifyEmail(ctx context.Context, args struct{ Input struct{ Token string } }) (*customerPayload, error) {
	c, err := r.svc.VerifyEmail(ctx, args.Input.Token)
	return r.customerPayload(c, err)
}

func (r *customerRoot) customerPayload(c *account.Customer, err error) (*customerPayload, error) {
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &customerPayload{userErrors: ue}, err
	}
	return &customerPayload{customer: newCustomer(r.svc, c)}, nil
}

// CustomerRequestEmailVerification resolves
// Mutation.customerRequestEmailVerification.
func (r *customerRoot) CustomerRequestEmailVerification(ctx context.Context, args struct{ Input struct{ Email string } }) (*requestPayload, error) {
	ue, err := userErrors(r.svc.RequestEmailVerification(ctx, args.Input.Email))
	return &requestPayload{userErrors: ue}, err
}

type loginInput struct {
	Email       string
	Password    string
	ReturnToken *bool
	// CartToken is a guest cart's token, merged into the buyer's cart at
	// sign-in (customerLogin only).
	CartToken *string
}

// CustomerLogin resolves Mutation.customerLogin.
func (r *customerRoot) CustomerLogin(ctx context.Context, args struct{ Input loginInput }) (*customerLoginPayload, error) {
	c, sess, err := r.svc.Login(ctx, args.Input.Email, args.Input.Password)
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &customerLoginPayload{userErrors: ue}, err
	}
	if err := r.mergeCart(ctx, sess, str(args.Input.CartToken)); err != nil {
		return nil, err
	}
	setSession(ctx, sess)
	return &customerLoginPayload{customer: newCustomer(r.svc, c),
		session: &sessionInfo{s: sess, showToken: isTrue(args.Input.ReturnToken)}}, nil
}

// CustomerRequestPasswordReset resolves Mutation.customerRequestPasswordReset.
func (r *customerRoot) CustomerRequestPasswordReset(ctx context.Context, args struct{ Input struct{ Email string } }) (*requestPayload, error) {
	ue, err := userErrors(r.svc.RequestPasswordReset(ctx, args.Input.Email))
	return &requestPayload{userErrors: ue}, err
}

// CustomerResetPassword resolves Mutation.customerResetPassword.
func (r *customerRoot) CustomerResetPassword(ctx context.Context, args struct {
	Input struct {
		Token    string
		Password string
	}
}) (*requestPayload, error) {
	ue, err := userErrors(r.svc.ResetPassword(ctx, args.Input.Token, args.Input.Password))
	return &requestPayload{userErrors: ue}, err
}

// Logout resolves Mutation.logout.
func (r *customerRoot) Logout(ctx context.Context) (*logoutPayload, error) {
	had := authz.SubjectFrom(ctx).Session != ""
	if err := r.svc.Logout(ctx); err != nil {
		return nil, err
	}
	clearSession(ctx)
	return &logoutPayload{loggedOut: had}, nil
}

// CustomerUpdate resolves Mutation.customerUpdate.
func (r *customerRoot) CustomerUpdate(ctx context.Context, args struct {
	Input struct {
		CustomerID       *gql.ID
		FirstName        *string
		LastName         *string
		Phone            *string
		Kind             *string
		CompanyName      *string
		TaxID            *string
		AcceptsMarketing *bool
		Note             *string
	}
}) (*customerPayload, error) {
	in := args.Input
	up := account.ProfileUpdate{FirstName: in.FirstName, LastName: in.LastName, Phone: in.Phone, CompanyName: in.CompanyName,
		TaxID: in.TaxID, AcceptsMarketing: in.AcceptsMarketing, Note: in.Note}
	if in.Kind != nil {
		k := kindOf(in.Kind)
		up.Kind = &k
	}
	c, err := r.svc.Update(ctx, idStr(in.CustomerID), up)
	return r.customerPayload(c, err)
}

type changePasswordInput struct {
	CurrentPassword string
	NewPassword     string
}

// CustomerChangePassword resolves Mutation.customerChangePassword.
func (r *customerRoot) CustomerChangePassword(ctx context.Context, args struct{ Input changePasswordInput }) (*requestPayload, error) {
	ue, err := userErrors(r.svc.ChangePassword(ctx, args.Input.CurrentPassword, args.Input.NewPassword))
	return &requestPayload{userErrors: ue}, err
}

type addressInput struct {
	FirstName   *string
	LastName    *string
	Company     *string
	Line1       string
	Line2       *string
	City        string
	Province    *string
	PostalCode  *string
	CountryCode string
	Phone       *string
}

func (in addressInput) toService() account.AddressInput {
	return account.AddressInput{FirstName: str(in.FirstName), LastName: str(in.LastName), Company: str(in.Company),
		Line1: in.Line1, Line2: str(in.Line2), City: in.City, Province: str(in.Province), PostalCode: str(in.PostalCode),
		CountryCode: in.CountryCode, Phone: str(in.Phone)}
}

func (r *customerRoot) addressPayload(a *account.Address, c *account.Customer, err error) (*addressPayload, error) {
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &addressPayload{userErrors: ue}, err
	}
	return &addressPayload{address: newAddress(a), customer: newCustomer(r.svc, c)}, nil
}

// CustomerAddressCreate resolves Mutation.customerAddressCreate.
func (r *customerRoot) CustomerAddressCreate(ctx context.Context, args struct {
	Input struct {
		CustomerID      *gql.ID
		Address         addressInput
		DefaultShipping *bool
		DefaultBilling  *bool
	}
}) (*addressPayload, error) {
	in := args.Input
	a, c, err := r.svc.CreateAddress(ctx, idStr(in.CustomerID), in.Address.toService(),
		account.Defaults{Shipping: in.DefaultShipping, Billing: in.DefaultBilling})
	return r.addressPayload(a, c, err)
}

// CustomerAddressUpdate resolves Mutation.customerAddressUpdate.
func (r *customerRoot) CustomerAddressUpdate(ctx context.Context, args struct {
	Input struct {
		ID              gql.ID
		Address         *addressInput
		DefaultShipping *bool
		DefaultBilling  *bool
	}
}) (*addressPayload, error) {
	in := args.Input
	var ai *account.AddressInput
	if in.Address != nil {
		v := in.Address.toService()
		ai = &v
	}
	a, c, err := r.svc.UpdateAddress(ctx, string(in.ID), ai, account.Defaults{Shipping: in.DefaultShipping, Billing: in.DefaultBilling})
	return r.addressPayload(a, c, err)
}

// CustomerAddressDelete resolves Mutation.customerAddressDelete.
func (r *customerRoot) CustomerAddressDelete(ctx context.Context, args struct{ Input struct{ ID gql.ID } }) (*addressDeletePayload, error) {
	c, err := r.svc.DeleteAddress(ctx, string(args.Input.ID))
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &addressDeletePayload{userErrors: ue}, err
	}
	id := args.Input.ID
	return &addressDeletePayload{deleted: &id, customer: newCustomer(r.svc, c)}, nil
}

// CustomerDataExport resolves Mutation.customerDataExport.
func (r *customerRoot) CustomerDataExport(ctx context.Context, args struct{ Input struct{ CustomerID *gql.ID } }) (*exportPayload, error) {
	e, err := r.svc.Export(ctx, idStr(args.Input.CustomerID))
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &exportPayload{userErrors: ue}, err
	}
	data, err := exportJSON(e)
	if err != nil {
		return nil, err
	}
	return &exportPayload{data: data}, nil
}

// CustomerErase resolves Mutation.customerErase.
func (r *customerRoot) CustomerErase(ctx context.Context, args struct {
	Input struct {
		CustomerID *gql.ID
		Password   *string
	}
}) (*customerPayload, error) {
	c, err := r.svc.Erase(ctx, idStr(args.Input.CustomerID), str(args.Input.Password))
	if err == nil && authz.SubjectFrom(ctx).ID == c.ID {
		clearSession(ctx)
	}
	return r.customerPayload(c, err)
}

type tagsInput struct {
	CustomerID gql.ID
	Tags       []string
}

// CustomerTagsAdd resolves Mutation.customerTagsAdd.
func (r *customerRoot) CustomerTagsAdd(ctx context.Context, args struct{ Input tagsInput }) (*customerPayload, error) {
	c, err := r.svc.AddTags(ctx, string(args.Input.CustomerID), args.Input.Tags)
	return r.customerPayload(c, err)
}

// CustomerTagsRemove resolves Mutation.customerTagsRemove.
func (r *customerRoot) CustomerTagsRemove(ctx context.Context, args struct{ Input tagsInput }) (*customerPayload, error) {
	c, err := r.svc.RemoveTags(ctx, string(args.Input.CustomerID), args.Input.Tags)
	return r.customerPayload(c, err)
}

func (r *customerRoot) groupPayload(g *account.Group, err error) (*groupPayload, error) {
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &groupPayload{userErrors: ue}, err
	}
	return &groupPayload{group: newGroup(r.svc, g)}, nil
}

// CustomerGroupCreate resolves Mutation.customerGroupCreate.
func (r *customerRoot) CustomerGroupCreate(ctx context.Context, args struct {
	Input struct {
		Name        string
		Description *string
	}
}) (*groupPayload, error) {
	g, err := r.svc.CreateGroup(ctx, account.GroupInput{Name: &args.Input.Name, Description: args.Input.Description})
	return r.groupPayload(g, err)
}

// CustomerGroupUpdate resolves Mutation.customerGroupUpdate.
func (r *customerRoot) CustomerGroupUpdate(ctx context.Context, args struct {
	Input struct {
		ID          gql.ID
		Name        *string
		Description *string
	}
}) (*groupPayload, error) {
	g, err := r.svc.UpdateGroup(ctx, string(args.Input.ID), account.GroupInput{Name: args.Input.Name, Description: args.Input.Description})
	return r.groupPayload(g, err)
}

// CustomerGroupDelete resolves Mutation.customerGroupDelete.
func (r *customerRoot) CustomerGroupDelete(ctx context.Context, args struct{ Input struct{ ID gql.ID } }) (*groupDeletePayload, error) {
	ue, err := userErrors(r.svc.DeleteGroup(ctx, string(args.Input.ID)))
	if err != nil || ue != nil {
		return &groupDeletePayload{userErrors: ue}, err
	}
	id := args.Input.ID
	return &groupDeletePayload{deleted: &id}, nil
}

type groupMembersInput struct {
	GroupID     gql.ID
	CustomerIDs []gql.ID
}

func (in groupMembersInput) ids() []string {
	out := make([]string, len(in.CustomerIDs))
	for i, id := range in.CustomerIDs {
		out[i] = string(id)
	}
	return out
}

// CustomerGroupAddCustomers resolves Mutation.customerGroupAddCustomers.
func (r *customerRoot) CustomerGroupAddCustomers(ctx context.Context, args struct{ Input groupMembersInput }) (*groupPayload, error) {
	g, err := r.svc.AddToGroup(ctx, string(args.Input.GroupID), args.Input.ids())
	return r.groupPayload(g, err)
}

// CustomerGroupRemoveCustomers resolves Mutation.customerGroupRemoveCustomers.
func (r *customerRoot) CustomerGroupRemoveCustomers(ctx context.Context, args struct{ Input groupMembersInput }) (*groupPayload, error) {
	g, err := r.svc.RemoveFromGroup(ctx, string(args.Input.GroupID), args.Input.ids())
	return r.groupPayload(g, err)
}
