package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/plutov/paypal/v4"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// approvalLifetime is how long PayPal keeps an order open for the buyer's
// approval (three hours, per the Orders v2 documentation).
const approvalLifetime = 3 * time.Hour

func (g *Gateway) configured() (*configured, error) {
	c := g.cfg.Load()
	if c == nil {
		return nil, errors.New("paypal: not configured")
	}
	return c, nil
}

// declined is a CreatePayment refusal as data.
func declined(code string, t text, locale, staff string) payment.CreateResult {
	return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: code, BuyerMessage: t.in(locale), MerchantMessage: staff}
}

// validRef checks the attempt id fits custom_id and invoice_id (at most
// 127 characters, printable ASCII).
func validRef(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// CreatePayment implements payment.Gateway: an Orders v2 order whose
// approve link is the buyer's REDIRECT. custom_id and invoice_id are the
// attempt id; PayPal-Request-Id is Kassa's idempotency key, so a retry
// gets the same order.
func (g *Gateway) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CreateResult{}, err
	}
	res, a, err := g.createPayment(ctx, c, req)
	if err == nil && res.Status == payment.StatusFailed && validRef(req.AttemptID) {
		if _, known := g.journal.Get(req.AttemptID); !known {
			err = g.update(req.AttemptID, func(p *attempt) {
				*p = attempt{Amount: req.Amount.Amount, Currency: req.Amount.Currency, Declined: res.DeclineCode}
			})
		}
	} else if err == nil && a != nil {
		err = g.update(req.AttemptID, func(p *attempt) { *p = *a })
	}
	return res, err
}

func (g *Gateway) createPayment(ctx context.Context, c *configured, req payment.CreateRequest) (payment.CreateResult, *attempt, error) {
	if _, ok := currencies[req.Amount.Currency]; !ok {
		return declined(payment.DeclineCurrencyNotSupported, textCurrency, req.Locale,
			fmt.Sprintf("PayPal does not take %q", req.Amount.Currency)), nil, nil
	}
	if req.Amount.Amount < 1 || req.Amount.Amount > 1_000_000_000_00 {
		return declined(payment.DeclineInvalidAmount, textAmount, req.Locale, fmt.Sprintf("amount %d is out of range", req.Amount.Amount)), nil, nil
	}
	if req.PaymentMethod != "" && req.PaymentMethod != MethodPayPal {
		return declined("payment_method_not_supported", textMethod, req.Locale,
			fmt.Sprintf("unknown payment method %q (paypal)", req.PaymentMethod)), nil, nil
	}
	if !validRef(req.AttemptID) {
		return declined("invalid_request", textRefused, req.Locale, "the attempt id does not fit PayPal's custom_id"), nil, nil
	}
	if prev, ok := g.journal.Get(req.AttemptID); ok && prev.OrderID != "" && prev.Amount == req.Amount.Amount && prev.Currency == req.Amount.Currency {
		// A retry: the same order, the same answer.
		return prev.result(req.Locale), nil, nil
	}
	intent := c.s.Intent
	if req.CaptureMethod == payment.CaptureManual {
		intent = "AUTHORIZE"
	}
	cancelURL := req.ReturnURL
	if u, err := url.Parse(req.ReturnURL); err == nil && req.ReturnURL != "" {
		q := u.Query()
		q.Set("paypal", "cancel")
		u.RawQuery = q.Encode()
		cancelURL = u.String()
	}
	desc := req.Description
	if r := []rune(desc); len(r) > 127 {
		desc = string(r[:127])
	}
	key := req.IdempotencyKey
	if key == "" {
		key = req.AttemptID
	}
	o, err := c.api.c.CreateOrderWithPaypalRequestID(ctx, intent, []paypal.PurchaseUnitRequest{{
		ReferenceID: "default",
		Amount:      &paypal.PurchaseUnitAmount{Currency: req.Amount.Currency, Value: formatValue(req.Amount)},
		Description: desc, CustomID: req.AttemptID, InvoiceID: req.AttemptID,
	}}, nil, &paypal.ApplicationContext{
		BrandName: c.s.BrandName, Locale: paypalLocale(req.Locale), ShippingPreference: paypal.ShippingPreferenceNoShipping,
		UserAction: paypal.UserActionPayNow, ReturnURL: req.ReturnURL, CancelURL: cancelURL,
	}, key)
	if err != nil {
		if isAPIError(err) && !isStatus(err, http.StatusUnauthorized) && !isStatus(err, http.StatusInternalServerError) {
			slog.Warn("paypal refused the order", "attempt", req.AttemptID, "issue", issue(err))
			return declined(payment.DeclineProcessingError, textRefused, req.Locale, describe(err)), nil, nil
		}
		return payment.CreateResult{}, nil, fmt.Errorf("paypal: create order: %w", err)
	}
	var approve string
	for _, l := range o.Links {
		if l.Rel == "approve" || l.Rel == "payer-action" {
			approve = l.Href
		}
	}
	if o.ID == "" || approve == "" {
		return payment.CreateResult{}, nil, fmt.Errorf("paypal: create order answered no id or approve link")
	}
	a := &attempt{OrderID: o.ID, ApproveURL: approve, Amount: req.Amount.Amount, Currency: req.Amount.Currency, Intent: intent, Created: g.now().UTC()}
	return a.result(req.Locale), a, nil
}

