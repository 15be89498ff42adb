package resolver

import (
	"context"
	"errors"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/delivery"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
)

// deliveryOperations lists the journal's operations with the permission
// each needs (delivery.Journal enforces them).
var deliveryOperations = map[string]Permission{
	"Query.eventDeliveries":        {authz.Plugin, authz.Read},
	"Mutation.eventDeliveryReplay": {authz.Plugin, authz.Write},
}

// codeReplayFailed is the userError of a replay whose consumer failed
// again.
const codeReplayFailed = "REPLAY_FAILED"

// deliveryRoot resolves the delivery journal's query and mutation.
type deliveryRoot struct {
	j  *delivery.Journal
	az authz.Authorizer
}

func (r *deliveryRoot) journal(ctx context.Context, act authz.Action) (*delivery.Journal, error) {
	if r.j == nil {
		if r.az != nil {
			if err := r.az.Can(ctx, authz.Plugin, act); err != nil {
				return nil, err
			}
		}
		return nil, errs.Unavailable("DELIVERIES_UNAVAILABLE", "this server keeps no delivery journal")
	}
	return r.j, nil
}

// EventDeliveries resolves Query.eventDeliveries.
func (r *deliveryRoot) EventDeliveries(ctx context.Context, args struct {
	First    *int32
	After    *string
	Status   *string
	Consumer *string
}) (*conn[*deliveryResolver], error) {
	j, err := r.journal(ctx, authz.Read)
	if err != nil {
		return nil, err
	}
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	var f delivery.Filter
	if args.Status != nil {
		f.Status = delivery.Status(*args.Status)
	}
	if args.Consumer != nil {
		f.Consumer = *args.Consumer
	}
	p, err := j.List(ctx, f, req)
	if err != nil {
		return nil, err
	}
	return newConn(p, func(d delivery.Delivery) *deliveryResolver { return &deliveryResolver{d: d} }), nil
}

// EventDeliveryReplay resolves Mutation.eventDeliveryReplay.
func (r *deliveryRoot) EventDeliveryReplay(ctx context.Context, args struct {
	Input struct {
		Consumer string
		EventID  gql.ID
	}
}) (*deliveryReplayPayload, error) {
	j, err := r.journal(ctx, authz.Write)
	if err != nil {
		return nil, err
	}
	d, err := j.Replay(ctx, args.Input.Consumer, string(args.Input.EventID))
	if errors.Is(err, delivery.ErrReplayFailed) && d != nil {
		return &deliveryReplayPayload{d: &deliveryResolver{d: *d}, userErrors: []*userError{{e: errs.Conflict("input", codeReplayFailed, err.Error())}}}, nil
	}
	ues, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	out := &deliveryReplayPayload{userErrors: ues}
	if d != nil {
		out.d = &deliveryResolver{d: *d}
	}
	return out, nil
}

// deliveryReplayPayload resolves EventDeliveryReplayPayload.
type deliveryReplayPayload struct {
	d          *deliveryResolver
	userErrors []*userError
}

func (p *deliveryReplayPayload) Delivery() *deliveryResolver { return p.d }
func (p *deliveryReplayPayload) UserErrors() []*userError    { return p.userErrors }

// deliveryResolver resolves EventDelivery: plain getters.
type deliveryResolver struct{ d delivery.Delivery }

func (r *deliveryResolver) Consumer() string            { return r.d.Consumer }
func (r *deliveryResolver) EventID() gql.ID             { return gql.ID(r.d.EventID) }
func (r *deliveryResolver) Subject() string             { return r.d.Subject }
func (r *deliveryResolver) Status() string              { return string(r.d.Status) }
func (r *deliveryResolver) Attempts() int32             { return int32(r.d.Attempts) }
func (r *deliveryResolver) LastError() *string          { return nonEmpty(r.d.LastError) }
func (r *deliveryResolver) OccurredAt() catalogTime     { return catalogTime{r.d.OccurredAt} }
func (r *deliveryResolver) FirstAttemptAt() catalogTime { return catalogTime{r.d.FirstAttemptAt} }
func (r *deliveryResolver) LastAttemptAt() catalogTime  { return catalogTime{r.d.LastAttemptAt} }
func (r *deliveryResolver) ReplayedBy() *string         { return nonEmpty(r.d.ReplayedBy) }
func (r *deliveryResolver) ReplayedAt() *catalogTime    { return optionalTime(r.d.ReplayedAt) }
