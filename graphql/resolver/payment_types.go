package resolver

import (
	"strings"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
)

// The resolvers of the payment types. Payments, refunds, ledger rows and
// gateway events come in lists (an order's payments, the flagged events),
// so every field is a plain getter over data loaded before (DESIGN.md,
// "GraphQL conventions"): whoever builds a resolver loads what the
// selection reads first (see loadPayments).

// paymentResolver resolves Payment. staff is true when the caller holds
// payment read: buyers get no merchant message and no gateway events.
type paymentResolver struct {
	a     *payment.Attempt
	staff bool
	// events are the attempt's gateway events, loaded for staff when the
	// selection reads them.
	events []*paymentEventResolver
	// order is the attempt's order as the caller sees it: its parent when
	// the payment is listed under an order, else loaded when selected.
	order *orderResolver
}

func newPayment(a *payment.Attempt, staff bool) *paymentResolver {
	return &paymentResolver{a: a, staff: staff, events: []*paymentEventResolver{}}
}

func (r *paymentResolver) ID() gql.ID             { return gql.ID(r.a.ID) }
func (r *paymentResolver) GatewayID() string      { return r.a.GatewayID }
func (r *paymentResolver) State() string          { return string(r.a.State) }
func (r *paymentResolver) Amount() *moneyResolver { return newMoney(r.a.Amount()) }

func (r *paymentResolver) Authorized() *moneyResolver {
	return newMoney(money.New(r.a.Authorized, r.a.Currency))
}

func (r *paymentResolver) Captured() *moneyResolver {
	return newMoney(money.New(r.a.Captured, r.a.Currency))
}

func (r *paymentResolver) Refunded() *moneyResolver {
	return newMoney(money.New(r.a.Refunded, r.a.Currency))
}

func (r *paymentResolver) ManualCapture() bool { return r.a.CaptureMethod == payment.CaptureManual }

// Action is null when the gateway asked nothing of the buyer.
func (r *paymentResolver) Action() *paymentActionResolver {
	if r.a.ActionType == "" {
		return nil
	}
	return &paymentActionResolver{a: r.a.Action()}
}

func (r *paymentResolver) DeclineCode() *string  { return nonEmpty(r.a.DeclineCode) }
func (r *paymentResolver) BuyerMessage() *string { return nonEmpty(r.a.BuyerMessage) }

// MerchantMessage is the gateway's word to the shop: staff only.
func (r *paymentResolver) MerchantMessage() *string {
	if !r.staff {
		return nil
	}
	return nonEmpty(r.a.MerchantMessage)
}

func (r *paymentResolver) Order() *orderResolver           { return r.order }
func (r *paymentResolver) Events() []*paymentEventResolver { return r.events }
func (r *paymentResolver) CreatedAt() catalogTime          { return catalogTime{r.a.CreatedAt} }
func (r *paymentResolver) UpdatedAt() catalogTime          { return catalogTime{r.a.UpdatedAt} }

// paymentActionResolver resolves PaymentAction.
type paymentActionResolver struct{ a payment.Action }

func (r *paymentActionResolver) Type() string          { return string(r.a.Type) }
func (r *paymentActionResolver) URL() *string          { return nonEmpty(r.a.URL) }
func (r *paymentActionResolver) QrCode() *string       { return nonEmpty(r.a.QRCode) }
func (r *paymentActionResolver) ClientSecret() *string { return nonEmpty(r.a.ClientSecret) }
func (r *paymentActionResolver) Instructions() *string { return nonEmpty(r.a.Instructions) }

func (r *paymentActionResolver) ExpiresAt() *catalogTime {
	if r.a.ExpiresAt.IsZero() {
		return nil
	}
	return &catalogTime{r.a.ExpiresAt}
}

// paymentMethodResolver resolves PaymentMethod; plugin holds the gateway
// plugin's names and descriptions (nothing else of the catalog).
type paymentMethodResolver struct {
	m      payment.Method
	plugin plugin.Plugin
}

func (r *paymentMethodResolver) GatewayID() string { return r.m.GatewayID }
func (r *paymentMethodResolver) Method() *string   { return nonEmpty(r.m.Method) }
func (r *paymentMethodResolver) Name(args languageArg) string {
	return r.plugin.DisplayNameIn(str(args.Language))
}

// Description resolves PaymentMethod.description: the plugin's own words
// for buyers, localized as Name is.
func (r *paymentMethodResolver) Description(args languageArg) string {
	return r.plugin.DescriptionIn(str(args.Language))
}