// result is CreatePayment's answer for a created order.
func (a attempt) result(locale string) payment.CreateResult {
	return payment.CreateResult{Status: payment.StatusRequiresAction, GatewayRef: a.OrderID,
		Action: payment.Action{Type: payment.ActionRedirect, URL: a.ApproveURL, Instructions: textApprove.in(locale), ExpiresAt: a.Created.Add(approvalLifetime)},
		Amount: sdk.Money{Amount: a.Amount, Currency: a.Currency}}
}

// getOrder reads an order; nil without error when PayPal has none.
func (g *Gateway) getOrder(ctx context.Context, c *configured, id string) (*ppOrder, error) {
	var o ppOrder
	err := c.api.do(ctx, http.MethodGet, "/v2/checkout/orders/"+url.PathEscape(id), nil, "", &o)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("paypal: get order %s: %w", id, err)
	}
	return &o, nil
}

// orderID finds the order of an attempt: the gateway ref, or the journal.
func (g *Gateway) orderID(attemptID, gatewayRef string) string {
	if gatewayRef != "" {
		return gatewayRef
	}
	a, _ := g.journal.Get(attemptID)
	return a.OrderID
}

// settle captures (intent CAPTURE) or authorizes (AUTHORIZE) an order the
// buyer approved, unless the attempt was closed. The request id is
// derived from the attempt, so the buyer's return, the reconciler and the
// CHECKOUT.ORDER.APPROVED webhook all end in one capture.
func (g *Gateway) settle(ctx context.Context, c *configured, attemptID string, o *ppOrder) (*ppOrder, error) {
	if o == nil || o.Status != "APPROVED" {
		return o, nil
	}
	unlock := g.lock(attemptID)
	defer unlock()
	if a, ok := g.journal.Get(attemptID); ok && a.Closed {
		return o, nil
	}
	op := "capture"
	if o.Intent == "AUTHORIZE" {
		op = "authorize"
	}
	var out ppOrder
	err := c.api.do(ctx, http.MethodPost, "/v2/checkout/orders/"+url.PathEscape(o.ID)+"/"+op, struct{}{}, op+"-"+attemptID, &out)
	switch iss := issue(err); {
	case err == nil && out.ID != "":
		return &out, nil
	case err == nil, iss == "ORDER_ALREADY_CAPTURED", iss == "ORDER_ALREADY_AUTHORIZED":
		return g.getOrder(ctx, c, o.ID)
	default:
		return nil, fmt.Errorf("paypal: %s order %s: %w", op, o.ID, err)
	}
}

