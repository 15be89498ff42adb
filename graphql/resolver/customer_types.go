package resolver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/graphql/loader"
)

// conn resolves a Relay connection of already converted nodes.
type conn[R any] struct {
	nodes []R
	p     *pageInfo
	cur   []page.Cursor
}

func newConn[T, R any](p page.Page[T], convert func(T) R) *conn[R] {
	c := &conn[R]{p: newPageInfo(p), cur: p.Cursors, nodes: make([]R, len(p.Items))}
	for i, it := range p.Items {
		c.nodes[i] = convert(it)
	}
	return c
}

func (c *conn[R]) Edges() []*edge[R] {
	out := make([]*edge[R], len(c.nodes))
	for i := range c.nodes {
		out[i] = &edge[R]{cursor: c.cur[i].Encode(), node: c.nodes[i]}
	}
	return out
}
func (c *conn[R]) Nodes() []R          { return c.nodes }
func (c *conn[R]) PageInfo() *pageInfo { return c.p }

// edge resolves the edges of conn.
type edge[R any] struct {
	cursor string
	node   R
}

func (e *edge[R]) Cursor() string { return e.cursor }
func (e *edge[R]) Node() R        { return e.node }

// customerResolver resolves Customer. Its address book, tags and groups
// come from l, the loaders it shares with the other buyers of its page.
type customerResolver struct {
	c   *account.Customer
	svc *account.Service
	l   *loader.Loaders
}

// newCustomer resolves a buyer shown alone (Query.me, a mutation's
// payload) with loaders of its own: mutations of one document run one
// after another, and a payload must not show what an earlier payload
// cached before this mutation changed it.
func newCustomer(svc *account.Service, c *account.Customer) *customerResolver {
	if c == nil {
		return nil
	}
	return &customerResolver{c: c, svc: svc, l: customerLoaders(svc)}
}

// customerLoaders returns a fresh set of loaders over the accounts.
func customerLoaders(svc *account.Service) *loader.Loaders {
	return loader.New(loader.Services{Customers: svc})
}

// newCustomerConn resolves a page of buyers sharing l, and announces them
// to it: the address books, tags and groups of the whole page are one
// query each.
func newCustomerConn(svc *account.Service, l *loader.Loaders, p page.Page[*account.Customer]) *conn[*customerResolver] {
	ids := make([]string, len(p.Items))
	for i, c := range p.Items {
		ids[i] = c.ID
	}
	l.WantCustomers(ids...)
	return newConn(p, func(c *account.Customer) *customerResolver { return &customerResolver{c: c, svc: svc, l: l} })
}

func (r *customerResolver) ID() gql.ID             { return gql.ID(r.c.ID) }
func (r *customerResolver) Email() string          { return r.c.Email }
func (r *customerResolver) EmailVerified() bool    { return r.c.EmailVerifiedAt != nil }
func (r *customerResolver) FirstName() string      { return r.c.FirstName }
func (r *customerResolver) LastName() string       { return r.c.LastName }
func (r *customerResolver) Phone() string          { return r.c.Phone }
func (r *customerResolver) Kind() string           { return strings.ToUpper(string(r.c.Kind)) }
func (r *customerResolver) CompanyName() string    { return r.c.CompanyName }
func (r *customerResolver) TaxID() string          { return r.c.TaxID }
func (r *customerResolver) AcceptsMarketing() bool { return r.c.AcceptsMarketing }
func (r *customerResolver) CreatedAt() catalogTime { return catalogTime{r.c.CreatedAt} }
func (r *customerResolver) UpdatedAt() catalogTime { return catalogTime{r.c.UpdatedAt} }

func (r *customerResolver) ErasedAt() *catalogTime {
	if r.c.ErasedAt == nil {
		return nil
	}
	return &catalogTime{*r.c.ErasedAt}
}

func (r *customerResolver) Addresses(ctx context.Context) ([]*addressResolver, error) {
	as, err := r.l.Addresses.Get(ctx, r.c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*addressResolver, len(as))
	for i, a := range as {
		out[i] = &addressResolver{a}
	}
	return out, nil
}

// defaultAddress finds the default address id in the buyer's address book
// (loaded once for the page) instead of loading it on its own.
func (r *customerResolver) defaultAddress(ctx context.Context, id *string) (*addressResolver, error) {
	if id == nil {
		return nil, nil
	}
	as, err := r.l.Addresses.Get(ctx, r.c.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a.ID == *id {
			return &addressResolver{a}, nil
		}
	}
	return nil, nil
}

func (r *customerResolver) DefaultShippingAddress(ctx context.Context) (*addressResolver, error) {
	return r.defaultAddress(ctx, r.c.DefaultShippingAddressID)
}

func (r *customerResolver) DefaultBillingAddress(ctx context.Context) (*addressResolver, error) {
	return r.defaultAddress(ctx, r.c.DefaultBillingAddressID)
}

// Note, Tags and Groups are staff-only fields: the service checks
// customer:read and buyers get FORBIDDEN for them.
func (r *customerResolver) Note(ctx context.Context) (*string, error) {
	if err := r.svc.CanReadCustomers(ctx); err != nil {
		return nil, err
	}
	return &r.c.Note, nil
}

func (r *customerResolver) Tags(ctx context.Context) (*[]string, error) {
	tags, err := r.l.CustomerTags.Get(ctx, r.c.ID)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []string{}
	}
	return &tags, nil
}

