package payment

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/money"
)

// State is where a payment attempt stands in Kassa's books.
type State string

// The attempt states (ADR 0009).
const (
	// StatePending: created; the gateway was asked (or is about to be)
	// and the buyer's action is awaited.
	StatePending State = "PENDING"
	// StateAuthorized: funds reserved, to be captured by staff.
	StateAuthorized State = "AUTHORIZED"
	// StateCaptured: the money was taken (the attempt paid).
	StateCaptured State = "CAPTURED"
	// StateFailed: declined, with a decline code; nothing was taken.
	StateFailed State = "FAILED"
	// StateCancelled: closed unpaid at the gateway, or an authorization
	// voided.
	StateCancelled State = "CANCELLED"
	// StateUnknown: the request may have reached the gateway but no
	// answer came (a timeout, a crashed plugin, a broken connection). Never
	// a failure: the reconciler asks the gateway.
	StateUnknown State = "UNKNOWN"
)

// Open reports whether the attempt may still change without Kassa acting:
// the reconciler watches PENDING and UNKNOWN attempts.
func (s State) Open() bool { return s == StatePending || s == StateUnknown }

// RefundState is where a refund stands.
type RefundState string

// The refund states.
const (
	// RefundStatePending: reserved against the capture and asked of the
	// gateway (or about to be).
	RefundStatePending RefundState = "PENDING"
	// RefundStateSucceeded: the money went back.
	RefundStateSucceeded RefundState = "SUCCEEDED"
	// RefundStateFailed: the gateway refused it; the reservation was
	// released.
	RefundStateFailed RefundState = "FAILED"
	// RefundStateUnknown: no answer came; reconciled with GetRefund.
	RefundStateUnknown RefundState = "UNKNOWN"
)

// Order statuses as the Orders port reports them (core/order's values).
const (
	OrderOpen      = "OPEN"
	OrderCompleted = "COMPLETED"
	OrderCancelled = "CANCELLED"
)

// OrderPaymentStatus is an order's payment status as the Orders port
// reports and moves it (core/order's values).
type OrderPaymentStatus string

// The order payment statuses.
const (
	OrderPaymentPending           OrderPaymentStatus = "PENDING"
	OrderPaymentAuthorized        OrderPaymentStatus = "AUTHORIZED"
	OrderPaymentPaid              OrderPaymentStatus = "PAID"
	OrderPaymentPartiallyPaid     OrderPaymentStatus = "PARTIALLY_PAID"
	OrderPaymentPartiallyRefunded OrderPaymentStatus = "PARTIALLY_REFUNDED"
	OrderPaymentRefunded          OrderPaymentStatus = "REFUNDED"
	OrderPaymentVoided            OrderPaymentStatus = "VOIDED"
	OrderPaymentFailed            OrderPaymentStatus = "FAILED"
)

// OrderInfo is what payment reads of an order through the Orders port.
type OrderInfo struct {
	ID     string
	Number string
	// Status is OrderOpen, OrderCompleted or OrderCancelled.
	Status        string
	PaymentStatus OrderPaymentStatus
	// PaymentMethod is the gateway the buyer chose or paid with (the
	// order's payment method); Orders.MovePayment writes it with the
	// status.
	PaymentMethod string
	// Total is what the buyer owes; Shipping the shipping part of it.
	Total    money.Money
	Shipping money.Money
	// Tax is the order's tax, part of Total; TaxIncluded says that it is
	// part of the lines' and the shipping's prices too, rather than added
	// to them.
	Tax             money.Money
	TaxIncluded     bool
	PaymentDeadline time.Time
	// CustomerID is the buyer's account; empty for a guest.
	CustomerID string
	Email      string
	// Country is the billing address's ISO 3166-1 alpha-2 code.
	Country string
	// ShippingCountry is the shipping address's ISO 3166-1 alpha-2 code,
	// what routes narrow by; empty when nothing is shipped.
	ShippingCountry string
}

// Outstanding is what the buyer of o still owes, paid being what they
// paid of it (captured less refunded, Balance.Paid; zero before any
// money moved): o's total less paid, never below zero, while o is not
// cancelled and its payment is PENDING, FAILED or PARTIALLY_PAID; zero
// for any other order. A cancelled order is owed nothing; an AUTHORIZED
// one has its money held for staff to capture; a PAID one is settled; a
// refund (PARTIALLY_REFUNDED, REFUNDED) is the shop giving money back,
// never a debt of the buyer's; a VOIDED payment is the shop's decision
// not to take it. An authorization of the rest held at the gateway (a
// shop capturing by hand) still counts as owed until staff capture it.
// What Create asks of a PARTIALLY_PAID order.
func (o *OrderInfo) Outstanding(paid money.Money) money.Money {
	zero := money.Zero(o.Total.Currency())
	switch {
	case o.Status == OrderCancelled:
		return zero
	case o.PaymentStatus != OrderPaymentPending && o.PaymentStatus != OrderPaymentFailed && o.PaymentStatus != OrderPaymentPartiallyPaid:
		return zero
	case paid.Amount() >= o.Total.Amount():
		return zero
	}
	return money.New(o.Total.Amount()-paid.Amount(), o.Total.Currency())
}

