package payment

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
)

// CaptureInput captures an authorized attempt.
type CaptureInput struct {
	AttemptID string
	// Amount is what to capture, at most what was authorized; nil
	// captures all of it. The rest of the authorization is released.
	Amount *money.Money
	// IdempotencyKey makes a retry return the first capture. Required.
	IdempotencyKey string
}

// Capture captures an AUTHORIZED attempt, fully or partly. Needs payment
// write. The gateway's key is derived from the attempt ("capture:pay_…"),
// so retries never capture twice. Codes: PAYMENT_NOT_FOUND,
// PAYMENT_NOT_AUTHORIZED, CAPTURE_EXCEEDS_AUTHORIZED, INVALID_AMOUNT,
// GATEWAY_REFUSED, PAYMENT_OUTCOME_UNKNOWN (retry later), the plugin's
// and the idempotency codes.
func (s *Service) Capture(ctx context.Context, in CaptureInput) (*Attempt, error) {
	att, err := s.staffAttempt(ctx, in.AttemptID, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	amount := att.Authorized
	if in.Amount != nil {
		amount = in.Amount.Amount()
		switch {
		case in.Amount.Currency() != att.Currency || amount <= 0:
			return nil, errs.Invalid("amount", CodeInvalidAmount, "a positive amount in "+att.Currency.Code())
		case amount > att.Authorized:
			return nil, errs.Invalid("amount", CodeCaptureExceedsAuthorized, fmt.Sprintf("at most %s was authorized", money.New(att.Authorized, att.Currency)))
		}
	}
	if err := s.once(ctx, "payment.capture", in.IdempotencyKey, att.ID+"\x00"+strconv.FormatInt(amount, 10), func(ctx context.Context) error {
		cur, err := s.store.Attempt(ctx, att.ID)
		if err == nil && cur.State != StateAuthorized {
			return notAuthorized(cur)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if att.State != StateAuthorized {
		// A repeat of a capture that was made: its attempt as it stands.
		return att, nil
	}
	gw, err := s.gateways.InstalledGateway(ctx, att.GatewayID)
	if err != nil {
		return nil, err
	}
	res, err := gw.CapturePayment(ctx, CaptureRequest{AttemptID: att.ID, GatewayRef: att.GatewayRef,
		Amount: money.New(amount, att.Currency), IdempotencyKey: "capture:" + att.ID})
	switch {
	case errors.Is(err, ErrOutcomeUnknown):
		return nil, outcomeUnknown("capture")
	case err != nil:
		return nil, err
	case res.Status != StatusSucceeded:
		return nil, errs.Conflict("", CodeGatewayRefused, fmt.Sprintf("the gateway refused the capture: %s %s", res.DeclineCode, res.MerchantMessage))
	}
	captured := res.Captured
	if captured <= 0 {
		captured = amount
	}
	f := fact{gatewayID: att.GatewayID, source: SourceStaff, eventID: "capture:" + att.ID, typ: EventPaymentSucceeded,
		attemptID: att.ID, gatewayRef: att.GatewayRef, captured: captured}
	if _, err := s.apply(ctx, f); err != nil {
		return nil, err
	}
	return s.store.Attempt(ctx, att.ID)
}

// VoidInput voids an authorized attempt.
type VoidInput struct {
	AttemptID string
	// IdempotencyKey makes a retry return the first void. Required.
	IdempotencyKey string
}

// Void releases an AUTHORIZED attempt's funds (CancelPayment at the
// gateway; the key is "void:pay_…"); the order's payment becomes VOIDED.
// Needs payment write. When the gateway says the payment was captured
// meanwhile, the capture is applied and the attempt returned CAPTURED.
// Codes as Capture.
func (s *Service) Void(ctx context.Context, in VoidInput) (*Attempt, error) {
	att, err := s.staffAttempt(ctx, in.AttemptID, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	if err := s.once(ctx, "payment.void", in.IdempotencyKey, att.ID, func(ctx context.Context) error {
		cur, err := s.store.Attempt(ctx, att.ID)
		if err == nil && cur.State != StateAuthorized {
			return notAuthorized(cur)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if att.State != StateAuthorized {
		return att, nil // a repeat
	}
	gw, err := s.gateways.InstalledGateway(ctx, att.GatewayID)
	if err != nil {
		return nil, err
	}
	res, err := gw.CancelPayment(ctx, CancelRequest{AttemptID: att.ID, GatewayRef: att.GatewayRef, IdempotencyKey: "void:" + att.ID, Reason: "voided by staff"})
	switch {
	case errors.Is(err, ErrOutcomeUnknown):
		return nil, outcomeUnknown("void")
	case err != nil:
		return nil, err
	}
	f := fact{gatewayID: att.GatewayID, source: SourceStaff, attemptID: att.ID, gatewayRef: att.GatewayRef, captured: -1}
	switch res.Status {
	case CancelCanceled:
		f.typ, f.eventID = EventPaymentCanceled, "void:"+att.ID
	case CancelAlreadyPaid:
		f.typ, f.eventID = EventPaymentSucceeded, "void:"+att.ID+":ALREADY_PAID"
	default:
		return nil, errs.Conflict("", CodeGatewayRefused, fmt.Sprintf("the gateway refused the void: %s %s", res.Code, res.MerchantMessage))
	}
	if _, err := s.apply(ctx, f); err != nil {
		return nil, err
	}
	return s.store.Attempt(ctx, att.ID)
}

// ConfirmInput confirms money received by bank transfer (or another
// offline method).
type ConfirmInput struct {
	OrderID string
	// AttemptID names the attempt; empty takes the order's latest attempt
	// not yet paid.
	AttemptID string
	// Amount is what arrived, in the order's currency.
	Amount money.Money
	// IdempotencyKey makes a retry confirm once. Required.
	IdempotencyKey string
}

// ConfirmBankTransfer records money received outside any gateway call
// (a bank transfer staff saw arrive), on an attempt of a gateway that
// declares itself offline (CapManualConfirmation: the gateway never
// learns that the buyer paid): a card or wallet gateway reports its own
// money, and booking it by hand would count it twice or hide a second
// payment. Needs payment write. The amount
// received is captured; the attempt is paid when the money received
// reaches what it asked, and an under- or over-payment is flagged
// (UNDERPAID, OVERPAID) for staff; a later confirmation adds to an
// underpaid one. Money for a cancelled order is flagged (and refunded
// when the shop says so). Without AttemptID the order's latest open
// attempt of an offline gateway is taken, else its latest closed one
// (a transfer arriving after the order was cancelled). Codes:
// ORDER_NOT_FOUND, PAYMENT_NOT_FOUND, NO_OPEN_PAYMENT (no attempt of an
// offline gateway), PAYMENT_NOT_OFFLINE (the attempt named is another
// gateway's), PAYMENT_ALREADY_CAPTURED (its money is in: a refund or a
// new attempt is what is needed), INVALID_AMOUNT, the gateway lookup's
// and the idempotency codes.
func (s *Service) ConfirmBankTransfer(ctx context.Context, in ConfirmInput) (*Attempt, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Write); err != nil {
		return nil, err
	}
	if err := validKey(in.IdempotencyKey); err != nil {
		return nil, err
	}
	o, err := s.orders.Order(ctx, in.OrderID)
	if errors.Is(err, errsNotFound) {
		return nil, orderNotFound()
	}
	if err != nil {
		return nil, err
	}
	if in.Amount.Currency() != o.Total.Currency() || !in.Amount.IsPositive() {
		return nil, errs.Invalid("amount", CodeInvalidAmount, "a positive amount in "+o.Total.Currency().Code())
	}
	atts, err := s.store.AttemptsOfOrders(ctx, []string{o.ID})
	if err != nil {
		return nil, err
	}
	att, err := s.offlineAttempt(ctx, o, atts, in.AttemptID)
	if err != nil {
		return nil, err
	}
	f := fact{gatewayID: att.GatewayID, source: SourceStaff, eventID: "confirm:" + att.ID + ":" + in.IdempotencyKey,
		typ: eventBankTransferConfirmed, attemptID: att.ID, amount: in.Amount, captured: -1,
		message: "confirmed by " + authz.SubjectFrom(ctx).ID}
	var out applied
	sys := asSystem(ctx, "payment.staff")
	err = s.once(sys, "payment.confirm", in.IdempotencyKey, att.ID+"\x00"+in.Amount.String(), func(ctx context.Context) error {
		// The attempt as it stands under the key: a confirmation after
		// the money was in is refused (a repeat of one is answered above).
		cur, err := s.store.Attempt(ctx, att.ID)
		if err != nil {
			return err
		}
		if cur.State == StateCaptured || cur.State == StateAuthorized {
			return alreadyCaptured(cur)
		}
		out, err = s.applyTx(ctx, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, id := range out.refunds {
		if _, err := s.sendRefund(sys, id, false); err != nil {
			s.log.WarnContext(ctx, "automatic refund not sent yet", "refund", id, "error", err)
		}
	}
	return s.store.Attempt(ctx, att.ID)
}

// offlineAttempt finds the attempt a bank transfer confirmation books
// money on (ConfirmBankTransfer): the one named, which must be of an
// offline gateway, or else the order's latest open attempt of an offline
// gateway, its latest closed one, or its latest paid one. Whether the
// attempt may still take money is checked under the idempotency key, so
// that a repeat is answered.
func (s *Service) offlineAttempt(ctx context.Context, o *OrderInfo, atts []*Attempt, attemptID string) (*Attempt, error) {
	offline := map[string]bool{}
	isOffline := func(a *Attempt) (bool, error) {
		ok, seen := offline[a.GatewayID]
		if seen {
			return ok, nil
		}
		gw, err := s.gateways.InstalledGateway(ctx, a.GatewayID)
		if err != nil {
			return false, err
		}
		offline[a.GatewayID] = gw.Supports(CapManualConfirmation)
		return offline[a.GatewayID], nil
	}
	if attemptID != "" {
		for _, a := range atts {
			if a.ID != attemptID {
				continue
			}
			ok, err := isOffline(a)
			switch {
			case err != nil:
				return nil, err
			case !ok:
				return nil, errs.Conflict("attemptId", CodeNotOffline, fmt.Sprintf("payment %s is a %s payment: its gateway reports the money it takes; only offline payments (bank transfers) are confirmed by hand", a.ID, a.GatewayID))
			}
			return a, nil
		}
		return nil, attemptNotFound()
	}
	// Open first, then closed; a paid one last, which the confirmation
	// refuses (PAYMENT_ALREADY_CAPTURED) unless it repeats one made.
	var closed, paid *Attempt
	for i := len(atts) - 1; i >= 0; i-- {
		a := atts[i]
		ok, err := isOffline(a)
		if err != nil && !errors.Is(err, errsNotFound) {
			return nil, err
		}
		switch {
		case !ok:
		case a.State.Open():
			return a, nil
		case a.State == StateCaptured || a.State == StateAuthorized:
			if paid == nil {
				paid = a
			}
		case closed == nil:
			closed = a
		}
	}
	switch {
	case closed != nil:
		return closed, nil
	case paid != nil:
		return paid, nil
	}
	return nil, errs.Conflict("orderId", CodeNoOpenAttempt, fmt.Sprintf("order %s has no bank transfer waiting for money", o.Number))
}

func alreadyCaptured(a *Attempt) *errs.Error {
	return errs.Conflict("attemptId", CodeAlreadyCaptured, fmt.Sprintf("payment %s is %s: its money is in already", a.ID, a.State))
}

// validKey checks a required idempotency key.
func validKey(key string) error {
	if !idempotency.ValidKey(key) {
		return errs.Invalid(idempotency.Field, idempotency.CodeInvalidKey, "an idempotency key of 1 to 255 printable ASCII characters is required")
	}
	return nil
}

// once records the key for the request (IDEMPOTENCY_KEY_REUSED for the
// same key with another request) and runs fn in its transaction the
// first time only.
func (s *Service) once(ctx context.Context, scope, key, request string, fn func(ctx context.Context) error) error {
	_, err := s.keys.Do(ctx, scope, key, []byte(request), func(ctx context.Context) ([]byte, error) {
		return []byte{}, fn(ctx)
	})
	return err
}

// staffAttempt is the start of a staff move on an attempt: payment write,
// a well-formed idempotency key, the attempt read.
func (s *Service) staffAttempt(ctx context.Context, attemptID, key string) (*Attempt, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Write); err != nil {
		return nil, err
	}
	if err := validKey(key); err != nil {
		return nil, err
	}
	return s.store.Attempt(ctx, attemptID)
}
