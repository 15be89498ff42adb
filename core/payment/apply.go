package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
)

// eventBankTransferConfirmed is the fact of a staff member confirming
// that a bank transfer arrived, with the amount received.
const eventBankTransferConfirmed = "bank_transfer.confirmed"

// fact is something learnt from a gateway, from any source: a verified
// notification, the answer of CreatePayment, GetPayment, CapturePayment,
// CancelPayment, Refund or GetRefund, a staff confirmation. Every fact
// goes through apply, so the same truth learnt twice changes nothing
// twice.
type fact struct {
	gatewayID string
	// eventID is the gateway's event id, or one derived from the state
	// reported ("reconcile:pay_…:SUCCEEDED"), unique per gateway.
	eventID string
	typ     string // an Event* constant or eventBankTransferConfirmed
	source  string // a Source* constant

	attemptID, gatewayRef      string
	refundID, gatewayRefundRef string
	// amount is what the gateway reported; the zero Money when it did
	// not say.
	amount money.Money
	// captured is the total captured at the gateway when it said (a
	// GetPayment or a capture's answer), else -1.
	captured int64
	// action is the buyer's pending action (requires_action).
	action      *Action
	declineCode string
	buyerMsg    string
	message     string
	occurredAt  time.Time
}

// saysAmount reports whether the gateway said how much: an amount or a
// currency. "0 CNY" is a statement (nothing taken), checked like any
// other; only the zero Money is silence.
func (f fact) saysAmount() bool { return !f.amount.IsZero() || !f.amount.Currency().IsZero() }

// applied is what apply did.
type applied struct {
	duplicate bool
	outcome   Outcome
	flag      string
	// refunds are refunds reserved while applying (money for a cancelled
	// order, refunded by the shop's policy): sent to the gateway after
	// commit.
	refunds []string
	// attempt is the attempt as applying left it, read once in the
	// transaction and kept up to date by its moves; nil for a duplicate,
	// an unknown attempt, or when applying changed it in ways it does not
	// track (refunds reserved or settled): read it again then.
	attempt *Attempt
}