// orderState is Kassa's view of an order.
func orderState(o *ppOrder, a attempt, known bool) (payment.PaymentState, error) {
	if len(o.PurchaseUnits) == 0 {
		return payment.PaymentState{}, fmt.Errorf("paypal: order %s has no purchase unit", o.ID)
	}
	pu := o.PurchaseUnits[0]
	total, err := pu.Amount.minor()
	if err != nil {
		return payment.PaymentState{}, err
	}
	st := payment.PaymentState{GatewayRef: o.ID, Amount: total, MerchantMessage: "PayPal order " + o.Status}
	var captured, pending, declined, authorized, refunded int64
	for _, p := range pu.Payments.Captures {
		m, err := p.Amount.minor()
		if err != nil {
			return payment.PaymentState{}, err
		}
		switch p.Status {
		case "COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED":
			captured += m.Amount
		case "PENDING":
			pending += m.Amount
		case "DECLINED", "FAILED":
			declined += m.Amount
		}
	}
	voided := false
	for _, p := range pu.Payments.Authorizations {
		m, err := p.Amount.minor()
		if err != nil {
			return payment.PaymentState{}, err
		}
		switch p.Status {
		case "CREATED", "PARTIALLY_CAPTURED", "CAPTURED", "PENDING":
			authorized += m.Amount
		case "VOIDED", "EXPIRED", "DENIED":
			voided = true
		}
	}
	for _, p := range pu.Payments.Refunds {
		m, err := p.Amount.minor()
		if err != nil {
			return payment.PaymentState{}, err
		}
		if p.Status == "COMPLETED" {
			refunded += m.Amount
		}
	}
	if authorized < captured {
		authorized = captured
	}
	st.Authorized, st.Captured, st.Refunded = authorized, captured, refunded
	switch {
	case captured > 0:
		st.Status = payment.StatusSucceeded
	case pending > 0:
		st.Status, st.MerchantMessage = payment.StatusPending, "the PayPal capture is pending (e.g. an eCheck); PayPal will send PAYMENT.CAPTURE.COMPLETED or DENIED"
	case declined > 0:
		st.Status, st.DeclineCode = payment.StatusFailed, payment.DeclineCardDeclined
	case authorized > 0:
		st.Status = payment.StatusAuthorized
	case voided, o.Status == "VOIDED":
		st.Status = payment.StatusCanceled
	case a.Closed:
		st.Status, st.MerchantMessage = payment.StatusCanceled, "closed in Kassa; the plugin will not capture it (PayPal order "+o.Status+")"
	case o.Status == "CREATED", o.Status == "PAYER_ACTION_REQUIRED", o.Status == "APPROVED", o.Status == "SAVED":
		st.Status = payment.StatusRequiresAction
		u := link(o.Links, "approve")
		if u == "" && known {
			u = a.ApproveURL
		}
		st.Action = payment.Action{Type: payment.ActionRedirect, URL: u}
	default:
		return payment.PaymentState{}, fmt.Errorf("paypal: order %s has status %q and no payment", o.ID, o.Status)
	}
	return st, nil
}

// GetPayment implements payment.Gateway: GET the order (by the gateway
// ref, or the attempt's order in the journal), capture or authorize it if
// the buyer approved it, and report.
func (g *Gateway) GetPayment(ctx context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	c, err := g.configured()
	if err != nil {
		return payment.PaymentState{}, err
	}
	a, known := g.journal.Get(req.AttemptID)
	if known && a.Declined != "" {
		return payment.PaymentState{Status: payment.StatusFailed, DeclineCode: a.Declined, MerchantMessage: "refused before reaching PayPal"}, nil
	}
	id := g.orderID(req.AttemptID, req.GatewayRef)
	if id == "" {
		return payment.PaymentState{Status: payment.StatusNotFound}, nil
	}
	o, err := g.getOrder(ctx, c, id)
	if err != nil {
		return payment.PaymentState{}, err
	}
	if o == nil {
		if known {
			// PayPal forgets orders nobody approved after their lifetime.
			return payment.PaymentState{Status: payment.StatusCanceled, GatewayRef: id, Amount: sdk.Money{Amount: a.Amount, Currency: a.Currency},
				MerchantMessage: "PayPal no longer has the order (it expired unapproved)"}, nil
		}
		return payment.PaymentState{Status: payment.StatusNotFound}, nil
	}
	if o, err = g.settle(ctx, c, req.AttemptID, o); err != nil {
		return payment.PaymentState{}, err
	}
	return orderState(o, a, known)
}

