package order

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/pricing"
)

// Status is the order's life: open until it is completed or cancelled.
type Status string

// The order statuses (DESIGN.md, "Checkout and payment", point 3).
const (
	Open      Status = "OPEN"
	Completed Status = "COMPLETED"
	Cancelled Status = "CANCELLED"
)

// PaymentStatus is where the order's money stands.
type PaymentStatus string

// The payment statuses. The payment issue adds the callers that move them;
// placement starts every order in PaymentPending.
const (
	PaymentPending    PaymentStatus = "PENDING"
	PaymentAuthorized PaymentStatus = "AUTHORIZED"
	PaymentPaid       PaymentStatus = "PAID"
	// PaymentPartiallyPaid: money was taken, less than the order's total
	// (a partial capture released the rest); the buyer owes the
	// difference, which staff settle.
	PaymentPartiallyPaid     PaymentStatus = "PARTIALLY_PAID"
	PaymentPartiallyRefunded PaymentStatus = "PARTIALLY_REFUNDED"
	PaymentRefunded          PaymentStatus = "REFUNDED"
	PaymentVoided            PaymentStatus = "VOIDED"
	PaymentFailed            PaymentStatus = "FAILED"
)

// FulfillmentStatus is where the order's goods stand.
type FulfillmentStatus string

// The fulfillment statuses.
const (
	Unfulfilled        FulfillmentStatus = "UNFULFILLED"
	PartiallyFulfilled FulfillmentStatus = "PARTIALLY_FULFILLED"
	Fulfilled          FulfillmentStatus = "FULFILLED"
	Delivered          FulfillmentStatus = "DELIVERED"
	Returned           FulfillmentStatus = "RETURNED"
)

// Address is a postal address as the buyer gave it at checkout, copied
// into the order so that later changes to an address book leave it alone.
// It is stored as one JSON column.
type Address struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	Company     string `json:"company,omitempty"`
	Line1       string `json:"line1"`
	Line2       string `json:"line2,omitempty"`
	City        string `json:"city"`
	Province    string `json:"province,omitempty"`
	PostalCode  string `json:"postalCode,omitempty"`
	CountryCode string `json:"countryCode"`
	Phone       string `json:"phone,omitempty"`
}

// Value stores the address as JSON.
func (a Address) Value() (driver.Value, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan reads an address stored by Value.
func (a *Address) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*a = Address{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("order: scan address from %T", src)
	}
	return json.Unmarshal(b, a)
}