func (r *paymentMethodResolver) ManualCapture() bool { return r.m.ManualCapture }

func (r *paymentMethodResolver) Actions() []string {
	out := make([]string, len(r.m.Actions))
	for i, a := range r.m.Actions {
		out[i] = string(a)
	}
	return out
}

// refundResolver resolves Refund; staff is true when the caller holds
// refund read: buyers see the amounts, state, lines and dates only.
type refundResolver struct {
	r     *payment.Refund
	staff bool
}

func (r *refundResolver) ID() gql.ID             { return gql.ID(r.r.ID) }
func (r *refundResolver) State() string          { return string(r.r.State) }
func (r *refundResolver) Amount() *moneyResolver { return newMoney(r.r.Amount()) }

func (r *refundResolver) Shipping() *moneyResolver {
	return newMoney(money.New(r.r.ShippingMinor, r.r.Currency))
}

func (r *refundResolver) ShippingTax() *moneyResolver {
	return newMoney(money.New(r.r.ShippingTaxMinor, r.r.Currency))
}

func (r *refundResolver) Lines() []*refundLineResolver {
	out := make([]*refundLineResolver, len(r.r.Lines))
	for i := range r.r.Lines {
		out[i] = &refundLineResolver{l: r.r.Lines[i], cur: r.r.Currency}
	}
	return out
}

func (r *refundResolver) PaymentID() gql.ID { return gql.ID(r.r.AttemptID) }
func (r *refundResolver) GatewayID() string { return r.r.GatewayID }

// staffOnly is s for staff, null for buyers and when s is empty.
func (r *refundResolver) staffOnly(s string) *string {
	if !r.staff {
		return nil
	}
	return nonEmpty(s)
}

func (r *refundResolver) Reason() *string          { return r.staffOnly(r.r.Reason) }
func (r *refundResolver) FailureCode() *string     { return r.staffOnly(r.r.FailureCode) }
func (r *refundResolver) MerchantMessage() *string { return r.staffOnly(r.r.MerchantMessage) }
func (r *refundResolver) Instructions() *string    { return r.staffOnly(r.r.Instructions) }
func (r *refundResolver) StaffID() *string         { return r.staffOnly(r.r.StaffID) }
func (r *refundResolver) CreatedAt() catalogTime   { return catalogTime{r.r.CreatedAt} }
func (r *refundResolver) UpdatedAt() catalogTime   { return catalogTime{r.r.UpdatedAt} }

// refundLineResolver resolves RefundLine.
type refundLineResolver struct {
	l   payment.RefundLine
	cur money.Currency
}

func (r *refundLineResolver) LineID() gql.ID         { return gql.ID(r.l.LineID) }
func (r *refundLineResolver) Quantity() int32        { return clampInt32(r.l.Quantity) }
func (r *refundLineResolver) Amount() *moneyResolver { return newMoney(money.New(r.l.Amount, r.cur)) }

// ledgerResolver resolves PaymentLedgerEntry.
type ledgerResolver struct{ e *payment.LedgerEntry }

func (r *ledgerResolver) ID() gql.ID             { return gql.ID(r.e.ID) }
func (r *ledgerResolver) Kind() string           { return string(r.e.Kind) }
func (r *ledgerResolver) Amount() *moneyResolver { return newMoney(r.e.Amount()) }
func (r *ledgerResolver) PaymentID() gql.ID      { return gql.ID(r.e.AttemptID) }
func (r *ledgerResolver) RefundID() *gql.ID      { return optionalID(r.e.RefundID) }
func (r *ledgerResolver) GatewayID() string      { return r.e.GatewayID }
func (r *ledgerResolver) GatewayRef() string     { return r.e.GatewayRef }
func (r *ledgerResolver) EventID() *gql.ID       { return optionalID(r.e.EventID) }
func (r *ledgerResolver) CreatedAt() catalogTime { return catalogTime{r.e.CreatedAt} }

// paymentEventResolver resolves PaymentEvent (staff only).
type paymentEventResolver struct{ e *payment.EventRecord }

func (r *paymentEventResolver) ID() gql.ID             { return gql.ID(r.e.ID) }
func (r *paymentEventResolver) GatewayID() string      { return r.e.GatewayID }
func (r *paymentEventResolver) GatewayEventID() string { return r.e.GatewayEventID }
func (r *paymentEventResolver) Type() string           { return r.e.Type }
func (r *paymentEventResolver) Source() string         { return r.e.Source }
func (r *paymentEventResolver) Outcome() string        { return string(r.e.Outcome) }
func (r *paymentEventResolver) Flag() *string          { return nonEmpty(r.e.FlagReason) }