// CapturePayment implements payment.Gateway for intent AUTHORIZE: the
// order's authorization is captured for the amount (final capture);
// PayPal-Request-Id is the capture's idempotency key.
func (g *Gateway) CapturePayment(ctx context.Context, req payment.CaptureRequest) (payment.CaptureResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CaptureResult{}, err
	}
	fail := func(code, msg string) (payment.CaptureResult, error) {
		return payment.CaptureResult{Status: payment.StatusFailed, DeclineCode: code, MerchantMessage: msg}, nil
	}
	id := g.orderID(req.AttemptID, req.GatewayRef)
	o, err := g.getOrder(ctx, c, id)
	if err != nil {
		return payment.CaptureResult{}, err
	}
	if id == "" || o == nil {
		return fail(payment.FailurePaymentNotFound, "PayPal has no such order")
	}
	if o, err = g.settle(ctx, c, req.AttemptID, o); err != nil {
		return payment.CaptureResult{}, err
	}
	var authID string
	for _, p := range o.PurchaseUnits[0].Payments.Authorizations {
		if p.Status == "CREATED" || p.Status == "PARTIALLY_CAPTURED" || p.Status == "CAPTURED" {
			authID = p.ID
		}
	}
	if authID == "" {
		return fail(payment.FailureInvalidState, "the PayPal order "+o.ID+" ("+o.Status+") has no authorization to capture")
	}
	key := req.IdempotencyKey
	if key == "" {
		key = "capture-" + req.AttemptID
	}
	body := map[string]any{"final_capture": true, "invoice_id": req.AttemptID + "-capture"}
	if req.Amount.Amount > 0 {
		body["amount"] = toPP(req.Amount)
	}
	var capt ppPayment
	err = c.api.do(ctx, http.MethodPost, "/v2/payments/authorizations/"+url.PathEscape(authID)+"/capture", body, key, &capt)
	switch iss := issue(err); {
	case err == nil:
	case iss == "MAX_CAPTURE_AMOUNT_EXCEEDED":
		return fail(payment.FailureAmountExceedsAuthorized, describe(err))
	case iss == "AUTHORIZATION_VOIDED", iss == "AUTHORIZATION_EXPIRED", iss == "AUTHORIZATION_ALREADY_CAPTURED", iss == "CURRENCY_MISMATCH":
		if iss == "AUTHORIZATION_ALREADY_CAPTURED" {
			break
		}
		return fail(payment.FailureInvalidState, describe(err))
	default:
		return payment.CaptureResult{}, fmt.Errorf("paypal: capture authorization %s: %w", authID, err)
	}
	if o, err = g.getOrder(ctx, c, o.ID); err != nil || o == nil {
		return payment.CaptureResult{}, errors.Join(errors.New("paypal: read the order after capture"), err)
	}
	a, known := g.journal.Get(req.AttemptID)
	st, err := orderState(o, a, known)
	if err != nil {
		return payment.CaptureResult{}, err
	}
	if st.Status == payment.StatusPending {
		return payment.CaptureResult{Status: payment.StatusPending, Captured: st.Captured, MerchantMessage: st.MerchantMessage}, nil
	}
	return payment.CaptureResult{Status: st.Status, Captured: st.Captured}, nil
}