// apply records f once and applies it, in one transaction (or the
// caller's): the event row first (a duplicate stops there), then the
// attempt's or refund's move, ledger rows and balance, the order's
// payment status. A loser of a race on the same order (STALE_STATE) rolls
// back and is retried a few times, so a notification racing the buyer's
// return gets no error.
func (s *Service) apply(ctx context.Context, f fact) (applied, error) {
	ctx = asSystem(ctx, "payment."+lower(f.source))
	var out applied
	var err error
	for range 4 {
		out = applied{}
		// One insert for the outbox events of the attempt's and the
		// order's moves.
		err = transition.RunBatched(ctx, s.db, func(ctx context.Context) error {
			var err error
			out, err = s.applyTx(ctx, f)
			return err
		})
		if err == nil || !transition.IsStale(err) {
			break
		}
	}
	if err != nil {
		return applied{}, fmt.Errorf("apply %s %s: %w", f.gatewayID, f.eventID, err)
	}
	if out.duplicate {
		return out, nil
	}
	for _, id := range out.refunds {
		if _, err := s.sendRefund(ctx, id, false); err != nil {
			// The refund is reserved and due: the reconciler sends it.
			s.log.WarnContext(ctx, "automatic refund not sent yet", "refund", id, "error", err)
		}
	}
	return out, nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (s *Service) applyTx(ctx context.Context, f fact) (applied, error) {
	att, ref, rec, fresh, err := s.recordFact(ctx, f)
	if err != nil {
		return applied{}, err
	}
	if !fresh {
		return applied{duplicate: true}, nil
	}
	out := applied{outcome: rec.Outcome, flag: rec.FlagReason}
	refused := expected(f, att)
	if refused.flag == "" {
		if refused, err = s.ownReference(ctx, f, att); err != nil {
			return applied{}, err
		}
	}
	if refused.flag != out.flag {
		// Recorded before the attempt was known (recordFact): the
		// refusal is written now.
		out = refused
		rec.Outcome, rec.FlagReason = out.outcome, out.flag
		if err := s.store.FinishEvent(ctx, rec); err != nil {
			return applied{}, err
		}
	}
	if out.flag == "" {
		refundID := rec.RefundID
		out, err = s.applyFact(ctx, f, att, ref, rec)
		if err != nil {
			return applied{}, err
		}
		if out.outcome != rec.Outcome || out.flag != rec.FlagReason || rec.RefundID != refundID {
			rec.Outcome, rec.FlagReason = out.outcome, out.flag
			if err := s.store.FinishEvent(ctx, rec); err != nil {
				return applied{}, err
			}
		}
	}
	if out.flag != "" {
		ev := FlaggedEvent{EventID: rec.ID, GatewayID: f.gatewayID, Reason: out.flag, Refunded: len(out.refunds) > 0}
		if att != nil {
			ev.OrderID, ev.AttemptID = att.OrderID, att.ID
		}
		if err := s.emit(ctx, SubjectFlagged, ev); err != nil {
			return applied{}, err
		}
		s.log.WarnContext(ctx, "gateway event flagged", "gateway", f.gatewayID, "event", f.eventID, "reason", out.flag)
	}
	switch f.typ {
	case EventPaymentSucceeded, EventPaymentAuthorized, EventPaymentFailed, EventPaymentCanceled, EventPaymentRequiresAction:
		if att != nil && len(out.refunds) == 0 {
			out.attempt = att
		}
	}
	return out, nil
}

// recordFact finds the attempt (and refund) f is about and records f's
// event row, inserted first in the transaction of ctx: fresh is false for
// a duplicate, which inserted nothing and stops there. The row holds the
// outcome expected (expected): a refusal known before applying, else
// APPLIED, updated only when applying turns out otherwise (ignored,
// flagged, a refund created). On PostgreSQL a fact naming its attempt
// reads it and inserts the row in one statement (AttemptAndEvent),
// the row then saying APPLIED until the caller checks it.
func (s *Service) recordFact(ctx context.Context, f fact) (att *Attempt, ref *Refund, rec *EventRecord, fresh bool, err error) {
	if s.db.Dialect == store.Postgres && f.attemptID != "" && f.refundID == "" && f.gatewayRefundRef == "" {
		rec = s.eventRecord(f, nil)
		var found bool
		att, fresh, found, err = s.store.AttemptAndEvent(ctx, rec, f.attemptID)
		if err != nil || found {
			if found {
				rec.OrderID, rec.AttemptID = &att.OrderID, &att.ID
			}
			return att, nil, rec, fresh, err
		}
		// Not an attempt of this gateway by Kassa's id: nothing was
		// written, and the gateway's reference is tried.
	}
	if att, ref, err = s.findTarget(ctx, f); err != nil {
		return nil, nil, nil, false, err
	}
	rec = s.eventRecord(f, att)
	if ref != nil {
		rec.RefundID = &ref.ID
	}
	out := expected(f, att)
	rec.Outcome, rec.FlagReason = out.outcome, out.flag
	fresh, err = s.store.InsertEvent(ctx, rec)
	return att, ref, rec, fresh, err
}

// expected is the outcome of f about att (nil: unknown) known before
// applying it: a refusal, else APPLIED.
func expected(f fact, att *Attempt) applied {
	switch {
	case att == nil:
		return applied{outcome: OutcomeRefused, flag: FlagUnknownAttempt}
	case !f.amount.Currency().IsZero() && f.amount.Currency() != att.Currency:
		return applied{outcome: OutcomeRefused, flag: FlagCurrencyMismatch}
	}
	return applied{outcome: OutcomeApplied}
}

// ownReference refuses a notification that names att by Kassa's id and a
// gateway payment that another attempt of the gateway holds: one payment
// must not pay two orders. A plugin that reads the attempt's id from a
// part of a notification its signature does not cover (PayPal's CRC-32
// forgery) or a gateway that lets the payer choose it would otherwise let
// one charge pay every order of the same amount. A reference that no
// attempt holds is the gateway's to give: Alipay names its trade only
// once paid, Stripe's hosted page is a session whose payment intent comes
// later. It costs a read only when the references differ. The answers
// to Kassa's own calls are about the attempt the call named, and are not
// checked.
func (s *Service) ownReference(ctx context.Context, f fact, att *Attempt) (applied, error) {
	if f.source != SourceWebhook || att == nil || f.gatewayRef == "" || f.gatewayRef == att.GatewayRef {
		return applied{outcome: OutcomeApplied}, nil
	}
	other, err := s.store.AttemptByRef(ctx, f.gatewayID, clip(f.gatewayRef, 200))
	switch {
	case errors.Is(err, errsNotFound):
		return applied{outcome: OutcomeApplied}, nil
	case err != nil:
		return applied{}, err
	case other.ID != att.ID:
		return applied{outcome: OutcomeRefused, flag: FlagReferenceInUse}, nil
	}
	return applied{outcome: OutcomeApplied}, nil
}

// eventRecord is the row of f about att (nil: an unknown attempt),
// expected to apply.
func (s *Service) eventRecord(f fact, att *Attempt) *EventRecord {
	rec := &EventRecord{
		ID: id.New("gev"), GatewayID: f.gatewayID, GatewayEventID: f.eventID, Type: f.typ, Source: f.source,
		AmountMinor: f.amount.Amount(), Currency: f.amount.Currency().Code(), Outcome: OutcomeApplied, ReceivedAt: s.now(),
		Detail: clip(f.message, 500),
	}
	if !f.occurredAt.IsZero() {
		t := f.occurredAt.UTC().Truncate(time.Microsecond)
		rec.OccurredAt = &t
	}
	if att != nil {
		rec.OrderID, rec.AttemptID = &att.OrderID, &att.ID
	}
	return rec
}

// findTarget finds the attempt (and the refund, for refund events) a fact
// is about: by Kassa's ids first, then by the gateway's references. An
// attempt of another gateway is not found: a gateway speaks for its own
// attempts only.
func (s *Service) findTarget(ctx context.Context, f fact) (*Attempt, *Refund, error) {
	var ref *Refund
	if f.refundID != "" || f.gatewayRefundRef != "" {
		r, err := s.store.Refund(ctx, f.refundID)
		if f.refundID == "" || errors.Is(err, errsNotFound) {
			r, err = nil, nil
			if f.gatewayRefundRef != "" {
				r, err = s.store.RefundByRef(ctx, f.gatewayID, f.gatewayRefundRef)
			}
		}
		switch {
		case err == nil && r != nil && r.GatewayID == f.gatewayID:
			ref = r
		case err != nil && !errors.Is(err, errsNotFound):
			return nil, nil, err
		}
	}
	attemptID := f.attemptID
	if ref != nil {
		attemptID = ref.AttemptID
	}
	var att *Attempt
	var err error
	if attemptID != "" {
		att, err = s.store.Attempt(ctx, attemptID)
	}
	if (att == nil || errors.Is(err, errsNotFound)) && f.gatewayRef != "" {
		att, err = s.store.AttemptByRef(ctx, f.gatewayID, f.gatewayRef)
	}
	switch {
	case errors.Is(err, errsNotFound) || att == nil:
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	case att.GatewayID != f.gatewayID:
		return nil, nil, nil
	}
	return att, ref, nil
}

// applyFact applies a fact about a known attempt.
func (s *Service) applyFact(ctx context.Context, f fact, att *Attempt, ref *Refund, rec *EventRecord) (applied, error) {
	switch f.typ {
	case EventPaymentSucceeded:
		if f.captured < 0 && f.saysAmount() && f.amount.Amount() != att.AmountMinor {
			return applied{outcome: OutcomeRefused, flag: FlagAmountMismatch}, nil
		}
		total := f.captured
		if total < 0 {
			total = att.Captured
			if total == 0 {
				total = att.AmountMinor
			}
		}
		return s.capture(ctx, f, att, total, rec, true)
	case eventBankTransferConfirmed:
		out, err := s.capture(ctx, f, att, att.Captured+f.amount.Amount(), rec, att.Captured+f.amount.Amount() >= att.AmountMinor)
		if err != nil || out.flag != "" {
			return out, err
		}
		switch total := att.Captured; {
		case total < att.AmountMinor:
			out.flag = FlagUnderpaid
		case total > att.AmountMinor:
			out.flag = FlagOverpaid
		}
		return out, nil
	case EventPaymentAuthorized:
		if f.saysAmount() && f.amount.Amount() != att.AmountMinor {
			return applied{outcome: OutcomeRefused, flag: FlagAmountMismatch}, nil
		}
		return s.authorize(ctx, f, att, rec)
	case EventPaymentFailed:
		if !att.State.Open() {
			return applied{outcome: OutcomeIgnored}, nil
		}
		att.DeclineCode, att.BuyerMessage, att.MerchantMessage = clip(f.declineCode, 100), clip(f.buyerMsg, 500), clip(f.message, 500)
		if err := s.moveAttempt(ctx, att, StateFailed, "declined: "+f.declineCode, "decline_code", "buyer_message", "merchant_message"); err != nil {
			return applied{}, err
		}
		return applied{outcome: OutcomeApplied}, s.syncOrder(ctx, att.OrderID, attemptReason(att.ID, "failed"))
	case EventPaymentCanceled:
		switch att.State {
		case StatePending, StateUnknown:
		case StateAuthorized:
			if _, err := s.ledger(ctx, att, nil, LedgerVoid, att.Authorized, rec); err != nil {
				return applied{}, err
			}
		default:
			return applied{outcome: OutcomeIgnored}, nil
		}
		if err := s.moveAttempt(ctx, att, StateCancelled, "closed at the gateway"); err != nil {
			return applied{}, err
		}
		return applied{outcome: OutcomeApplied}, s.syncOrder(ctx, att.OrderID, attemptReason(att.ID, "cancelled"))
	case EventPaymentRequiresAction:
		if !att.State.Open() {
			return applied{outcome: OutcomeIgnored}, nil
		}
		cols := []string{}
		// Instructions the buyer must follow away from the shop (a bank
		// transfer) are news for the notifications: the first time an
		// attempt gets them, kassa.payment.pending says so.
		newInstructions := false
		if f.action != nil && f.action.Type != "" {
			newInstructions = f.action.Type == ActionInstructions && att.ActionType != ActionInstructions
			setAction(att, *f.action)
			cols = append(cols, actionColumns...)
		}
		if f.gatewayRef != "" && att.GatewayRef == "" {
			att.GatewayRef = f.gatewayRef
			cols = append(cols, "gateway_ref")
		}
		if att.State == StateUnknown {
			return applied{outcome: OutcomeApplied}, s.moveAttempt(ctx, att, StatePending, "the gateway awaits the buyer", cols...)
		}
		if len(cols) == 0 {
			return applied{outcome: OutcomeIgnored}, nil
		}
		att.UpdatedAt = s.now()
		if err := s.store.UpdateAttempt(ctx, att, cols...); err != nil {
			return applied{}, err
		}
		if newInstructions && att.State == StatePending {
			if err := s.emit(ctx, SubjectPending, AttemptEvent{AttemptID: att.ID, OrderID: att.OrderID, GatewayID: att.GatewayID,
				Amount: att.Amount(), From: string(StatePending), To: string(StatePending)}); err != nil {
				return applied{}, err
			}
		}
		return applied{outcome: OutcomeApplied}, nil
	case EventRefundSucceeded:
		return s.refundSucceeded(ctx, f, att, ref, rec)
	case EventRefundFailed:
		if ref == nil || (ref.State != RefundStatePending && ref.State != RefundStateUnknown) {
			return applied{outcome: OutcomeIgnored}, nil
		}
		ref.FailureCode, ref.MerchantMessage = clip(f.declineCode, 100), clip(f.message, 500)
		if err := s.store.Release(ctx, ref, false, s.now()); err != nil {
			return applied{}, err
		}
		if err := s.moveRefund(ctx, ref, att, RefundStateFailed, "failure_code", "merchant_message"); err != nil {
			return applied{}, err
		}
		return applied{outcome: OutcomeApplied}, nil
	case EventDisputeOpened, EventDisputeClosed:
		return applied{outcome: OutcomeIgnored, flag: FlagDispute}, nil
	}
	return applied{outcome: OutcomeIgnored}, nil
}

var actionColumns = []string{"action_type", "action_url", "action_qr_code", "action_secret", "action_text", "action_expires_at"}

func setAction(a *Attempt, act Action) {
	a.ActionType, a.ActionURL, a.ActionQRCode = act.Type, clip(act.URL, 4000), clip(act.QRCode, 4000)
	a.ActionSecret, a.ActionText = clip(act.ClientSecret, 1000), clip(act.Instructions, 4000)
	a.ActionExpiresAt = nil
	if !act.ExpiresAt.IsZero() {
		t := act.ExpiresAt.UTC().Truncate(time.Microsecond)
		a.ActionExpiresAt = &t
	}
}

// capture brings the attempt's captured money up to total (the
// gateway's truth; never down: a capture is not undone by a later,
// contradicting fact), and moves it to CAPTURED when paid says the
// attempt is paid. Money arriving for a cancelled order is flagged and,
// by the shop's setting, refunded; money for an order another attempt
// already paid is flagged, unless it is the rest of a PARTIALLY_PAID
// order (paysTheRest).
func (s *Service) capture(ctx context.Context, f fact, att *Attempt, total int64, rec *EventRecord, paid bool) (applied, error) {
	delta := total - att.Captured
	if delta <= 0 && (att.State == StateCaptured || !paid) {
		if att.State == StateCaptured && f.typ == EventPaymentSucceeded && f.source != SourceStaff {
			// The gateway's own capture of an attempt whose money staff
			// booked by hand (a bank transfer confirmed on it before
			// confirmations were limited to offline gateways): the
			// gateway's money is more money, never the same.
			byHand, err := s.store.ConfirmedByHand(ctx, att.ID)
			if err != nil {
				return applied{}, err
			}
			if byHand {
				return applied{outcome: OutcomeApplied, flag: FlagDuplicatePayment}, nil
			}
		}
		return applied{outcome: OutcomeIgnored}, nil
	}
	o, err := s.orders.Order(ctx, att.OrderID)
	if err != nil {
		return applied{}, err
	}
	firstCapture := att.Captured == 0
	cols := []string{}
	if f.gatewayRef != "" && att.GatewayRef == "" {
		att.GatewayRef = f.gatewayRef
		cols = append(cols, "gateway_ref")
	}
	// bal is the order's balance after this capture's ledger rows, from
	// their own upsert: their write holds the balance row, so it is the
	// order's money as this transaction commits it.
	var bal *Balance
	if delta > 0 {
		wasAuthorized := att.State == StateAuthorized
		att.Captured = total
		cols = append(cols, "captured_amount")
		if bal, err = s.ledger(ctx, att, nil, LedgerCapture, delta, rec); err != nil {
			return applied{}, err
		}
		// A partial capture releases the rest of the authorization.
		if wasAuthorized && paid && att.Authorized > total {
			if bal, err = s.ledger(ctx, att, nil, LedgerVoid, att.Authorized-total, rec); err != nil {
				return applied{}, err
			}
		}
	}
	if paid && att.State != StateCaptured {
		if err := s.moveAttempt(ctx, att, StateCaptured, "captured", cols...); err != nil {
			return applied{}, err
		}
	} else if len(cols) > 0 {
		att.UpdatedAt = s.now()
		if err := s.store.UpdateAttempt(ctx, att, cols...); err != nil {
			return applied{}, err
		}
	}
	var b Balance
	if bal != nil {
		b = *bal
	} else {
		// No money moved here (the attempt only moves to CAPTURED): the
		// balance is read.
		balances, err := s.store.Balances(ctx, []string{att.OrderID})
		if err != nil {
			return applied{}, err
		}
		if len(balances) == 1 {
			b = *balances[0]
		}
	}
	alreadyPaid := firstCapture && b.Captured-max(delta, 0) > 0 && !paysTheRest(o, b)
	out := applied{outcome: OutcomeApplied}
	switch {
	case o.Status == OrderCancelled && delta > 0:
		out.flag = FlagCancelledOrder
		set, err := s.settings.Settings(ctx)
		if err != nil {
			return applied{}, err
		}
		if set.RefundCancelledOrderPayments {
			r, err := s.reserveRefund(ctx, att, delta, "money arrived for a cancelled order", "")
			if err != nil {
				return applied{}, err
			}
			if r != nil {
				out.refunds = append(out.refunds, r.ID)
			}
		}
	case alreadyPaid && delta > 0:
		// A second payment of the order (two payment pages paid before the
		// other was closed, CloseSuperseded), or of more than the rest of
		// a PARTIALLY_PAID order: flagged for staff, not refunded here. A
		// refund would move the order to PARTIALLY_REFUNDED although it is
		// paid in full.
		out.flag = FlagDuplicatePayment
	case paid && delta > 0 && total < att.AmountMinor:
		// Less was taken than the attempt asked and the rest is released
		// (a partial capture): staff settle what the buyer still owes.
		out.flag = FlagUnderpaid
	}
	reason := attemptReason(att.ID, "captured")
	if att.State != StateCaptured {
		return out, s.syncOrder(ctx, att.OrderID, reason)
	}
	// The order and its balance are known here, and a captured attempt
	// settles what the others would say: syncOrder would read all three
	// again. The refund reserved for a cancelled order moves no money
	// until it is sent, after commit.
	target := orderTarget(o, nil, b, true)
	paidWith(o, target, att.GatewayID)
	return out, s.moveOrder(ctx, o, target, reason)
}

// paysTheRest reports whether money just captured, b being the order's
// balance with it, is the rest of o, PARTIALLY_PAID as this transaction
// read it: what was captured in all reaches at most o's total. It is then
// the buyer paying what they still owed (Create asks it of such an
// order), no second payment, and the order becomes PAID when the total is
// reached. More than the total is a payment beyond what was owed. On
// PostgreSQL two captures racing on one order take turns on its balance
// row, and the loser's move of the order from PARTIALLY_PAID fails
// (STALE_STATE) and is applied again with the order as it then stands.
func paysTheRest(o *OrderInfo, b Balance) bool {
	return o.PaymentStatus == OrderPaymentPartiallyPaid && b.Captured <= o.Total.Amount()
}

// authorize records an authorization.
func (s *Service) authorize(ctx context.Context, f fact, att *Attempt, rec *EventRecord) (applied, error) {
	switch att.State {
	case StatePending, StateUnknown, StateFailed:
	default:
		return applied{outcome: OutcomeIgnored}, nil
	}
	cols := []string{"authorized_amount"}
	if f.gatewayRef != "" && att.GatewayRef == "" {
		att.GatewayRef = f.gatewayRef
		cols = append(cols, "gateway_ref")
	}
	att.Authorized = att.AmountMinor
	if _, err := s.ledger(ctx, att, nil, LedgerAuthorization, att.Authorized, rec); err != nil {
		return applied{}, err
	}
	if err := s.moveAttempt(ctx, att, StateAuthorized, "authorized", cols...); err != nil {
		return applied{}, err
	}
	return applied{outcome: OutcomeApplied}, s.syncOrder(ctx, att.OrderID, attemptReason(att.ID, "authorized"))
}

// refundSucceeded settles a refund. A refund reported before the payment
// it refunds (events out of order) implies the payment was captured: the
// capture is applied first. A refund made at the gateway, unknown to
// Kassa, is recorded when what is left to refund covers it.
func (s *Service) refundSucceeded(ctx context.Context, f fact, att *Attempt, ref *Refund, rec *EventRecord) (applied, error) {
	if ref != nil && ref.State == RefundStateSucceeded {
		return applied{outcome: OutcomeIgnored}, nil
	}
	if ref != nil && f.saysAmount() && f.amount.Amount() != ref.AmountMinor {
		return applied{outcome: OutcomeRefused, flag: FlagAmountMismatch}, nil
	}
	if ref == nil {
		// A refund made at the gateway: judged before anything moves,
		// against what the attempt holds or will hold once its capture,
		// reported late, is applied below. A refused one changes nothing.
		refundable := att.Refundable()
		if att.Captured == 0 {
			refundable += att.AmountMinor
		}
		if amount := f.amount.Amount(); amount <= 0 || amount > refundable {
			return applied{outcome: OutcomeRefused, flag: FlagRefundExceedsCaptured}, nil
		}
	}
	out := applied{outcome: OutcomeApplied}
	if att.Captured == 0 {
		c, err := s.capture(ctx, f, att, att.AmountMinor, rec, true)
		if err != nil {
			return applied{}, err
		}
		out.flag, out.refunds = c.flag, c.refunds
		if att, err = s.store.Attempt(ctx, att.ID); err != nil {
			return applied{}, err
		}
	}
	now := s.now()
	if ref == nil {
		amount := f.amount.Amount()
		if amount <= 0 || amount > att.Refundable() {
			return applied{outcome: OutcomeRefused, flag: FlagRefundExceedsCaptured}, nil
		}
		ref = &Refund{ID: id.New("ref"), OrderID: att.OrderID, AttemptID: att.ID, GatewayID: att.GatewayID,
			AmountMinor: amount, Currency: att.Currency, State: RefundStateSucceeded, Reason: reasonRefundedAtGateway,
			GatewayRefundRef: clip(f.gatewayRefundRef, 200), CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertRefund(ctx, ref); err != nil {
			return applied{}, err
		}
		if err := s.store.AddRefunded(ctx, att.ID, amount, now); err != nil {
			return applied{}, err
		}
		if _, err := s.ledger(ctx, att, ref, LedgerRefund, amount, rec); err != nil {
			return applied{}, err
		}
		if err := s.emit(ctx, SubjectRefundSucceeded, RefundEvent{RefundID: ref.ID, AttemptID: att.ID, OrderID: att.OrderID,
			GatewayID: att.GatewayID, Amount: ref.Amount(), From: "", To: string(RefundStateSucceeded)}); err != nil {
			return applied{}, err
		}
		rec.RefundID = &ref.ID
		if out.flag == "" {
			out.flag = FlagRefundedAtGateway
		}
	} else {
		if err := s.store.Release(ctx, ref, true, now); err != nil {
			return applied{}, err
		}
		if _, err := s.ledger(ctx, att, ref, LedgerRefund, ref.AmountMinor, rec); err != nil {
			return applied{}, err
		}
		cols := []string{}
		if f.gatewayRefundRef != "" && ref.GatewayRefundRef == "" {
			ref.GatewayRefundRef = clip(f.gatewayRefundRef, 200)
			cols = append(cols, "gateway_refund_ref")
		}
		if err := s.moveRefund(ctx, ref, att, RefundStateSucceeded, cols...); err != nil {
			return applied{}, err
		}
	}
	return out, s.syncOrder(ctx, att.OrderID, refundReason(ref.ID))
}

// ledger writes a ledger row and its balance, and returns the balance as
// it then stands (nil when amount is not positive and nothing is written).
func (s *Service) ledger(ctx context.Context, att *Attempt, ref *Refund, kind LedgerKind, amount int64, rec *EventRecord) (*Balance, error) {
	if amount <= 0 {
		return nil, nil
	}
	e := &LedgerEntry{ID: id.New("pld"), OrderID: att.OrderID, AttemptID: att.ID, Kind: kind, AmountMinor: amount,
		Currency: att.Currency, GatewayID: att.GatewayID, GatewayRef: att.GatewayRef, CreatedAt: s.now()}
	if ref != nil {
		e.RefundID = &ref.ID
	}
	if rec != nil {
		e.EventID = &rec.ID
	}
	return s.store.AddLedger(ctx, e)
}

// moveAttempt moves an attempt through its machine, writing the named
// columns with it; a final state ends its reconciliation.
// The columns ride in the move's conditional UPDATE: they change only
// when the state does, in one statement.
func (s *Service) moveAttempt(ctx context.Context, att *Attempt, to State, reason string, cols ...string) error {
	from := att.State
	now := s.now()
	next, nextChanged := att.NextCheckAt, false
	if !to.Open() {
		next, nextChanged = nil, true
	} else if att.NextCheckAt == nil {
		t := s.nextCheck(now, att.CheckCount)
		next, nextChanged = &t, true
	}
	set := s.store.attemptColumns(att, cols...)
	set = append(set, transition.Column{Name: "updated_at", Value: now})
	if nextChanged {
		set = append(set, transition.Column{Name: "next_check_at", Value: next})
	}
	_, err := s.attempts.Apply(ctx, transition.Move[State]{ID: att.ID, From: from, To: to, Reason: clip(reason, 200),
		Payload: AttemptEvent{AttemptID: att.ID, OrderID: att.OrderID, GatewayID: att.GatewayID, Amount: att.Amount(),
			From: string(from), To: string(to), DeclineCode: att.DeclineCode}, Set: set})
	if err != nil {
		return err
	}
	s.observeAttempt(ctx, att.GatewayID, to)
	att.State, att.UpdatedAt, att.NextCheckAt = to, now, next
	return nil
}

// moveRefund moves a refund through its machine.
func (s *Service) moveRefund(ctx context.Context, ref *Refund, att *Attempt, to RefundState, cols ...string) error {
	from := ref.State
	_, err := s.refunds.Apply(ctx, transition.Move[RefundState]{ID: ref.ID, From: from, To: to,
		Payload: RefundEvent{RefundID: ref.ID, AttemptID: att.ID, OrderID: ref.OrderID, GatewayID: ref.GatewayID,
			Amount: ref.Amount(), From: string(from), To: string(to), FailureCode: ref.FailureCode}})
	if err != nil {
		return err
	}
	ref.State = to
	ref.UpdatedAt = s.now()
	if to == RefundStateSucceeded || to == RefundStateFailed {
		ref.NextCheckAt = nil
		cols = append(cols, "next_check_at")
	}
	return s.store.UpdateRefund(ctx, ref, cols...)
}

// syncOrder moves the order's payment status to where its attempts and
// balance say the money stands. A decline leaves the order PENDING: the
// buyer may try again until the deadline, and the deadline closer
// cancels PENDING orders only.
func (s *Service) syncOrder(ctx context.Context, orderID, reason string) error {
	o, err := s.orders.Order(ctx, orderID)
	if err != nil {
		return err
	}
	atts, err := s.store.AttemptsOfOrders(ctx, []string{orderID})
	if err != nil {
		return err
	}
	bs, err := s.store.Balances(ctx, []string{orderID})
	if err != nil {
		return err
	}
	var b Balance
	if len(bs) == 1 {
		b = *bs[0]
	}
	target := orderTarget(o, atts, b, false)
	paidWith(o, target, moneyHeldBy(atts))
	return s.moveOrder(ctx, o, target, reason)
}

// paidWith makes gatewayID o's payment method when the move to target is
// the one of money taken (held, captured in part or in full): the order
// names the gateway that has its money, whichever the buyer chose last.
func paidWith(o *OrderInfo, target OrderPaymentStatus, gatewayID string) {
	switch target {
	case OrderPaymentAuthorized, OrderPaymentPartiallyPaid, OrderPaymentPaid:
		if gatewayID != "" {
			o.PaymentMethod = gatewayID
		}
	}
}

// moneyHeldBy is the gateway of the attempt among atts that last took
// money (captured, authorized, or open with part of it received), "" when
// none did.
func moneyHeldBy(atts []*Attempt) string {
	var last *Attempt
	for _, a := range atts {
		took := a.State == StateCaptured || a.State == StateAuthorized || (a.State.Open() && a.Captured > 0)
		if took && (last == nil || a.UpdatedAt.After(last.UpdatedAt)) {
			last = a
		}
	}
	if last == nil {
		return ""
	}
	return last.GatewayID
}

// orderTarget is the payment status the order o should have by its
// attempts and balance b, or "" to leave it as it is; captured says an
// attempt is known to be captured without atts. Money captured short of
// the order's total (a partial capture) is PARTIALLY_PAID, never PAID;
// so is part of a bank transfer confirmed on an attempt still open for
// the rest. The order then owes the rest (amountOutstanding) by any
// method, and no payment deadline cancels it with the buyer's money in.
func orderTarget(o *OrderInfo, atts []*Attempt, b Balance, captured bool) OrderPaymentStatus {
	var authorized, open, received, voided bool
	for _, a := range atts {
		switch {
		case a.State == StateCaptured:
			captured = true
		case a.State == StateAuthorized:
			authorized = true
		case a.State.Open():
			open = true
			received = received || a.Captured > 0
		case a.State == StateCancelled && a.Authorized > 0:
			voided = true
		}
	}
	switch {
	case captured && b.Refunded >= b.Captured:
		return OrderPaymentRefunded
	case captured && b.Refunded > 0:
		return OrderPaymentPartiallyRefunded
	case captured && b.Captured < o.Total.Amount():
		return OrderPaymentPartiallyPaid
	case captured:
		return OrderPaymentPaid
	case received && b.Captured > 0:
		return OrderPaymentPartiallyPaid
	case authorized:
		return OrderPaymentAuthorized
	case open:
		return ""
	case voided && o.PaymentStatus == OrderPaymentAuthorized:
		return OrderPaymentVoided
	}
	return ""
}

// moveOrder moves the order's payment status to target, if it is not
// there already ("" leaves it).
func (s *Service) moveOrder(ctx context.Context, o *OrderInfo, target OrderPaymentStatus, reason string) error {
	if target == "" || target == o.PaymentStatus {
		return nil
	}
	from := o.PaymentStatus
	err := s.orders.MovePayment(ctx, o, target, reason)
	if transition.IsInvalid(err) {
		// The order's table has no way there (money after a void): the
		// ledger holds the truth, and the event is flagged by its caller
		// when it matters.
		s.log.WarnContext(ctx, "order payment status cannot follow the payments", "order", o.ID,
			"from", from, "to", target)
		return nil
	}
	return err
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