func (r *customerResolver) Groups(ctx context.Context) (*[]*groupResolver, error) {
	gs, err := r.l.CustomerGroups.Get(ctx, r.c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*groupResolver, len(gs))
	for i, g := range gs {
		out[i] = &groupResolver{g: g, svc: r.svc, l: r.l}
		r.l.WantGroups(g.ID)
	}
	return &out, nil
}

// addressResolver resolves CustomerAddress.
type addressResolver struct{ a *account.Address }

func newAddress(a *account.Address) *addressResolver {
	if a == nil {
		return nil
	}
	return &addressResolver{a}
}

func (r *addressResolver) ID() gql.ID          { return gql.ID(r.a.ID) }
func (r *addressResolver) FirstName() string   { return r.a.FirstName }
func (r *addressResolver) LastName() string    { return r.a.LastName }
func (r *addressResolver) Company() string     { return r.a.Company }
func (r *addressResolver) Line1() string       { return r.a.Line1 }
func (r *addressResolver) Line2() string       { return r.a.Line2 }
func (r *addressResolver) City() string        { return r.a.City }
func (r *addressResolver) Province() string    { return r.a.Province }
func (r *addressResolver) PostalCode() string  { return r.a.PostalCode }
func (r *addressResolver) CountryCode() string { return r.a.CountryCode }
func (r *addressResolver) Phone() string       { return r.a.Phone }

// groupResolver resolves CustomerGroup.
type groupResolver struct {
	g   *account.Group
	svc *account.Service
	// l batches customerCount over a list of groups; nil counts one by
	// one.
	l *loader.Loaders
}

func newGroup(svc *account.Service, g *account.Group) *groupResolver {
	if g == nil {
		return nil
	}
	return &groupResolver{g: g, svc: svc}
}

func (r *groupResolver) ID() gql.ID             { return gql.ID(r.g.ID) }
func (r *groupResolver) Name() string           { return r.g.Name }
func (r *groupResolver) Description() string    { return r.g.Description }
func (r *groupResolver) CreatedAt() catalogTime { return catalogTime{r.g.CreatedAt} }

func (r *groupResolver) CustomerCount(ctx context.Context) (int32, error) {
	if r.l != nil && r.l.GroupSizes != nil {
		n, err := r.l.GroupSizes.Get(ctx, r.g.ID)
		return int32(n), err
	}
	n, err := r.svc.GroupSize(ctx, r.g.ID)
	return int32(n), err
}

// sessionInfo resolves SessionInfo.
type sessionInfo struct {
	s         *account.NewSession
	showToken bool
}

func (r *sessionInfo) Token() *string {
	if !r.showToken {
		return nil
	}
	return &r.s.Token
}
func (r *sessionInfo) ExpiresAt() catalogTime { return catalogTime{r.s.Session.ExpiresAt} }

// ---- payloads ----

type requestPayload struct{ userErrors []*userError }

func (p *requestPayload) UserErrors() []*userError { return p.userErrors }

type customerPayload struct {
	customer   *customerResolver
	userErrors []*userError
}

func (p *customerPayload) Customer() *customerResolver { return p.customer }
func (p *customerPayload) UserErrors() []*userError    { return p.userErrors }

type customerLoginPayload struct {
	customer   *customerResolver
	session    *sessionInfo
	userErrors []*userError
}

func (p *customerLoginPayload) Customer() *customerResolver { return p.customer }
func (p *customerLoginPayload) Session() *sessionInfo       { return p.session }
func (p *customerLoginPayload) UserErrors() []*userError    { return p.userErrors }

type logoutPayload struct{ loggedOut bool }

func (p *logoutPayload) LoggedOut() bool { return p.loggedOut }

type addressPayload struct {
	address    *addressResolver
	customer   *customerResolver
	userErrors []*userError
}

func (p *addressPayload) Address() *addressResolver   { return p.address }
func (p *addressPayload) Customer() *customerResolver { return p.customer }
func (p *addressPayload) UserErrors() []*userError    { return p.userErrors }

type addressDeletePayload struct {
	deleted    *gql.ID
	customer   *customerResolver
	userErrors []*userError
}

func (p *addressDeletePayload) DeletedAddressID() *gql.ID   { return p.deleted }
func (p *addressDeletePayload) Customer() *customerResolver { return p.customer }
func (p *addressDeletePayload) UserErrors() []*userError    { return p.userErrors }

type exportPayload struct {
	data       *JSON
	userErrors []*userError
}

func (p *exportPayload) Data() *JSON              { return p.data }
func (p *exportPayload) UserErrors() []*userError { return p.userErrors }

func exportJSON(e *account.DataExport) (*JSON, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode data export: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decode data export: %w", err)
	}
	return &JSON{Value: v}, nil
}

type groupPayload struct {
	group      *groupResolver
	userErrors []*userError
}

func (p *groupPayload) Group() *groupResolver    { return p.group }
func (p *groupPayload) UserErrors() []*userError { return p.userErrors }

type groupDeletePayload struct {
	deleted    *gql.ID
	userErrors []*userError
}

func (p *groupDeletePayload) DeletedGroupID() *gql.ID  { return p.deleted }
func (p *groupDeletePayload) UserErrors() []*userError { return p.userErrors }
