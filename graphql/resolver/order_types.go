package resolver

import (
	"time"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
)

// orderResolver resolves Order over an order and, when the caller's
// selection reads them, its lines, shipments, timeline and notes (the
// Detail). Every field is a plain getter: orders come in lists, whose
// items must not start goroutines (DESIGN.md, "GraphQL conventions"), so
// whoever builds the resolver loads what the selection reads first.
type orderResolver struct {
	o         *order.Order
	lines     []*orderLineResolver
	shipments []*shipmentResolver
	timeline  []*timelineResolver
	notes     []*orderNoteResolver
	// pay is what the order shows of its payments (payment_order.go).
	pay *orderPayments
}

// newOrder resolves an order read without its detail.
func newOrder(o *order.Order) *orderResolver {
	return &orderResolver{o: o, lines: []*orderLineResolver{}, shipments: []*shipmentResolver{},
		timeline: []*timelineResolver{}, notes: []*orderNoteResolver{}}
}

// newOrderDetail resolves an order with its detail, as the service showed
// it to the caller (buyers get no notes and their part of the timeline).
func newOrderDetail(d *order.Detail) *orderResolver {
	r := &orderResolver{o: d.Order, lines: make([]*orderLineResolver, len(d.Lines)),
		shipments: make([]*shipmentResolver, len(d.Shipments)), timeline: make([]*timelineResolver, len(d.Timeline)),
		notes: make([]*orderNoteResolver, len(d.Notes))}
	cur := d.Order.Currency
	for i, l := range d.Lines {
		r.lines[i] = &orderLineResolver{l: l, cur: cur}
	}
	for i, sh := range d.Shipments {
		r.shipments[i] = newShipment(sh)
	}
	for i, e := range d.Timeline {
		r.timeline[i] = &timelineResolver{e: e}
	}
	for i, n := range d.Notes {
		r.notes[i] = &orderNoteResolver{n: n}
	}
	return r
}

func (r *orderResolver) ID() gql.ID     { return gql.ID(r.o.ID) }
func (r *orderResolver) Number() string { return r.o.Number }
func (r *orderResolver) Email() string  { return r.o.Email }

func (r *orderResolver) CustomerID() *gql.ID {
	if r.o.CustomerID == nil {
		return nil
	}
	id := gql.ID(*r.o.CustomerID)
	return &id
}

func (r *orderResolver) CurrencyCode() string      { return r.o.Currency.Code() }
func (r *orderResolver) Status() string            { return string(r.o.Status) }
func (r *orderResolver) PaymentStatus() string     { return string(r.o.PaymentStatus) }
func (r *orderResolver) FulfillmentStatus() string { return string(r.o.FulfillmentStatus) }

func (r *orderResolver) ShippingAddress() *cartAddress { return newCartAddress(&r.o.ShippingAddress) }
func (r *orderResolver) BillingAddress() *cartAddress  { return newCartAddress(&r.o.BillingAddress) }

func (r *orderResolver) ShippingMethodID() *gql.ID {
	if r.o.ShippingMethodID == "" {
		return nil
	}
	id := gql.ID(r.o.ShippingMethodID)
	return &id
}

func (r *orderResolver) ShippingMethodName() string { return r.o.ShippingMethodName }

func (r *orderResolver) amount(n int64) *moneyResolver { return newMoney(money.New(n, r.o.Currency)) }

func (r *orderResolver) Subtotal() *moneyResolver      { return r.amount(r.o.SubtotalAmount) }
func (r *orderResolver) Shipping() *moneyResolver      { return r.amount(r.o.ShippingAmount) }
func (r *orderResolver) Tax() *moneyResolver           { return r.amount(r.o.TaxAmount) }
func (r *orderResolver) TaxIncluded() bool             { return r.o.TaxIncluded }
func (r *orderResolver) Discounts() []*cartAdjustment  { return newCartAdjustments(r.o.Discounts) }
func (r *orderResolver) DiscountTotal() *moneyResolver { return r.amount(r.o.DiscountAmount) }
func (r *orderResolver) Total() *moneyResolver         { return r.amount(r.o.TotalAmount) }