// Order is a placed order: what the buyer bought at which prices, where it
// goes, and where its three status dimensions stand. Lines, shipments,
// notes and the timeline are loaded on their own (Service.Get returns them
// in a Detail), so a list of orders reads one table.
type Order struct {
	bun.BaseModel `bun:"table:orders,alias:o"`

	// ID is "ord_" followed by a sortable id.
	ID string `bun:"id,pk"`
	// Seq is the shop's order sequence number; Number is it with the
	// shop's prefix ("#1001"), what buyers and staff quote.
	Seq    int64  `bun:"seq"`
	Number string `bun:"number"`
	// CustomerID is the buyer's account; nil for a guest.
	CustomerID *string `bun:"customer_id"`
	// Email is where the order's messages go, lower-cased.
	Email    string         `bun:"email"`
	Currency money.Currency `bun:"currency"`

	Status            Status            `bun:"status"`
	PaymentStatus     PaymentStatus     `bun:"payment_status"`
	FulfillmentStatus FulfillmentStatus `bun:"fulfillment_status"`

	ShippingAddress    Address `bun:"shipping_address"`
	BillingAddress     Address `bun:"billing_address"`
	ShippingMethodID   string  `bun:"shipping_method_id"`
	ShippingMethodName string  `bun:"shipping_method_name"`

	// The totals in minor units of Currency; Totals() assembles them.
	SubtotalAmount int64 `bun:"subtotal_amount"`
	DiscountAmount int64 `bun:"discount_amount"`
	ShippingAmount int64 `bun:"shipping_amount"`
	TaxAmount      int64 `bun:"tax_amount"`
	TotalAmount    int64 `bun:"total_amount"`
	TaxIncluded    bool  `bun:"tax_included"`
	// TaxName and TaxBasisPoints are the rate the lines and the shipping
	// were taxed at, as the cart priced them ("VAT", 1300): invoices state
	// it. Empty and zero for orders placed before it was kept.
	TaxName        string `bun:"tax_name"`
	TaxBasisPoints int64  `bun:"tax_basis_points"`
	// Discounts are the adjustments applied at checkout.
	Discounts []pricing.Adjustment `bun:"discounts"`

	// PaymentMethod is the gateway plugin the buyer chose to pay with;
	// empty until a payment starts (the payment issue sets it).
	PaymentMethod string `bun:"payment_method"`
	// PaymentDeadline is when an unpaid order is cancelled; RemindAt is
	// when the buyer is reminded, RemindedAt when that happened.
	PaymentDeadline time.Time  `bun:"payment_deadline"`
	RemindAt        time.Time  `bun:"remind_at"`
	RemindedAt      *time.Time `bun:"reminded_at"`

	// CartID is the cart the order was placed from (unique: a cart
	// places one order).
	CartID string `bun:"cart_id"`
	// AccessTokenHash is the SHA-256 of the token a guest reads the order
	// with; the token itself is shown once, at checkout.
	AccessTokenHash string `bun:"access_token_hash"`
	// ClientNetwork is the network the order was placed from (an IPv4
	// address or an IPv6 /64, peer.Network); empty when that was a
	// loopback or private address (a proxy's) or no request. Checkout
	// counts a network's unpaid orders by it (shop setting
	// UnpaidOrdersPerBuyer). It stays with the order, as its other
	// personal data do (docs/operations.md, "Erasure: what remains").
	ClientNetwork string `bun:"client_network"`

	CancelledAt *time.Time `bun:"cancelled_at"`
	CompletedAt *time.Time `bun:"completed_at"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
}

// Totals assembles the order's money.
func (o *Order) Totals() pricing.Totals {
	c := o.Currency
	return pricing.Totals{
		Subtotal:       money.New(o.SubtotalAmount, c),
		Discounts:      o.Discounts,
		DiscountTotal:  money.New(o.DiscountAmount, c),
		Shipping:       money.New(o.ShippingAmount, c),
		Tax:            money.New(o.TaxAmount, c),
		TaxIncluded:    o.TaxIncluded,
		TaxName:        o.TaxName,
		TaxBasisPoints: o.TaxBasisPoints,
		Total:          money.New(o.TotalAmount, c),
	}
}

// Line is one line of an order: a snapshot of the variant as sold.
type Line struct {
	bun.BaseModel `bun:"table:order_lines,alias:l"`

	ID        string `bun:"id,pk"`
	OrderID   string `bun:"order_id"`
	Position  int    `bun:"position"`
	VariantID string `bun:"variant_id"`
	ProductID string `bun:"product_id"`
	// The snapshot: what the buyer saw when they paid.
	SKU          string `bun:"sku"`
	ProductTitle string `bun:"product_title"`
	VariantTitle string `bun:"variant_title"`
	WeightGrams  int64  `bun:"weight_grams"`
	Quantity     int64  `bun:"quantity"`
	// Amounts in minor units of the order's currency. UnitPrice is as
	// priced (tax included when the shop's prices include it); Subtotal
	// is UnitPrice × Quantity; Tax is this line's tax, rounded on its
	// own; Total is what the line costs after its discounts.
	UnitPriceAmount int64 `bun:"unit_price_amount"`
	SubtotalAmount  int64 `bun:"subtotal_amount"`
	DiscountAmount  int64 `bun:"discount_amount"`
	TaxAmount       int64 `bun:"tax_amount"`
	TotalAmount     int64 `bun:"total_amount"`
	// QuantityShipped counts the units that left in shipments.
	QuantityShipped int64 `bun:"quantity_shipped"`
}

// Unshipped is what is still to ship, and still reserved.
func (l *Line) Unshipped() int64 { return l.Quantity - l.QuantityShipped }

// Shipment is a parcel that left the shop with some of an order's lines.
type Shipment struct {
	bun.BaseModel `bun:"table:order_shipments,alias:sh"`

	// ID is "shp_" followed by a sortable id.
	ID             string     `bun:"id,pk"`
	OrderID        string     `bun:"order_id"`
	Carrier        string     `bun:"carrier"`
	TrackingNumber string     `bun:"tracking_number"`
	DeliveredAt    *time.Time `bun:"delivered_at"`
	// CreatedBy is the staff member or API key that shipped it.
	CreatedBy string          `bun:"created_by"`
	CreatedAt time.Time       `bun:"created_at"`
	Lines     []*ShipmentLine `bun:"-"`
}

// ShipmentLine is how many units of an order line a shipment holds.
type ShipmentLine struct {
	bun.BaseModel `bun:"table:order_shipment_lines,alias:sl"`

	ShipmentID  string `bun:"shipment_id,pk"`
	OrderLineID string `bun:"order_line_id,pk"`
	Quantity    int64  `bun:"quantity"`
}

// Note is a staff note on an order; buyers never see it.
type Note struct {
	bun.BaseModel `bun:"table:order_notes,alias:n"`

	ID        string    `bun:"id,pk"`
	OrderID   string    `bun:"order_id"`
	Body      string    `bun:"body"`
	AuthorID  string    `bun:"author_id"`
	CreatedAt time.Time `bun:"created_at"`
}

// Visibility says who sees a timeline entry.
type Visibility string

// The visibilities of timeline entries.
const (
	// VisibleToBuyer entries are shown to the order's buyer and to staff:
	// the moves of the order's statuses, shipments, the placement.
	VisibleToBuyer Visibility = "BUYER"
	// StaffOnly entries are shown to staff only: notes.
	StaffOnly Visibility = "STAFF"
)

// TimelineEntry is one row of an order's timeline: a move of one of its
// status dimensions (written by core/transition), the placement, a
// shipment that moved no status, a staff note or a claim (see the
// Machine constants).
type TimelineEntry struct {
	bun.BaseModel `bun:"table:order_timeline,alias:tl"`

	// ID is "trn_" followed by a sortable id: entries sort in the order
	// things happened.
	ID      string `bun:"id,pk"`
	OrderID string `bun:"order_id"`
	// Machine names the dimension ("order.status",
	// "order.payment_status", "order.fulfillment_status") or the kind of
	// entry (MachineShipment, MachineNote, MachineClaim).
	Machine   string `bun:"machine"`
	FromState string `bun:"from_state"`
	ToState   string `bun:"to_state"`
	// ActorKind is the kind of subject that acted (staff, customer,
	// anonymous, apikey, system); Actor its id, nil for a guest and in
	// what buyers are shown of other people's acts.
	ActorKind string  `bun:"actor_kind"`
	Actor     *string `bun:"actor"`
	// Reason is why (a cancellation's reason), or a note's body.
	Reason *string `bun:"reason"`
	// EventID is the event emitted with the entry; empty for notes.
	EventID    string     `bun:"event_id"`
	CreatedAt  time.Time  `bun:"created_at"`
	Visibility Visibility `bun:"visibility"`
}

// PlaceInput is what the cart hands the order at checkout completion: the
// priced lines, the addresses, the shipping method and the totals, all
// computed by the core (ADR 0008). Place trusts it: only the cart calls it,
// in-process, in the cart's transaction.
type PlaceInput struct {
	// OrderID is the id the order gets, from NewID; empty for a new
	// one. The cart names the order it places before placing it.
	OrderID string
	// CartID is the cart being completed; a cart places one order.
	CartID string
	// CustomerID is the signed-in buyer; empty for a guest.
	CustomerID string
	// AccessToken is the token a guest's order is read with, from
	// NewAccessToken; empty makes one. The cart chooses it so it can
	// store its idempotent answer before placing. A buyer's order
	// (CustomerID set) has none and ignores it.
	AccessToken string
	Email       string
	Currency    money.Currency

	ShippingAddress    Address
	BillingAddress     Address
	ShippingMethodID   string
	ShippingMethodName string

	Lines  []PlaceLine
	Totals pricing.Totals
}

// PlaceLine is one priced line of a PlaceInput.
type PlaceLine struct {
	VariantID    string
	ProductID    string
	SKU          string
	ProductTitle string
	VariantTitle string
	WeightGrams  int64
	Quantity     int64
	UnitPrice    money.Money
	Subtotal     money.Money
	Discount     money.Money
	Tax          money.Money
	Total        money.Money
}

// Placed is a new order and, for a guest, the token that reads it (shown
// once; the order keeps only its hash).
type Placed struct {
	Order       *Order
	Lines       []*Line
	AccessToken string
	// Timeline is the order's timeline as placed: its first entry.
	Timeline []*TimelineEntry `json:",omitempty"`
	// Replayed is set by a caller that read Placed back from an
	// idempotency key rather than placing the order now: the order may
	// have moved on since.
	Replayed bool `json:"-"`
}

// Detail is one order with everything its page shows. Buyers get the
// entries of the timeline meant for them and no notes; staff get all.
type Detail struct {
	Order     *Order
	Lines     []*Line
	Shipments []*Shipment
	Timeline  []*TimelineEntry
	// Notes are the staff notes, oldest first; nil for buyers.
	Notes []*Note
}

// ShipInput ships some units of an order's lines in one parcel.
type ShipInput struct {
	OrderID string
	// Lines are the order lines in the parcel, each at most once, with
	// how many of their unshipped units.
	Lines []ShipLine
	// Carrier and TrackingNumber are optional (a parcel handed over in
	// person has neither).
	Carrier        string
	TrackingNumber string
}

// ShipLine is one line of a ShipInput.
type ShipLine struct {
	LineID   string
	Quantity int64
}

// CancelInput cancels an order on behalf of staff or the platform.
type CancelInput struct {
	OrderID string
	// Reason is required; the buyer sees it in their timeline.
	Reason string
}

// CancelUnpaidInput is a buyer cancelling their own unpaid order: a
// signed-in buyer names it by id, a guest by the access token returned at
// checkout (OrderID may then be empty; when both are given they must name
// the same order).
type CancelUnpaidInput struct {
	OrderID     string
	AccessToken string
	// Reason is optional.
	Reason string
}

// AddNoteInput adds a staff note to an order.
type AddNoteInput struct {
	OrderID string
	Body    string
}

// PaymentMove moves an order's payment status, as the payment domain's
// callers do: From is the status the caller saw, so a duplicate or late
// notification loses with STALE_STATE instead of moving twice.
type PaymentMove struct {
	OrderID string
	From    PaymentStatus
	To      PaymentStatus
	Reason  string
}

// SortKey orders the staff's list of orders.
type SortKey string

// The sort keys of List. Each sorts descending (newest, highest first)
// unless the filter asks for Ascending.
const (
	SortCreatedAt SortKey = "CREATED_AT"
	SortNumber    SortKey = "NUMBER"
	SortTotal     SortKey = "TOTAL"
)

// Filter narrows the staff's list of orders. Zero fields do not filter.
type Filter struct {
	Status            Status
	PaymentStatus     PaymentStatus
	FulfillmentStatus FulfillmentStatus
	// CreatedFrom (inclusive) and CreatedTo (exclusive) bound when the
	// order was placed.
	CreatedFrom, CreatedTo time.Time
	CustomerID             string
	// PaymentMethod is the id of the gateway plugin the buyer paid with.
	PaymentMethod string
	// Query is an order number ("#1001", "1001" or with the shop's
	// prefix), a whole email address, or the name before its @ ("alice"
	// finds alice@example.com and alice@example.org); case does not
	// matter. Each is an exact match, served by an index.
	Query string
	// SortKey is SortCreatedAt when empty.
	SortKey   SortKey
	Ascending bool
}
