package payment

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/kit/peer"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
)

// Limits of the inputs.
const (
	MaxURL    = 2048
	MaxReason = 500
	MaxHint   = 200
)

// CreateInput starts a payment of an order.
type CreateInput struct {
	// OrderID names the order (a signed-in buyer's or, for staff, any);
	// a guest names it by AccessToken instead.
	OrderID     string
	AccessToken string
	// GatewayID is the gateway plugin chosen, one of AvailableMethods.
	GatewayID string
	// Method is a routed payment method chosen instead of a gateway
	// ("card", one of AvailableMethods' Method): the shop's routes pick
	// the gateway, and the next one when the first provably received
	// nothing (routing.go). Give GatewayID or Method, not both.
	Method string
	// ReturnURL is where the gateway sends the buyer back: an absolute
	// http(s) URL on the shop's public origin (Options.PublicURL) or one
	// of its storefront origins (shop.Settings.StorefrontOrigins), so
	// that nobody can make the shop's gateway pages send buyers to a
	// site of their choosing. Coming back is never proof of payment.
	ReturnURL string
	// PaymentMethod is an optional hint for the gateway ("card", a
	// gateway token); never a card number.
	PaymentMethod string
	// ManualCapture asks for an authorization to be captured later by
	// staff, when the gateway can. Only callers with payment write (staff,
	// API keys) choose it; a buyer's payment follows the shop's
	// PaymentCaptureMode, whatever they send: holding the money is the
	// merchant's decision, and an authorized order keeps its stock until
	// staff act.
	ManualCapture bool
	// Locale is the buyer's language (BCP 47), for the gateway's pages.
	Locale string
	// IdempotencyKey makes a retried request return the first attempt
	// instead of starting another. Optional. A buyer's keys are their own
	// (idempotency.OwnerOf: the signed-in buyer, or a guest's access
	// token); staff and API keys share the shop's.
	IdempotencyKey string

	// capture is how the attempt captures when its gateway can hold the
	// money, as Create decides it from ManualCapture and the shop's mode.
	capture CaptureMethod
}