func (r *orderResolver) PaymentMethod() *string {
	if r.o.PaymentMethod == "" {
		return nil
	}
	return &r.o.PaymentMethod
}

func (r *orderResolver) PaymentDeadline() catalogTime { return catalogTime{r.o.PaymentDeadline} }

func (r *orderResolver) Lines() []*orderLineResolver    { return r.lines }
func (r *orderResolver) Shipments() []*shipmentResolver { return r.shipments }
func (r *orderResolver) Timeline() []*timelineResolver  { return r.timeline }
func (r *orderResolver) Notes() []*orderNoteResolver    { return r.notes }

func (r *orderResolver) CancelledAt() *catalogTime { return optionalTime(r.o.CancelledAt) }
func (r *orderResolver) CompletedAt() *catalogTime { return optionalTime(r.o.CompletedAt) }
func (r *orderResolver) CreatedAt() catalogTime    { return catalogTime{r.o.CreatedAt} }
func (r *orderResolver) UpdatedAt() catalogTime    { return catalogTime{r.o.UpdatedAt} }

// orderLineResolver resolves OrderLine; cur is the order's currency.
type orderLineResolver struct {
	l   *order.Line
	cur money.Currency
}

func (r *orderLineResolver) amount(n int64) *moneyResolver { return newMoney(money.New(n, r.cur)) }

func (r *orderLineResolver) ID() gql.ID                { return gql.ID(r.l.ID) }
func (r *orderLineResolver) VariantID() gql.ID         { return gql.ID(r.l.VariantID) }
func (r *orderLineResolver) ProductID() gql.ID         { return gql.ID(r.l.ProductID) }
func (r *orderLineResolver) SKU() string               { return r.l.SKU }
func (r *orderLineResolver) ProductTitle() string      { return r.l.ProductTitle }
func (r *orderLineResolver) VariantTitle() string      { return r.l.VariantTitle }
func (r *orderLineResolver) WeightGrams() int32        { return clampInt32(r.l.WeightGrams) }
func (r *orderLineResolver) Quantity() int32           { return clampInt32(r.l.Quantity) }
func (r *orderLineResolver) QuantityShipped() int32    { return clampInt32(r.l.QuantityShipped) }
func (r *orderLineResolver) UnitPrice() *moneyResolver { return r.amount(r.l.UnitPriceAmount) }
func (r *orderLineResolver) Subtotal() *moneyResolver  { return r.amount(r.l.SubtotalAmount) }
func (r *orderLineResolver) Discount() *moneyResolver  { return r.amount(r.l.DiscountAmount) }
func (r *orderLineResolver) Tax() *moneyResolver       { return r.amount(r.l.TaxAmount) }
func (r *orderLineResolver) Total() *moneyResolver     { return r.amount(r.l.TotalAmount) }

// shipmentResolver resolves Shipment.
type shipmentResolver struct {
	sh    *order.Shipment
	lines []*shipmentLineResolver
}

func newShipment(sh *order.Shipment) *shipmentResolver {
	r := &shipmentResolver{sh: sh, lines: make([]*shipmentLineResolver, len(sh.Lines))}
	for i, l := range sh.Lines {
		r.lines[i] = &shipmentLineResolver{l: l}
	}
	return r
}

func (r *shipmentResolver) ID() gql.ID                     { return gql.ID(r.sh.ID) }
func (r *shipmentResolver) Carrier() string                { return r.sh.Carrier }
func (r *shipmentResolver) TrackingNumber() string         { return r.sh.TrackingNumber }
func (r *shipmentResolver) Lines() []*shipmentLineResolver { return r.lines }
func (r *shipmentResolver) DeliveredAt() *catalogTime      { return optionalTime(r.sh.DeliveredAt) }
func (r *shipmentResolver) CreatedAt() catalogTime         { return catalogTime{r.sh.CreatedAt} }