// CancelPayment implements payment.Gateway. PayPal cannot cancel an
// order the buyer has not approved (it expires after three hours), so the
// attempt is closed in the journal first: from then on this plugin never
// captures or authorizes it, and an approval that comes late moves no
// money. An authorization is voided; a capture is ALREADY_PAID.
func (g *Gateway) CancelPayment(ctx context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CancelResult{}, err
	}
	unlock := g.lock(req.AttemptID)
	defer unlock()
	if _, known := g.journal.Get(req.AttemptID); known {
		if err := g.update(req.AttemptID, func(a *attempt) { a.Closed = true }); err != nil {
			return payment.CancelResult{}, err
		}
	}
	id := g.orderID(req.AttemptID, req.GatewayRef)
	if id == "" {
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled, MerchantMessage: "PayPal never saw this attempt"}, nil
	}
	o, err := g.getOrder(ctx, c, id)
	if err != nil {
		return payment.CancelResult{}, err
	}
	if o == nil {
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled, MerchantMessage: "PayPal has no such order"}, nil
	}
	a, known := g.journal.Get(req.AttemptID)
	st, err := orderState(o, a, known)
	if err != nil {
		return payment.CancelResult{}, err
	}
	switch st.Status {
	case payment.StatusSucceeded, payment.StatusPending:
		return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: st.Status, MerchantMessage: "the buyer paid before the close"}, nil
	case payment.StatusAuthorized:
		for _, p := range o.PurchaseUnits[0].Payments.Authorizations {
			if p.Status != "CREATED" {
				continue
			}
			key := req.IdempotencyKey
			if key == "" {
				key = "void-" + req.AttemptID
			}
			err := c.api.do(ctx, http.MethodPost, "/v2/payments/authorizations/"+url.PathEscape(p.ID)+"/void", nil, key, nil)
			if err != nil && issue(err) != "AUTHORIZATION_VOIDED" {
				if iss := issue(err); iss == "PREVIOUSLY_CAPTURED" || iss == "AUTHORIZATION_ALREADY_CAPTURED" {
					return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: payment.StatusSucceeded, MerchantMessage: describe(err)}, nil
				}
				if isAPIError(err) {
					return payment.CancelResult{Status: payment.CancelFailed, Code: "gateway_refused", MerchantMessage: describe(err)}, nil
				}
				return payment.CancelResult{}, fmt.Errorf("paypal: void authorization %s: %w", p.ID, err)
			}
		}
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled, MerchantMessage: "authorization voided"}, nil
	}
	return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled, MerchantMessage: st.MerchantMessage}, nil
}