// OrderLine is an order line as refunds by line need it.
type OrderLine struct {
	ID       string
	SKU      string
	Quantity int64
	// Total is what the line cost after its discounts, minor units (its
	// tax included, whether prices include it or it was added); Tax is
	// the line's tax.
	Total int64
	Tax   int64
}

// Attempt is one try to pay an order through one gateway.
type Attempt struct {
	bun.BaseModel `bun:"table:payment_attempts,alias:pa"`

	// ID is "pay_" followed by a sortable id; it is also the merchant
	// reference and the idempotency key the gateway sees.
	ID        string `bun:"id,pk"`
	OrderID   string `bun:"order_id"`
	GatewayID string `bun:"gateway_id"`
	// Amount is what the order asked for, never what a client sent.
	AmountMinor   int64          `bun:"amount"`
	Currency      money.Currency `bun:"currency"`
	CaptureMethod CaptureMethod  `bun:"capture_method"`
	State         State          `bun:"state"`
	// GatewayRef is the gateway's payment id; empty until it answered.
	GatewayRef string `bun:"gateway_ref"`
	// Method is the payment method the buyer chose when the attempt was
	// routed (routing.go); empty when a gateway was named.
	Method string `bun:"method"`
	// FailoverOf is the attempt this one followed because its gateway
	// provably received nothing; nil for the first of a payment.
	FailoverOf *string `bun:"failover_of"`

	ActionType      ActionType `bun:"action_type"`
	ActionURL       string     `bun:"action_url"`
	ActionQRCode    string     `bun:"action_qr_code"`
	ActionSecret    string     `bun:"action_secret"`
	ActionText      string     `bun:"action_text"`
	ActionExpiresAt *time.Time `bun:"action_expires_at"`

	DeclineCode     string `bun:"decline_code"`
	BuyerMessage    string `bun:"buyer_message"`
	MerchantMessage string `bun:"merchant_message"`

	// Authorized, Captured and Refunded are minor units of Currency;
	// RefundReserved are refunds asked and not settled.
	Authorized     int64  `bun:"authorized_amount"`
	Captured       int64  `bun:"captured_amount"`
	Refunded       int64  `bun:"refunded_amount"`
	RefundReserved int64  `bun:"refund_reserved"`
	ReturnURL      string `bun:"return_url"`

	// NextCheckAt is when the reconciler asks the gateway next; nil once
	// the state is final. CheckCount counts the questions asked.
	NextCheckAt  *time.Time `bun:"next_check_at"`
	CheckCount   int64      `bun:"check_count"`
	ClaimedBy    *string    `bun:"claimed_by"`
	ClaimedUntil *time.Time `bun:"claimed_until"`

	// CreatedBy is the subject that started the attempt.
	CreatedBy string    `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// Amount is what the attempt asks for.
func (a *Attempt) Amount() money.Money { return money.New(a.AmountMinor, a.Currency) }

// Action is what the buyer does next.
func (a *Attempt) Action() Action {
	act := Action{Type: a.ActionType, URL: a.ActionURL, QRCode: a.ActionQRCode, ClientSecret: a.ActionSecret, Instructions: a.ActionText}
	if a.ActionExpiresAt != nil {
		act.ExpiresAt = *a.ActionExpiresAt
	}
	return act
}

// Refundable is what may still be refunded of the attempt.
func (a *Attempt) Refundable() int64 { return a.Captured - a.Refunded - a.RefundReserved }

// RefundLine is part of a refund taken from one order line.
type RefundLine struct {
	LineID   string `json:"lineId"`
	Quantity int64  `json:"quantity"`
	// Amount is the line's share of the refund, minor units.
	Amount int64 `json:"amount"`
}

// RefundLines is stored as one JSON column.
type RefundLines []RefundLine

// Value stores the lines as JSON.
func (l RefundLines) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]RefundLine(l))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan reads lines stored by Value.
func (l *RefundLines) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("payment: scan refund lines from %T", src)
	}
	return json.Unmarshal(b, (*[]RefundLine)(l))
}

// Refund is money given back of a captured attempt.
type Refund struct {
	bun.BaseModel `bun:"table:payment_refunds,alias:pr"`

	// ID is "ref_" followed by a sortable id; the gateway's idempotency
	// key for the refund is derived from it.
	ID        string `bun:"id,pk"`
	OrderID   string `bun:"order_id"`
	AttemptID string `bun:"attempt_id"`
	GatewayID string `bun:"gateway_id"`
	// AmountMinor is the whole refund, ShippingMinor the shipping part of
	// it (of the order's shipping price), ShippingTaxMinor the tax given
	// back with that part where the shipping's tax was added to its price
	// (prices excluding tax; zero where prices include it), Lines the
	// parts taken from order lines.
	AmountMinor      int64          `bun:"amount"`
	Currency         money.Currency `bun:"currency"`
	ShippingMinor    int64          `bun:"shipping_amount"`
	ShippingTaxMinor int64          `bun:"shipping_tax_amount"`
	Lines            RefundLines    `bun:"lines"`
	State            RefundState    `bun:"state"`
	Reason           string         `bun:"reason"`
	StaffID          string         `bun:"staff_id"`
	GatewayRefundRef string         `bun:"gateway_refund_ref"`
	FailureCode      string         `bun:"failure_code"`
	MerchantMessage  string         `bun:"merchant_message"`
	// Instructions tell staff how to complete a manual refund.
	Instructions string     `bun:"instructions"`
	NextCheckAt  *time.Time `bun:"next_check_at"`
	CheckCount   int64      `bun:"check_count"`
	ClaimedBy    *string    `bun:"claimed_by"`
	ClaimedUntil *time.Time `bun:"claimed_until"`
	CreatedAt    time.Time  `bun:"created_at"`
	UpdatedAt    time.Time  `bun:"updated_at"`
}

// Amount is the refund's amount.
func (r *Refund) Amount() money.Money { return money.New(r.AmountMinor, r.Currency) }

// Where a gateway event came from.
const (
	SourceWebhook   = "WEBHOOK"   // a verified notification
	SourceCreate    = "CREATE"    // CreatePayment's answer
	SourceReconcile = "RECONCILE" // GetPayment or GetRefund asked by the reconciler
	SourceExpire    = "EXPIRE"    // CancelPayment at the order's deadline
	SourceClose     = "CLOSE"     // CancelPayment closing an order's trade: the order was cancelled, or paid by another attempt
	SourceStaff     = "STAFF"     // the answer to a staff capture, void or refund, or a confirmed bank transfer
)

// Outcome says what applying a gateway event did.
type Outcome string

// The outcomes.
const (
	// OutcomeApplied: the event changed the books.
	OutcomeApplied Outcome = "APPLIED"
	// OutcomeIgnored: nothing left to change (the fact was already known,
	// or the gateway's truth already went further).
	OutcomeIgnored Outcome = "IGNORED"
	// OutcomeRefused: not applied; FlagReason says why, for staff.
	OutcomeRefused Outcome = "REFUSED"
)

// Flag reasons: why an event needs staff.
const (
	FlagAmountMismatch   = "AMOUNT_MISMATCH"
	FlagCurrencyMismatch = "CURRENCY_MISMATCH"
	FlagUnknownAttempt   = "UNKNOWN_ATTEMPT"
	// FlagCancelledOrder: money arrived for a cancelled order (refunded
	// automatically or left to staff, as the shop's setting says).
	FlagCancelledOrder = "CANCELLED_ORDER"
	// FlagDuplicatePayment: a second attempt took money for an order
	// already paid.
	FlagDuplicatePayment = "DUPLICATE_PAYMENT"
	// FlagUnderpaid and FlagOverpaid: a bank transfer confirmed with less
	// or more than the attempt asked. FlagUnderpaid also marks a capture
	// that took less than the attempt asked, the rest released (a partial
	// capture): the order is PARTIALLY_PAID and the buyer owes the rest.
	FlagUnderpaid = "UNDERPAID"
	FlagOverpaid  = "OVERPAID"
	// FlagRefundExceedsCaptured: the gateway reports a refund Kassa did
	// not ask for and that exceeds what is left to refund.
	FlagRefundExceedsCaptured = "REFUND_EXCEEDS_CAPTURED"
	// FlagRefundedAtGateway: the gateway reports a refund Kassa did not
	// ask for (made in its dashboard): applied, the money having left,
	// and shown to staff.
	FlagRefundedAtGateway = "REFUNDED_AT_GATEWAY"
	// FlagDispute: the buyer disputed a payment at the gateway.
	FlagDispute = "DISPUTE"
	// FlagReferenceInUse: the event names an attempt and a gateway
	// payment that belongs to another attempt; one payment pays one
	// order.
	FlagReferenceInUse = "REFERENCE_IN_USE"
)

// EventRecord is a fact learnt from a gateway, as stored.
type EventRecord struct {
	bun.BaseModel `bun:"table:payment_gateway_events,alias:ge"`

	ID             string  `bun:"id,pk"`
	GatewayID      string  `bun:"gateway_id"`
	GatewayEventID string  `bun:"gateway_event_id"`
	Type           string  `bun:"type"`
	Source         string  `bun:"source"`
	OrderID        *string `bun:"order_id"`
	AttemptID      *string `bun:"attempt_id"`
	RefundID       *string `bun:"refund_id"`
	// AmountMinor in Currency is the amount the gateway reported.
	AmountMinor int64      `bun:"amount"`
	Currency    string     `bun:"currency"`
	Outcome     Outcome    `bun:"outcome"`
	FlagReason  string     `bun:"flag_reason"`
	Detail      string     `bun:"detail"`
	OccurredAt  *time.Time `bun:"occurred_at"`
	ReceivedAt  time.Time  `bun:"received_at"`
	// ResolvedAt, ResolvedBy (the staff member or API key) and
	// ResolutionNote say that staff dealt with the flag (ResolveFlag);
	// ResolvedAt is nil while it waits.
	ResolvedAt     *time.Time `bun:"resolved_at"`
	ResolvedBy     string     `bun:"resolved_by"`
	ResolutionNote string     `bun:"resolution_note"`
}

// LedgerKind is the kind of a money move.
type LedgerKind string

// The ledger kinds.
const (
	LedgerAuthorization LedgerKind = "AUTHORIZATION"
	LedgerCapture       LedgerKind = "CAPTURE"
	LedgerRefund        LedgerKind = "REFUND"
	LedgerVoid          LedgerKind = "VOID"
)

// LedgerEntry is one money move; never updated.
type LedgerEntry struct {
	bun.BaseModel `bun:"table:payment_ledger,alias:pl"`

	ID          string         `bun:"id,pk"`
	OrderID     string         `bun:"order_id"`
	AttemptID   string         `bun:"attempt_id"`
	RefundID    *string        `bun:"refund_id"`
	Kind        LedgerKind     `bun:"kind"`
	AmountMinor int64          `bun:"amount"`
	Currency    money.Currency `bun:"currency"`
	GatewayID   string         `bun:"gateway_id"`
	GatewayRef  string         `bun:"gateway_ref"`
	// EventID is the gateway event row that caused the move.
	EventID   *string   `bun:"event_id"`
	CreatedAt time.Time `bun:"created_at"`
}

// Amount is the move's amount (always positive; Kind gives the sign).
func (e *LedgerEntry) Amount() money.Money { return money.New(e.AmountMinor, e.Currency) }

// Balance is the ledger's sums for one order, kept in step with it.
type Balance struct {
	bun.BaseModel `bun:"table:payment_balances,alias:pb"`

	OrderID        string         `bun:"order_id,pk"`
	Currency       money.Currency `bun:"currency"`
	Authorized     int64          `bun:"authorized"`
	Captured       int64          `bun:"captured"`
	Refunded       int64          `bun:"refunded"`
	Voided         int64          `bun:"voided"`
	RefundReserved int64          `bun:"refund_reserved"`
	UpdatedAt      time.Time      `bun:"updated_at"`
}

// Paid is what the order's buyer paid: captured minus refunded.
func (b *Balance) Paid() money.Money { return money.New(b.Captured-b.Refunded, b.Currency) }

// Method is a payment method a buyer may choose for an order.
type Method struct {
	// Method is the routed payment method ("card"), what Create takes
	// instead of a gateway; empty for a gateway no route names.
	Method string
	// GatewayID is the gateway plugin's id, what Create takes; for a
	// routed method, the first gateway it goes to for this order.
	GatewayID string
	// Actions are the buyer actions the gateway may answer.
	Actions []ActionType
	// ManualCapture says whether the gateway can authorize now and
	// capture later.
	ManualCapture bool
}

// Verdict is what BeforeExpire says about an unpaid order past its
// deadline (core/app maps it to the order's ExpiryVerdict).
type Verdict int

// The verdicts.
const (
	// VerdictExpire: every attempt is closed unpaid at its gateway; cancel.
	VerdictExpire Verdict = iota
	// VerdictPaid: a gateway said the order was paid; its payment status
	// was moved.
	VerdictPaid
	// VerdictPending: a gateway did not answer, or money was taken and
	// staff must settle it; ask again later.
	VerdictPending
)