// shipmentLineResolver resolves ShipmentLine.
type shipmentLineResolver struct{ l *order.ShipmentLine }

func (r *shipmentLineResolver) LineID() gql.ID  { return gql.ID(r.l.OrderLineID) }
func (r *shipmentLineResolver) Quantity() int32 { return clampInt32(r.l.Quantity) }

// timelineResolver resolves TimelineEntry.
type timelineResolver struct{ e *order.TimelineEntry }

func (r *timelineResolver) ID() gql.ID { return gql.ID(r.e.ID) }

// Kind names the entry for clients (TimelineKind): the dimension a move
// moved, or what happened. The placement is the status machine's first
// row, from no state to OPEN.
func (r *timelineResolver) Kind() string { return timelineKind(r.e) }

// timelineKinds are the TimelineKind of each machine but the status one.
var timelineKinds = map[string]string{
	order.MachinePayment:     "PAYMENT_STATUS",
	order.MachineFulfillment: "FULFILLMENT_STATUS",
	order.MachineShipment:    "SHIPMENT",
	order.MachineNote:        "NOTE",
	order.MachineClaim:       "CLAIM",
	order.MachineReminder:    "REMINDER",
}

func timelineKind(e *order.TimelineEntry) string {
	if e.Machine == order.MachineStatus {
		if e.FromState == "" {
			return "PLACED"
		}
		return "STATUS"
	}
	return timelineKinds[e.Machine] // TestTimelineKinds: every machine has one
}

func (r *timelineResolver) From() *string { return nonEmpty(r.e.FromState) }
func (r *timelineResolver) To() *string   { return nonEmpty(r.e.ToState) }

func (r *timelineResolver) ActorKind() string      { return viewerKind(authz.SubjectKind(r.e.ActorKind)) }
func (r *timelineResolver) ActorID() *string       { return r.e.Actor }
func (r *timelineResolver) Reason() *string        { return r.e.Reason }
func (r *timelineResolver) VisibleToBuyer() bool   { return r.e.Visibility == order.VisibleToBuyer }
func (r *timelineResolver) CreatedAt() catalogTime { return catalogTime{r.e.CreatedAt} }

// orderNoteResolver resolves OrderNote.
type orderNoteResolver struct{ n *order.Note }

func (r *orderNoteResolver) ID() gql.ID             { return gql.ID(r.n.ID) }
func (r *orderNoteResolver) Body() string           { return r.n.Body }
func (r *orderNoteResolver) AuthorID() string       { return r.n.AuthorID }
func (r *orderNoteResolver) CreatedAt() catalogTime { return catalogTime{r.n.CreatedAt} }

// orderConnection resolves OrderConnection over a page whose orders were
// resolved, with the detail the selection reads, by newOrderConnection.
type orderConnection struct {
	p     page.Page[*order.Order]
	nodes []*orderResolver
}

func (c *orderConnection) Edges() []*orderEdge {
	out := make([]*orderEdge, len(c.nodes))
	for i := range c.nodes {
		out[i] = &orderEdge{c: c, i: i}
	}
	return out
}

func (c *orderConnection) Nodes() []*orderResolver {
	if c.nodes == nil {
		return []*orderResolver{}
	}
	return c.nodes
}

func (c *orderConnection) PageInfo() *pageInfo { return newPageInfo(c.p) }

type orderEdge struct {
	c *orderConnection
	i int
}

func (e *orderEdge) Cursor() string       { return e.c.p.Cursors[e.i].Encode() }
func (e *orderEdge) Node() *orderResolver { return e.c.nodes[e.i] }

// optionalTime resolves a nullable DateTime.
func optionalTime(t *time.Time) *catalogTime {
	if t == nil {
		return nil
	}
	return &catalogTime{*t}
}

// nonEmpty is nil for "", else a pointer to s.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