// Create starts a payment attempt of an order through a gateway and
// returns it with the action to show the buyer. Needs payment write
// (staff) or payment write:own (the order's buyer; a guest by access
// token).
//
// The amount and currency are the order's total; for a PARTIALLY_PAID
// order (money captured short of its total), what the buyer still owes
// (OrderInfo.Outstanding), read with the order in the transaction of
// the attempt's insert, which holds only while the order's balance still
// says what was read (StartAttempt): the buyer pays the rest, and the
// capture that brings the order up to its total makes it PAID. The
// attempt is committed PENDING before the gateway is called with an
// idempotency key derived from the attempt's id, so a crash or a retry
// never charges twice; a gateway that did not answer leaves it UNKNOWN
// (returned without error: the reconciler finds out). A gateway known to
// be down before the call fails the attempt, which charged nothing, and
// Create returns the plugin's error (PLUGIN_UNAVAILABLE). Refused:
// ORDER_ALREADY_PAID
// (nothing left to pay), ORDER_NOT_OPEN, ORDER_PAYMENT_VOIDED,
// ORDER_PAYMENT_EXPIRED (past the order's payment deadline, which a
// PARTIALLY_PAID order no longer has: see payable); the gateway lookup's
// PLUGIN_NOT_FOUND and PLUGIN_DISABLED; IDEMPOTENCY_KEY_REUSED; a return
// URL elsewhere than the shop's origins, RETURN_URL_NOT_ALLOWED; for a
// method, NO_ROUTE and GATEWAY_AND_METHOD.
//
// One attempt of an order is started at a time: while another one's
// gateway has not answered yet (for at most Options.CreateLease), Create
// refuses with PAYMENT_IN_PROGRESS, retryable, so that buyers' clicks
// and retries racing never charge the order twice. An attempt that got
// its answer (the buyer acts on a redirect, a QR code, instructions)
// does not hold the order: the buyer may start another, and Create first
// closes the earlier open attempts at their gateways (closeReplaced), so
// that one attempt of the order can be paid at a time. One found paid
// there is applied (then ORDER_ALREADY_PAID); one whose gateway does not
// answer refuses the start with PAYMENT_IN_PROGRESS.
//
// By method, the gateways of the matching routes are tried in order: the
// next only after an attempt FAILED in a way that proves its gateway
// received nothing it could act on (failoverAllowed), each attempt kept
// FAILED on the order and the next one naming it (FailoverOf). Never
// after UNKNOWN, PENDING or a buyer's decline. A repeat with the same
// idempotency key returns the chain's last attempt.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Attempt, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Payment, authz.Write); err != nil {
		return nil, err
	}
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	in.GatewayID, in.ReturnURL, in.PaymentMethod = strings.TrimSpace(in.GatewayID), strings.TrimSpace(in.ReturnURL), strings.TrimSpace(in.PaymentMethod)
	in.Method = strings.TrimSpace(in.Method)
	in.capture = CaptureAutomatic
	if set.PaymentCaptureMode == shop.CaptureManual {
		in.capture = CaptureManual
	}
	if in.ManualCapture {
		// Staff and API keys may hold one payment's money; a buyer's
		// choice is ignored, and left out of the key's request.
		if s.authz.Can(ctx, authz.Payment, authz.Write) == nil {
			in.capture = CaptureManual
		} else {
			in.ManualCapture = false
		}
	}
	var v errs.Validator
	v.Check(in.OrderID != "" || in.AccessToken != "", "orderId", CodeRequired, "name the order")
	v.Check(in.GatewayID != "" || in.Method != "", "gatewayId", CodeRequired, "choose a payment method")
	v.Check(in.GatewayID == "" || in.Method == "", "method", CodeGatewayAndMethod, "name a gateway or a method, not both")
	v.Check(in.Method == "" || methodPattern.MatchString(in.Method), "method", CodeInvalidMethod, "not a payment method name (card, alipay)")
	v.Check(len(in.ReturnURL) <= MaxURL, "returnUrl", CodeTooLong, fmt.Sprintf("at most %d characters", MaxURL))
	if in.ReturnURL != "" && len(in.ReturnURL) <= MaxURL {
		u, err := url.Parse(in.ReturnURL)
		switch origin, ok := shop.Origin(u); {
		case err != nil || !ok:
			v.Add(errs.Invalid("returnUrl", CodeInvalidURL, "the return URL is an absolute http(s) URL"))
		case origin != s.publicOrigin && !slices.Contains(set.StorefrontOrigins, origin):
			// Not quoting the URL: the refusal is shown to whoever sent it.
			v.Add(errs.Invalid("returnUrl", CodeReturnURLNotAllowed,
				"the return URL is on the shop's own address or one of its storefront origins (shop settings)"))
		}
	}
	v.Check(len(in.PaymentMethod) <= MaxHint, "paymentMethod", CodeTooLong, fmt.Sprintf("at most %d characters", MaxHint))
	v.Check(len(in.Locale) <= 35, "locale", CodeTooLong, "at most 35 characters")
	if in.IdempotencyKey != "" && !idempotency.ValidKey(in.IdempotencyKey) {
		v.Add(errs.Invalid(idempotency.Field, idempotency.CodeInvalidKey, "the idempotency key is 1 to 255 printable ASCII characters"))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// The gateways come from the plugin catalog in memory, before the
	// transaction: inside one the catalog is read from the database. A
	// lookup error is returned after the order's own (the order is named
	// first).
	var (
		gw      Gateway
		gwErr   error
		enabled map[string]Gateway
		o       *OrderInfo
		gws     []Gateway
		a       *Attempt
		repeat  bool
	)
	if in.Method != "" {
		if enabled, err = s.enabledGateways(ctx); err != nil {
			return nil, err
		}
	} else {
		gw, gwErr = s.gateways.Gateway(ctx, in.GatewayID)
		gwErr = chosenGateway(gwErr)
	}
	// The order read, the idempotency claim and the attempt's insert in
	// one transaction: one database connection taken from the pool before
	// the gateway is called instead of two (under load each take waits its
	// turn for the pool, issue 10). Reading the order locks nothing: the
	// attempt's insert is conditional on the order's start (begin).
	start := func(ctx context.Context) error {
		var err error
		if o, err = s.ownOrder(ctx, in.OrderID, in.AccessToken, authz.Write); err != nil {
			return err
		}
		if in.Method != "" {
			if gws, err = s.routedAmong(ctx, in.Method, o, enabled); err != nil {
				return err
			}
			if len(gws) == 0 {
				return errs.Invalid("method", CodeNoRoute, fmt.Sprintf("no gateway takes %s for this order", in.Method))
			}
		} else {
			if gwErr != nil {
				return gwErr
			}
			gws = []Gateway{gw}
		}
		a, repeat, err = s.begin(ctx, in, o, gws[0], nil)
		return err
	}
	err = s.db.RunInTx(ctx, start)
	var open *openAttemptsError
	if errors.As(err, &open) {
		// Closed first, then started again: a close that finds the
		// attempt paid applies it, and the new start finds the order
		// paid (ORDER_ALREADY_PAID).
		if err = s.closeReplaced(ctx, o, open.attempts); err == nil {
			err = s.db.RunInTx(ctx, start)
		}
		if errors.As(err, &open) { // another page opened meanwhile
			err = paymentInProgress(o)
		}
	}
	if err != nil {
		return nil, err
	}
	if repeat {
		return a, nil
	}
	for i := 0; ; i++ {
		a, err = s.ask(ctx, in, o, gws[i], a)
		if i == len(gws)-1 || !failoverAllowed(a) {
			if err != nil {
				return nil, err
			}
			return a, nil
		}
		s.log.InfoContext(ctx, "payment failover", "order", o.ID, "method", in.Method, "attempt", a.ID,
			"gateway", a.GatewayID, "decline_code", a.DeclineCode, "next", gws[i+1].ID())
		// The next attempt is recorded after the previous gateway's call,
		// in a transaction of its own.
		prev := a
		err = s.db.RunInTx(ctx, func(ctx context.Context) error {
			var err error
			a, _, err = s.begin(ctx, in, o, gws[i+1], prev)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
}

// begin records one attempt of Create through gw, PENDING, in the
// transaction ctx carries, leasing the order's start to it
// (PAYMENT_IN_PROGRESS when another attempt holds it). prev is the
// attempt it follows (failover), nil for the first, which alone records
// the idempotency key; repeat is true when the key had been seen, and a
// is then the chain's last attempt as it stands.
func (s *Service) begin(ctx context.Context, in CreateInput, o *OrderInfo, gw Gateway, prev *Attempt) (a *Attempt, repeat bool, err error) {
	var att *Attempt
	now := s.now()
	if prev != nil {
		// After a gateway call: the order as it stands now. The first
		// attempt takes the order Create just read in this transaction:
		// the start below is what holds against a concurrent one.
		if o, err = s.orders.Order(ctx, o.ID); err != nil {
			return nil, false, err
		}
	}
	amount, paid, err := s.asked(ctx, o)
	if err != nil {
		return nil, false, err
	}
	insert := func(ctx context.Context) error {
		o := o
		if err := payable(o, now); err != nil {
			return err
		}
		if !amount.IsPositive() {
			// PARTIALLY_PAID, and yet what was captured covers the total.
			return orderPaid(o)
		}
		// The order's start, taken with the attempt's insert: refused while
		// another attempt awaits its gateway's first answer or holds money,
		// which the order read above may not show yet on PostgreSQL (it
		// locks nothing; SQLite's writers take turns); for the rest of a
		// PARTIALLY_PAID order, also when its balance is no longer what
		// the amount was computed from.
		started, err := s.store.StartAttempt(ctx, att, paid, now.Add(s.opt.CreateLease), now)
		if err != nil {
			return err
		}
		if started {
			// The order names the gateway its buyer chose last.
			return s.orders.SetPaymentMethod(ctx, o, att.GatewayID)
		}
		// Refused: the order as it stands now says whether it is paid (or
		// cancelled: a close holds the start while it cancels).
		if o, err = s.orders.Order(ctx, o.ID); err != nil {
			return err
		}
		if err := payable(o, now); err != nil {
			return err
		}
		// An earlier attempt the buyer can still pay (a page, a QR code,
		// instructions) is closed at its gateway before another starts
		// (Create), so that two pages of one order are never both paid.
		if open, err := s.replaceable(ctx, o.ID, now); err != nil || len(open) > 0 {
			if err == nil {
				err = &openAttemptsError{attempts: open}
			}
			return err
		}
		return paymentInProgress(o)
	}
	next := s.nextCheck(now, 0)
	// The attempt is built before the claim so that its id, the key's
	// answer, is stored with the claim (no write to the key after it).
	att = &Attempt{
		ID: id.New("pay"), OrderID: o.ID, GatewayID: gw.ID(), AmountMinor: amount.Amount(), Currency: amount.Currency(),
		CaptureMethod: CaptureAutomatic, State: StatePending, ReturnURL: in.ReturnURL, NextCheckAt: &next,
		CreatedBy: authz.SubjectFrom(ctx).ID, CreatedAt: now, UpdatedAt: now, Method: in.Method,
	}
	if prev != nil {
		att.FailoverOf = &prev.ID
	}
	if in.capture == CaptureManual && gw.Supports(CapCaptureManual) {
		att.CaptureMethod = CaptureManual
	}
	if in.IdempotencyKey == "" || prev != nil {
		if err := insert(ctx); err != nil {
			return nil, false, err
		}
		return att, false, nil
	}
	attemptID, ran, err := s.keys.DoAnswered(ctx, createScope(ctx, in), in.IdempotencyKey, createRequest(in, o, amount), []byte(att.ID), insert)
	if err != nil {
		return nil, false, err
	}
	if ran {
		return att, false, nil
	}
	// A repeat: the first request's attempt, or the last one it failed
	// over to, as it stands.
	a, err = s.store.LastOfChain(ctx, string(attemptID))
	return a, true, err
}

// chosenGateway puts the lookup of the gateway a payment names on the
// field that named it: a gateway not installed, or disabled, is the
// caller's choice to change (PLUGIN_NOT_FOUND, PLUGIN_DISABLED on
// gatewayId). One down right now stays a failure of its own
// (PLUGIN_UNAVAILABLE): trying again may do.
func chosenGateway(err error) error {
	var e *errs.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errs.ErrNotFound) && errors.As(err, &e):
		return errs.Invalid("gatewayId", e.Code, "no such payment method: choose another")
	case errors.As(err, &e) && e.Code == "PLUGIN_DISABLED":
		return errs.Invalid("gatewayId", e.Code, "this payment method is not available: choose another")
	}
	return err
}

// createScope is the scope of Create's idempotency key: the caller's own
// keys (idempotency.OwnerOf), the signed-in buyer's or those of the
// guest's access token, so that two buyers sending the same key never
// meet; staff and API keys share the shop's.
func createScope(ctx context.Context, in CreateInput) string {
	return idempotency.Owned(CreateScope, idempotency.OwnerOf(ctx, in.AccessToken))
}

// asked is what an attempt of o asks for, and what was paid of o when
// that was computed from its balance (-1 when not): the total, or for a
// PARTIALLY_PAID order what it still owes (Outstanding), its balance
// read in the transaction of ctx. Any other order asks its total, its
// balance not read: a PENDING or FAILED one holds no money, but for a bank
// transfer confirmed short (the attempt waits for the rest, flagged
// UNDERPAID for staff), which does not move the order.
func (s *Service) asked(ctx context.Context, o *OrderInfo) (money.Money, int64, error) {
	if o.PaymentStatus != OrderPaymentPartiallyPaid {
		return o.Total, -1, nil
	}
	bs, err := s.store.Balances(ctx, []string{o.ID})
	if err != nil {
		return money.Money{}, 0, err
	}
	paid := money.Zero(o.Total.Currency())
	if len(bs) == 1 {
		paid = bs[0].Paid()
	}
	return o.Outstanding(paid), paid.Amount(), nil
}

// createRequest is what Create's idempotency key is bound to: the order,
// the amount asked when it is not the order's total (the rest of a
// PARTIALLY_PAID order, so that a key sent again after the balance
// changed is refused, IDEMPOTENCY_KEY_REUSED, rather than answered with
// an attempt for another amount), and everything of the input the
// gateway is asked with, the buyer's language included (its pages and
// messages are in it). The order's total is not written: it never
// changes, and keys recorded before amounts were bound still match.
func createRequest(in CreateInput, o *OrderInfo, amount money.Money) []byte {
	req := strings.Join([]string{o.ID, in.GatewayID, in.ReturnURL, in.PaymentMethod, fmt.Sprint(in.ManualCapture)}, "\x00")
	if amount != o.Total {
		req += "\x00amount:" + strconv.FormatInt(amount.Amount(), 10) + " " + amount.Currency().Code()
	}
	if in.Method != "" {
		req += "\x00method:" + in.Method
	}
	if in.Locale != "" {
		req += "\x00locale:" + in.Locale
	}
	return []byte(req)
}

// ask calls gw's CreatePayment for att, committed PENDING, and records
// the answer. It returns the attempt as it stands after the call, also
// when err says why the gateway could not be asked.
func (s *Service) ask(ctx context.Context, in CreateInput, o *OrderInfo, gw Gateway, att *Attempt) (a *Attempt, err error) {
	// The buyer's browser, when a buyer (guest or signed in) started this
	// payment: staff and integrations calling for a buyer are not the buyer.
	var buyer peer.Client
	if k := authz.SubjectFrom(ctx).Kind; k == authz.KindAnonymous || k == authz.KindCustomer {
		buyer = peer.From(ctx)
	}
	res, err := gw.CreatePayment(ctx, CreateRequest{
		AttemptID: att.ID, OrderID: o.ID, OrderNumber: o.Number, Amount: att.Amount(), BuyerEmail: o.Email,
		Locale: in.Locale, ReturnURL: in.ReturnURL, IdempotencyKey: att.ID, PaymentMethod: in.PaymentMethod,
		Description: "Order " + o.Number, CaptureMethod: att.CaptureMethod, ExpiresAt: payDeadline(o),
		Metadata: map[string]string{"order_id": o.ID}, BuyerIP: buyer.IP, BuyerUserAgent: buyer.UserAgent,
	})
	if err != nil {
		a, err := s.createFailed(ctx, att, err)
		if err != nil && a == nil {
			// Refused before the call: the attempt as recorded (FAILED),
			// for the caller to fail over.
			a, _ = s.store.Attempt(ctx, att.ID)
		}
		return a, err
	}
	if a, err = s.applyCreated(ctx, att, res); err != nil || a != nil {
		return a, err
	}
	return s.store.Attempt(ctx, att.ID)
}

// payable refuses an order that cannot be paid at now. An order past
// its payment deadline is refused although still open: the deadline
// closer is about to close its attempts and cancel it, and an attempt
// started meanwhile could take money for a cancelled order. A
// PARTIALLY_PAID order takes a payment of what it still owes whatever
// its deadline (payDeadline): the closer cancels unpaid orders only, and
// an order holding money is never cancelled, so nothing can take the rest
// for a cancelled order; refusing would leave the rest of a partial
// capture, which staff often make after the deadline, unpayable. Whether
// anything is left to pay is the caller's to check (Outstanding).
func payable(o *OrderInfo, now time.Time) error {
	switch {
	case o.Status != OrderOpen:
		return errs.Conflict("orderId", CodeOrderNotOpen, fmt.Sprintf("order %s is %s", o.Number, strings.ToLower(o.Status)))
	case o.PaymentStatus == OrderPaymentVoided:
		return errs.Conflict("orderId", CodeOrderPaymentVoided, fmt.Sprintf("the payment of order %s was voided", o.Number))
	case o.PaymentStatus == OrderPaymentPartiallyPaid:
		return nil
	case o.PaymentStatus != OrderPaymentPending && o.PaymentStatus != OrderPaymentFailed:
		return orderPaid(o)
	case !o.Total.IsPositive():
		return errs.Invalid("orderId", CodeInvalidAmount, fmt.Sprintf("order %s has nothing to pay", o.Number))
	case !o.PaymentDeadline.IsZero() && !now.Before(o.PaymentDeadline):
		return errs.Conflict("orderId", CodeOrderPaymentExpired, fmt.Sprintf("the time to pay order %s ran out", o.Number))
	}
	return nil
}

// orderPaid refuses a payment of o, which owes nothing.
func orderPaid(o *OrderInfo) error {
	return errs.Conflict("orderId", CodeOrderAlreadyPaid, fmt.Sprintf("order %s is already paid (%s)", o.Number, o.PaymentStatus))
}

// payDeadline is when a payment of o is due, what its gateway is told
// (CreateRequest.ExpiresAt): the order's payment deadline, or none (the
// zero time) for the rest of a PARTIALLY_PAID order, which no deadline
// cancels (payable).
func payDeadline(o *OrderInfo) time.Time {
	if o.PaymentStatus == OrderPaymentPartiallyPaid {
		return time.Time{}
	}
	return o.PaymentDeadline
}

// createFailed records a CreatePayment that returned an error: UNKNOWN
// when the request may have left (the reconciler asks), FAILED with no
// charge when the plugin was known to be down before the call.
func (s *Service) createFailed(ctx context.Context, att *Attempt, callErr error) (*Attempt, error) {
	sys := asSystem(ctx, "payment.create")
	if errors.Is(callErr, ErrOutcomeUnknown) {
		att.MerchantMessage = clip(callErr.Error(), 500)
		if err := s.moveAttempt(sys, att, StateUnknown, "no answer from the gateway", "merchant_message"); err != nil && !transition.IsStale(err) {
			return nil, err
		}
		s.log.WarnContext(ctx, "payment outcome unknown; reconciling", "attempt", att.ID, "gateway", att.GatewayID, "error", callErr)
		a, err := s.store.Attempt(ctx, att.ID)
		if err != nil {
			return nil, err
		}
		return a, nil
	}
	att.DeclineCode, att.MerchantMessage = "gateway_unavailable", clip(callErr.Error(), 500)
	if err := s.moveAttempt(sys, att, StateFailed, "the gateway could not be called; nothing was charged", "decline_code", "merchant_message"); err != nil && !transition.IsStale(err) {
		return nil, errors.Join(callErr, err)
	}
	return nil, callErr
}

// applyCreated records CreatePayment's answer: the gateway's reference
// and the buyer's action, then the state it reports, through the path of
// every gateway fact. It returns the attempt as applying left it, when
// known without reading it again (else nil).
func (s *Service) applyCreated(ctx context.Context, att *Attempt, res CreateResult) (*Attempt, error) {
	f := fact{gatewayID: att.GatewayID, source: SourceCreate, attemptID: att.ID, gatewayRef: res.GatewayRef,
		amount: res.Amount, captured: -1, declineCode: res.DeclineCode, buyerMsg: res.BuyerMessage, message: res.MerchantMessage}
	switch res.Status {
	case StatusSucceeded:
		f.typ = EventPaymentSucceeded
	case StatusAuthorized:
		f.typ = EventPaymentAuthorized
	case StatusFailed:
		f.typ = EventPaymentFailed
	case StatusCanceled:
		f.typ = EventPaymentCanceled
	default: // pending, requires action, unknown: the action and reference
		f.typ = EventPaymentRequiresAction
		act := res.Action
		f.action = &act
	}
	f.eventID = "create:" + att.ID + ":" + string(res.Status)
	if res.Status != StatusSucceeded && res.Status != StatusAuthorized && res.Status != StatusFailed && res.Status != StatusCanceled {
		// Record the action and reference on the attempt (PENDING stays
		// PENDING) without a move.
		a, err := s.applyAction(ctx, att, f)
		if err != nil {
			return nil, err
		}
		if res.Status == StatusUnknown {
			if a == nil {
				if a, err = s.store.Attempt(ctx, att.ID); err != nil {
					return nil, err
				}
			}
			if a.State == StatePending {
				err := transition.RunBatched(asSystem(ctx, "payment.create"), s.db, func(ctx context.Context) error {
					return s.moveAttempt(ctx, a, StateUnknown, "the gateway does not know the outcome yet")
				})
				if err != nil {
					return nil, err
				}
			}
			return a, nil
		}
		return a, nil
	}
	out, err := s.apply(ctx, f)
	if err != nil || (res.GatewayRef == "" && res.Action.Type == "") {
		return out.attempt, err
	}
	// The reference and action after the state, so a failed or paid
	// attempt shows them too. Not before: an attempt still PENDING with
	// a reference or an action has had its answer, and no longer holds
	// the order's start (StartAttempt) while its capture is applied.
	a := out.attempt
	if a == nil {
		if a, err = s.store.Attempt(ctx, att.ID); err != nil {
			return nil, err
		}
	}
	ref := clip(res.GatewayRef, 200)
	if res.Action.Type == "" && a.GatewayRef == ref {
		return a, nil // the capture or authorization wrote the reference
	}
	cols := actionColumns
	if ref != "" {
		a.GatewayRef = ref
		cols = append([]string{"gateway_ref"}, actionColumns...)
	}
	setAction(a, res.Action)
	a.UpdatedAt = s.now()
	if err := s.store.UpdateAttempt(ctx, a, cols...); err != nil {
		return nil, err
	}
	return a, nil
}

// applyAction applies f, CreatePayment's answer asking the buyer for an
// action, to att as Create wrote it (PENDING, before the call), and
// returns the attempt as it then stands when known without reading it
// again (else nil). On PostgreSQL the event row and the attempt's action
// columns are one statement that commits on its own (RecordAction): the
// write after the gateway's answer needs no transaction of its own.
// Anything else goes through apply: SQLite, instructions (news for the
// notifications), a currency that is not the attempt's, and an attempt
// that moved since (a notification was quicker) or an event already
// recorded, which RecordAction leaves untouched.
func (s *Service) applyAction(ctx context.Context, att *Attempt, f fact) (*Attempt, error) {
	fast := s.db.Dialect == store.Postgres && att.State == StatePending && f.action != nil &&
		f.action.Type != "" && f.action.Type != ActionInstructions &&
		(f.amount.Currency().IsZero() || f.amount.Currency() == att.Currency)
	if fast {
		a := *att
		setAction(&a, *f.action)
		a.UpdatedAt = s.now()
		written, ok, err := s.store.RecordAction(ctx, s.eventRecord(f, att), &a, f.gatewayRef)
		if err != nil {
			return nil, err
		}
		if ok {
			return written, nil
		}
	}
	out, err := s.apply(ctx, f)
	return out.attempt, err
}

// openAttemptsError is begin's refusal of a start while earlier attempts
// of the order can still be paid: Create closes them and starts again.
type openAttemptsError struct{ attempts []*Attempt }

func (e *openAttemptsError) Error() string {
	return fmt.Sprintf("payment: %d earlier attempts of the order are open", len(e.attempts))
}

// replaceable returns the open attempts of the order that a new start
// closes first: those the buyer can act on (the gateway answered, or its
// answer is overdue). None when an attempt still awaits its gateway's
// first answer within Options.CreateLease: that start holds the order
// (PAYMENT_IN_PROGRESS); none either while a close holds it (a cancel or
// the deadline closer is closing them already).
func (s *Service) replaceable(ctx context.Context, orderID string, now time.Time) ([]*Attempt, error) {
	if held, err := s.store.Held(ctx, orderID, now); err != nil || held {
		return nil, err
	}
	atts, err := s.store.AttemptsOfOrders(ctx, []string{orderID})
	if err != nil {
		return nil, err
	}
	var open []*Attempt
	for _, a := range atts {
		if !a.State.Open() {
			continue
		}
		if a.State == StatePending && a.GatewayRef == "" && a.ActionType == "" && now.Before(a.CreatedAt.Add(s.opt.CreateLease)) {
			return nil, nil
		}
		open = append(open, a)
	}
	return open, nil
}

// closeReplaced closes, at their gateways, the open attempts of o a new
// start replaces (CloseReplaced), as the platform: the buyer who opened a
// second payment page, or switched methods, cannot pay the first one
// any more, as Stripe and Shopify keep one live payment per checkout. An
// attempt whose gateway did not answer refuses the new start with
// PAYMENT_IN_PROGRESS: it may still take the money.
func (s *Service) closeReplaced(ctx context.Context, o *OrderInfo, open []*Attempt) error {
	ctx = asSystem(ctx, "payment."+CloseReplaced)
	for _, a := range open {
		_, answered, err := s.closeAttempt(ctx, a, CloseReplaced)
		if err != nil {
			return err
		}
		if !answered {
			return errs.Conflict("orderId", CodePaymentInProgress,
				fmt.Sprintf("an earlier payment of order %s could not be closed at its gateway yet; try again in a moment", o.Number))
		}
	}
	return nil
}

// paymentInProgress refuses a start while another one holds order o.
func paymentInProgress(o *OrderInfo) error {
	return errs.Conflict("orderId", CodePaymentInProgress,
		fmt.Sprintf("another payment of order %s is being started, closed or taken; try again in a moment", o.Number))
}