// Amount is null when the gateway did not say (no currency recorded).
func (r *paymentEventResolver) Amount() *moneyResolver {
	cur, err := money.ParseCurrency(strings.TrimSpace(r.e.Currency))
	if err != nil || r.e.Currency == "" {
		return nil
	}
	return newMoney(money.New(r.e.AmountMinor, cur))
}

func (r *paymentEventResolver) OrderID() *gql.ID         { return optionalID(r.e.OrderID) }
func (r *paymentEventResolver) PaymentID() *gql.ID       { return optionalID(r.e.AttemptID) }
func (r *paymentEventResolver) RefundID() *gql.ID        { return optionalID(r.e.RefundID) }
func (r *paymentEventResolver) Detail() string           { return r.e.Detail }
func (r *paymentEventResolver) OccurredAt() *catalogTime { return optionalTime(r.e.OccurredAt) }
func (r *paymentEventResolver) ReceivedAt() catalogTime  { return catalogTime{r.e.ReceivedAt} }
func (r *paymentEventResolver) ResolvedAt() *catalogTime { return optionalTime(r.e.ResolvedAt) }
func (r *paymentEventResolver) ResolvedBy() *gql.ID      { return optionalID(&r.e.ResolvedBy) }
func (r *paymentEventResolver) ResolutionNote() string   { return r.e.ResolutionNote }

// optionalID resolves a nullable ID.
func optionalID(s *string) *gql.ID {
	if s == nil || *s == "" {
		return nil
	}
	id := gql.ID(*s)
	return &id
}

// orderPayments is what an Order shows of its payments, loaded for the
// orders of a response before their fields run (loadPayments). A nil one
// shows no payments: an order built where nobody loaded them (a
// checkout's payload: nothing was paid yet).
type orderPayments struct {
	payments []*paymentResolver
	refunds  []*refundResolver
	ledger   []*ledgerResolver
	amounts  *payment.Amounts
	// amountsRead says amounts were read for the caller (nil amounts
	// then mean no money moved), which amountOutstanding needs.
	amountsRead bool
}

// Payments resolves Order.payments.
func (r *orderResolver) Payments() []*paymentResolver {
	if r.pay == nil || r.pay.payments == nil {
		return []*paymentResolver{}
	}
	return r.pay.payments
}

// Refunds resolves Order.refunds.
func (r *orderResolver) Refunds() []*refundResolver {
	if r.pay == nil || r.pay.refunds == nil {
		return []*refundResolver{}
	}
	return r.pay.refunds
}

// PaymentLedger resolves Order.paymentLedger.
func (r *orderResolver) PaymentLedger() []*ledgerResolver {
	if r.pay == nil || r.pay.ledger == nil {
		return []*ledgerResolver{}
	}
	return r.pay.ledger
}

// amountOf is one of the order's amounts; null before money moved.
func (r *orderResolver) amountOf(pick func(a *payment.Amounts) money.Money) *moneyResolver {
	if r.pay == nil || r.pay.amounts == nil {
		return nil
	}
	return newMoney(pick(r.pay.amounts))
}

// AmountPaid resolves Order.amountPaid.
func (r *orderResolver) AmountPaid() *moneyResolver {
	return r.amountOf(func(a *payment.Amounts) money.Money { return a.Paid })
}

// AmountRefunded resolves Order.amountRefunded.
func (r *orderResolver) AmountRefunded() *moneyResolver {
	return r.amountOf(func(a *payment.Amounts) money.Money { return a.Refunded })
}

// AmountOutstanding resolves Order.amountOutstanding: null where the
// order's amounts were not read for the caller.
func (r *orderResolver) AmountOutstanding() *moneyResolver {
	if r.pay == nil || !r.pay.amountsRead {
		return nil
	}
	o := &payment.OrderInfo{Status: string(r.o.Status), PaymentStatus: payment.OrderPaymentStatus(r.o.PaymentStatus),
		Total: money.New(r.o.TotalAmount, r.o.Currency)}
	var paid money.Money
	if r.pay.amounts != nil {
		paid = r.pay.amounts.Paid
	}
	return newMoney(o.Outstanding(paid))
}

// AmountAuthorized resolves Order.amountAuthorized.
func (r *orderResolver) AmountAuthorized() *moneyResolver {
	return r.amountOf(func(a *payment.Amounts) money.Money { return a.Authorized })
}