// Refund implements payment.Gateway: a refund of the order's capture,
// partial or full, with the refund's id as custom_id and Kassa's
// idempotency key as PayPal-Request-Id.
func (g *Gateway) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.RefundResult{}, err
	}
	fail := func(code, msg string) (payment.RefundResult, error) {
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: code, Amount: req.Amount, MerchantMessage: msg}, nil
	}
	if _, ok := currencies[req.Amount.Currency]; !ok {
		return fail(payment.DeclineCurrencyNotSupported, "PayPal does not take "+req.Amount.Currency)
	}
	if req.Amount.Amount < 1 {
		return fail(payment.DeclineInvalidAmount, "the refund amount must be positive")
	}
	if !validRef(req.RefundID) {
		return fail("invalid_request", "the refund id does not fit PayPal's custom_id")
	}
	id := g.orderID(req.AttemptID, req.GatewayRef)
	var o *ppOrder
	if id != "" {
		if o, err = g.getOrder(ctx, c, id); err != nil {
			return payment.RefundResult{}, err
		}
	}
	if o == nil || len(o.PurchaseUnits) == 0 {
		return fail(payment.FailurePaymentNotFound, "PayPal has no such order")
	}
	var captureID string
	for _, p := range o.PurchaseUnits[0].Payments.Captures {
		if p.Status == "COMPLETED" || p.Status == "PARTIALLY_REFUNDED" || p.Status == "REFUNDED" {
			captureID = p.ID
			break
		}
	}
	if captureID == "" {
		return fail(payment.FailurePaymentNotCaptured, "the PayPal order "+o.ID+" has no completed capture")
	}
	key := req.IdempotencyKey
	if key == "" {
		key = req.RefundID
	}
	var rf ppPayment
	err = c.api.do(ctx, http.MethodPost, "/v2/payments/captures/"+url.PathEscape(captureID)+"/refund",
		map[string]any{"amount": toPP(req.Amount), "custom_id": req.RefundID, "invoice_id": req.RefundID}, key, &rf)
	switch iss := issue(err); {
	case err == nil:
	case iss == "REFUND_AMOUNT_EXCEEDED", iss == "CAPTURE_FULLY_REFUNDED":
		return fail(payment.FailureAmountExceedsCaptured, describe(err))
	case iss == "REFUND_CAPTURE_CURRENCY_MISMATCH", iss == "REFUND_NOT_ALLOWED", iss == "REFUND_TIME_LIMIT_EXCEEDED", iss == "PERMISSION_DENIED":
		return fail(payment.FailureInvalidState, describe(err))
	case isStatus(err, http.StatusNotFound):
		return fail(payment.FailurePaymentNotFound, describe(err))
	default:
		return payment.RefundResult{}, fmt.Errorf("paypal: refund capture %s: %w", captureID, err)
	}
	if err := g.update(req.AttemptID, func(a *attempt) {
		if a.Refunds == nil {
			a.Refunds = map[string]string{}
		}
		a.Refunds[req.RefundID] = rf.ID
	}); err != nil {
		return payment.RefundResult{}, err
	}
	return refundResult(rf)
}

// refundResult maps a PayPal refund.
func refundResult(rf ppPayment) (payment.RefundResult, error) {
	m, err := rf.Amount.minor()
	if err != nil {
		return payment.RefundResult{}, err
	}
	r := payment.RefundResult{GatewayRefundRef: rf.ID, Amount: m, MerchantMessage: "PayPal refund " + rf.Status}
	switch rf.Status {
	case "COMPLETED":
		r.Status = payment.RefundSucceeded
	case "PENDING":
		r.Status = payment.RefundPending
	case "FAILED", "CANCELLED":
		r.Status, r.FailureCode = payment.RefundFailed, "gateway_refused"
	default:
		return payment.RefundResult{}, fmt.Errorf("paypal: refund %s has status %q", rf.ID, rf.Status)
	}
	return r, nil
}

// GetRefund implements payment.Gateway: by PayPal's refund id, or the one
// the journal remembers, or the order's refund whose custom_id is Kassa's
// refund id.
func (g *Gateway) GetRefund(ctx context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.RefundResult{}, err
	}
	ref := req.GatewayRefundRef
	if ref == "" {
		a, _ := g.journal.Get(req.AttemptID)
		ref = a.Refunds[req.RefundID]
	}
	if ref != "" {
		var rf ppPayment
		err := c.api.do(ctx, http.MethodGet, "/v2/payments/refunds/"+url.PathEscape(ref), nil, "", &rf)
		if isStatus(err, http.StatusNotFound) {
			return payment.RefundResult{Status: payment.RefundNotFound}, nil
		}
		if err != nil {
			return payment.RefundResult{}, fmt.Errorf("paypal: get refund %s: %w", ref, err)
		}
		return refundResult(rf)
	}
	id := g.orderID(req.AttemptID, req.GatewayRef)
	if id == "" {
		return payment.RefundResult{Status: payment.RefundNotFound}, nil
	}
	o, err := g.getOrder(ctx, c, id)
	if err != nil {
		return payment.RefundResult{}, err
	}
	if o != nil && len(o.PurchaseUnits) > 0 {
		for _, rf := range o.PurchaseUnits[0].Payments.Refunds {
			if rf.CustomID == req.RefundID {
				return refundResult(rf)
			}
		}
	}
	return payment.RefundResult{Status: payment.RefundNotFound}, nil
}
