package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// Metadata keys the plugin sets on Stripe objects; webhooks find Kassa's
// ids through them.
const (
	metaAttempt = "kassa_attempt_id"
	metaOrder   = "kassa_order_id"
	metaNumber  = "kassa_order_number"
	metaRefund  = "kassa_refund_id"
)

func (g *Gateway) configured() (*configured, error) {
	c := g.cfg.Load()
	if c == nil {
		return nil, errors.New("stripe: not configured")
	}
	return c, nil
}

// idemKey derives the Idempotency-Key Stripe gets from Kassa's key. Stripe's
// keys are per account, not per endpoint, and Kassa may use one key for
// different operations of an attempt, so the operation is part of it.
func idemKey(op, kassaKey, fallback string) *string {
	k := kassaKey
	if k == "" {
		k = fallback
	}
	k = "kassa-" + op + "-" + k
	if len(k) > 255 {
		k = k[:255]
	}
	return stripe.String(k)
}

// asStripeError returns the API error behind err, nil for transport
// failures (outcome unknown).
func asStripeError(err error) *stripe.Error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode != 0 {
		return se
	}
	return nil
}

// refusedBeforeCharging reports whether Stripe answered with a refusal that
// proves nothing happened (4xx other than 409/429): a decline as data.
// 5xx, 409 (concurrent use of a key), 429 and transport errors mean the
// outcome is unknown.
func refusedBeforeCharging(se *stripe.Error) bool {
	return se != nil && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 &&
		se.HTTPStatusCode != http.StatusConflict && se.HTTPStatusCode != http.StatusTooManyRequests
}

// declineCode maps Stripe's error to a Kassa decline code.
func declineCode(se *stripe.Error) string {
	switch {
	case se.DeclineCode != "":
		switch string(se.DeclineCode) {
		case "insufficient_funds", "expired_card":
			return string(se.DeclineCode)
		case "authentication_required":
			return payment.DeclineAuthenticationFailed
		}
		return payment.DeclineCardDeclined
	case se.Code == stripe.ErrorCodeAmountTooSmall || se.Code == stripe.ErrorCodeAmountTooLarge:
		return payment.DeclineInvalidAmount
	case se.Code == stripe.ErrorCodeExpiredCard:
		return payment.DeclineExpiredCard
	case se.Code == stripe.ErrorCodePaymentIntentAuthenticationFailure:
		return payment.DeclineAuthenticationFailed
	case se.Code == stripe.ErrorCodeProcessingError:
		return payment.DeclineProcessingError
	case se.Type == stripe.ErrorTypeCard:
		return payment.DeclineCardDeclined
	case se.Param == "currency":
		return payment.DeclineCurrencyNotSupported
	}
	return "invalid_request"
}

func declined(code, locale, staff string) payment.CreateResult {
	return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: code, BuyerMessage: declineText(code).in(locale), MerchantMessage: staff}
}

// CreatePayment implements payment.Gateway. Refusals made before Stripe
// was asked are remembered, so GetPayment answers FAILED for them rather
// than NOT_FOUND.
func (g *Gateway) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	res, err := g.createPayment(ctx, req)
	if err == nil && res.Status == payment.StatusFailed && res.GatewayRef == "" && req.AttemptID != "" {
		if _, known := g.journal.Get(req.AttemptID); !known {
			err = g.remember(req.AttemptID, attempt{Method: req.PaymentMethod, Amount: req.Amount.Amount, Created: g.now().UTC(), Declined: res.DeclineCode})
		}
	}
	return res, err
}

func (g *Gateway) createPayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CreateResult{}, err
	}
	amount, currency, err := toStripe(req.Amount)
	if err != nil {
		code := payment.DeclineInvalidAmount
		if strings.Contains(err.Error(), "currency") {
			code = payment.DeclineCurrencyNotSupported
		}
		return declined(code, req.Locale, err.Error()), nil
	}
	if req.AttemptID == "" {
		return payment.CreateResult{}, errors.New("stripe: CreatePayment without an attempt id")
	}
	method := req.PaymentMethod
	switch method {
	case "", "card", "stripe":
		method = c.s.DefaultMethod
	case "checkout":
		method = MethodCheckout
	}
	if method != MethodElement && method != MethodCheckout && !strings.HasPrefix(method, "pm_") {
		return declined("payment_method_not_supported", req.Locale,
			fmt.Sprintf("unknown payment method %q (stripe_element, stripe_checkout or a Stripe PaymentMethod id pm_...)", req.PaymentMethod)), nil
	}
	// A retry after Stripe forgot the Idempotency-Key (24 h) must not
	// create a second PaymentIntent: the journal answers with the first.
	if a, ok := g.journal.Get(req.AttemptID); ok && a.Amount == req.Amount.Amount && (a.PaymentIntent != "" || a.Session != "") {
		st, err := g.GetPayment(ctx, payment.GetRequest{AttemptID: req.AttemptID})
		if err != nil {
			return payment.CreateResult{}, err
		}
		return payment.CreateResult{Status: st.Status, GatewayRef: st.GatewayRef, Action: st.Action, DeclineCode: st.DeclineCode,
			MerchantMessage: st.MerchantMessage, BuyerMessage: buyerMessage(st, req.Locale)}, nil
	}
	capture := string(stripe.PaymentIntentCaptureMethodAutomatic)
	if c.s.CaptureMethod == "manual" || req.CaptureMethod == payment.CaptureManual {
		capture = string(stripe.PaymentIntentCaptureMethodManual)
	}
	meta := map[string]string{metaAttempt: req.AttemptID}
	if req.OrderID != "" {
		meta[metaOrder] = req.OrderID
	}
	if req.OrderNumber != "" {
		meta[metaNumber] = req.OrderNumber
	}
	description := req.Description
	if description == "" && req.OrderNumber != "" {
		description = "Order " + req.OrderNumber
	}
	if method == MethodCheckout {
		return g.createCheckout(ctx, c, req, amount, currency, capture, meta, description)
	}
	p := &stripe.PaymentIntentCreateParams{
		Amount: stripe.Int64(amount), Currency: stripe.String(currency), CaptureMethod: stripe.String(capture),
		Metadata: meta,
	}
	p.IdempotencyKey = idemKey("create", req.IdempotencyKey, req.AttemptID)
	if description != "" {
		p.Description = stripe.String(description)
	}
	if req.BuyerEmail != "" {
		p.ReceiptEmail = stripe.String(req.BuyerEmail)
	}
	if c.s.StatementSuffix != "" {
		p.StatementDescriptorSuffix = stripe.String(c.s.StatementSuffix)
	}
	if strings.HasPrefix(method, "pm_") {
		// Server-side confirmation with a PaymentMethod the storefront
		// collected: the answer is final, or a 3-D Secure redirect.
		p.PaymentMethod, p.Confirm = stripe.String(method), stripe.Bool(true)
		p.PaymentMethodTypes = []*string{stripe.String("card")}
		if req.ReturnURL != "" {
			p.ReturnURL = stripe.String(req.ReturnURL)
		}
	} else {
		p.AutomaticPaymentMethods = &stripe.PaymentIntentCreateAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true)}
	}
	pi, err := c.sc.V1PaymentIntents.Create(ctx, p)
	if err != nil {
		se := asStripeError(err)
		if !refusedBeforeCharging(se) {
			return payment.CreateResult{}, fmt.Errorf("stripe: create PaymentIntent: %w", err)
		}
		if se.PaymentIntent != nil && se.PaymentIntent.ID != "" {
			// A card decline on confirmation: the PaymentIntent exists,
			// in requires_payment_method with last_payment_error.
			if jerr := g.remember(req.AttemptID, attempt{PaymentIntent: se.PaymentIntent.ID, Method: method, Amount: req.Amount.Amount, Created: g.now().UTC()}); jerr != nil {
				return payment.CreateResult{}, jerr
			}
			res := declined(declineCode(se), req.Locale, "Stripe: "+se.Msg)
			res.GatewayRef = se.PaymentIntent.ID
			return res, nil
		}
		if se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden {
			slog.Error("stripe refused the secret key", "attempt", req.AttemptID, "status", se.HTTPStatusCode)
			return declined(payment.DeclineProcessingError, req.Locale, "Stripe refused the secret key: "+se.Msg), nil
		}
		return declined(declineCode(se), req.Locale, fmt.Sprintf("Stripe refused the request (%s %s): %s", se.Type, se.Code, se.Msg)), nil
	}
	if err := g.remember(req.AttemptID, attempt{PaymentIntent: pi.ID, Method: method, Amount: req.Amount.Amount, Created: g.now().UTC()}); err != nil {
		return payment.CreateResult{}, err
	}
	st := g.intentState(c, pi, method != MethodElement)
	return payment.CreateResult{Status: st.Status, GatewayRef: pi.ID, Action: st.Action, DeclineCode: st.DeclineCode,
		MerchantMessage: st.MerchantMessage, BuyerMessage: buyerMessage(st, req.Locale)}, nil
}

// buyerMessage is the text for a state the buyer sees.
func buyerMessage(st payment.PaymentState, locale string) string {
	switch {
	case st.Status == payment.StatusFailed:
		return declineText(st.DeclineCode).in(locale)
	case st.Action.Type == payment.ActionClientSecret:
		return textPayOnPage.in(locale)
	}
	return ""
}

// createCheckout starts a hosted Checkout Session. Stripe creates its
// PaymentIntent only when the buyer pays, so the session id is the
// attempt's gateway reference; payment_intent_data carries the metadata
// to the PaymentIntent its webhooks are about.
func (g *Gateway) createCheckout(ctx context.Context, c *configured, req payment.CreateRequest, amount int64, currency, capture string, meta map[string]string, description string) (payment.CreateResult, error) {
	if req.ReturnURL == "" {
		return declined("invalid_request", req.Locale, "Stripe Checkout needs a return URL"), nil
	}
	name := "Order " + req.OrderNumber
	if req.OrderNumber == "" {
		name = "Order"
	}
	pid := &stripe.CheckoutSessionCreatePaymentIntentDataParams{CaptureMethod: stripe.String(capture), Metadata: meta}
	if description != "" {
		pid.Description = stripe.String(description)
	}
	if c.s.StatementSuffix != "" {
		pid.StatementDescriptorSuffix = stripe.String(c.s.StatementSuffix)
	}
	p := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(req.AttemptID),
		SuccessURL:        stripe.String(req.ReturnURL),
		CancelURL:         stripe.String(req.ReturnURL),
		Locale:            stripe.String(checkoutLocale(req.Locale)),
		Metadata:          meta,
		PaymentIntentData: pid,
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency: stripe.String(currency), UnitAmount: stripe.Int64(amount),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(name)},
			},
		}},
	}
	p.IdempotencyKey = idemKey("checkout", req.IdempotencyKey, req.AttemptID)
	if req.BuyerEmail != "" {
		p.CustomerEmail = stripe.String(req.BuyerEmail)
	}
	if !req.ExpiresAt.IsZero() {
		// Stripe takes 30 minutes to 24 hours from now.
		exp := req.ExpiresAt
		now := g.now()
		if min := now.Add(31 * time.Minute); exp.Before(min) {
			exp = min
		}
		if max := now.Add(23*time.Hour + 59*time.Minute); exp.After(max) {
			exp = max
		}
		p.ExpiresAt = stripe.Int64(exp.Unix())
	}
	cs, err := c.sc.V1CheckoutSessions.Create(ctx, p)
	if err != nil {
		se := asStripeError(err)
		if !refusedBeforeCharging(se) {
			return payment.CreateResult{}, fmt.Errorf("stripe: create Checkout Session: %w", err)
		}
		return declined(declineCode(se), req.Locale, fmt.Sprintf("Stripe refused the Checkout Session (%s %s): %s", se.Type, se.Code, se.Msg)), nil
	}
	if err := g.remember(req.AttemptID, attempt{Session: cs.ID, Method: MethodCheckout, Amount: req.Amount.Amount, Created: g.now().UTC()}); err != nil {
		return payment.CreateResult{}, err
	}
	return payment.CreateResult{Status: payment.StatusRequiresAction, GatewayRef: cs.ID,
		Action: payment.Action{Type: payment.ActionRedirect, URL: cs.URL, ExpiresAt: unixTime(cs.ExpiresAt)}}, nil
}

func unixTime(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// intentState maps a PaymentIntent to Kassa's view. serverConfirmed says
// the plugin confirmed it with a PaymentMethod, so a decline is final;
// with the Payment Element the buyer may retry on the same intent, which
// then stays REQUIRES_ACTION with the decline noted.
func (g *Gateway) intentState(c *configured, pi *stripe.PaymentIntent, serverConfirmed bool) payment.PaymentState {
	money := fromStripe(pi.Amount, string(pi.Currency))
	st := payment.PaymentState{GatewayRef: pi.ID, Amount: money, MerchantMessage: "Stripe status " + string(pi.Status)}
	secret := payment.Action{Type: payment.ActionClientSecret, ClientSecret: pi.ClientSecret,
		Details: map[string]string{"publishable_key": c.s.PublishableKey, "payment_intent": pi.ID}}
	switch pi.Status {
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		st.Status, st.Action = payment.StatusRequiresAction, secret
		if e := pi.LastPaymentError; e != nil {
			st.DeclineCode = declineCode(e)
			st.MerchantMessage = "Stripe: " + e.Msg
			if serverConfirmed {
				st.Status, st.Action = payment.StatusFailed, payment.Action{}
			}
		}
	case stripe.PaymentIntentStatusRequiresConfirmation:
		st.Status, st.Action = payment.StatusRequiresAction, secret
	case stripe.PaymentIntentStatusRequiresAction:
		st.Status, st.Action = payment.StatusRequiresAction, secret
		if na := pi.NextAction; na != nil && na.RedirectToURL != nil && na.RedirectToURL.URL != "" {
			st.Action = payment.Action{Type: payment.ActionRedirect, URL: na.RedirectToURL.URL}
		}
	case stripe.PaymentIntentStatusProcessing:
		st.Status = payment.StatusPending
	case stripe.PaymentIntentStatusRequiresCapture:
		st.Status = payment.StatusAuthorized
		st.Authorized = fromStripe(pi.AmountCapturable, string(pi.Currency)).Amount
	case stripe.PaymentIntentStatusSucceeded:
		st.Status = payment.StatusSucceeded
		st.Captured = fromStripe(pi.AmountReceived, string(pi.Currency)).Amount
		st.Authorized = st.Captured
	case stripe.PaymentIntentStatusCanceled:
		st.Status = payment.StatusCanceled
		st.MerchantMessage += " (" + string(pi.CancellationReason) + ")"
	default:
		st.Status = payment.StatusPending
	}
	return st
}

// target is the Stripe object behind an attempt.
type target struct {
	pi     *stripe.PaymentIntent
	cs     *stripe.CheckoutSession
	method string
}

// resolve finds the PaymentIntent or Checkout Session of an attempt: by
// the gateway reference, the journal, or Stripe's search on the attempt
// id in the metadata. Both nil without error: Stripe has no such attempt.
func (g *Gateway) resolve(ctx context.Context, c *configured, attemptID, ref string) (target, error) {
	a, known := g.journal.Get(attemptID)
	switch {
	case strings.HasPrefix(ref, "pi_"):
	case strings.HasPrefix(ref, "cs_"):
	case known && a.Session != "":
		ref = a.Session
	case known && a.PaymentIntent != "":
		ref = a.PaymentIntent
	default:
		ref = ""
	}
	t := target{method: a.Method}
	if strings.HasPrefix(ref, "cs_") {
		p := &stripe.CheckoutSessionRetrieveParams{}
		p.AddExpand("payment_intent")
		cs, err := c.sc.V1CheckoutSessions.Retrieve(ctx, ref, p)
		if err != nil {
			if se := asStripeError(err); se != nil && se.HTTPStatusCode == http.StatusNotFound {
				return target{}, nil
			}
			return target{}, fmt.Errorf("stripe: retrieve Checkout Session %s: %w", ref, err)
		}
		t.cs, t.pi, t.method = cs, cs.PaymentIntent, MethodCheckout
		if t.pi != nil && t.pi.Status == "" {
			// Not expanded (an older API version): fetch it.
			pi, err := c.sc.V1PaymentIntents.Retrieve(ctx, t.pi.ID, nil)
			if err != nil {
				return target{}, fmt.Errorf("stripe: retrieve PaymentIntent %s: %w", t.pi.ID, err)
			}
			t.pi = pi
		}
		return t, nil
	}
	if ref != "" {
		pi, err := c.sc.V1PaymentIntents.Retrieve(ctx, ref, nil)
		if err != nil {
			if se := asStripeError(err); se != nil && se.HTTPStatusCode == http.StatusNotFound {
				return target{}, nil
			}
			return target{}, fmt.Errorf("stripe: retrieve PaymentIntent %s: %w", ref, err)
		}
		t.pi = pi
		return t, nil
	}
	if attemptID == "" || strings.ContainsAny(attemptID, `'\`) {
		return target{}, nil
	}
	// The answer of CreatePayment was lost before the journal saw it.
	// Stripe's search is eventually consistent (about a minute), so a
	// fresh intent may be missed: Kassa asks again on its schedule.
	sp := &stripe.PaymentIntentSearchParams{}
	sp.Query = fmt.Sprintf("metadata['%s']:'%s'", metaAttempt, attemptID)
	for pi, err := range c.sc.V1PaymentIntents.Search(ctx, sp) {
		if err != nil {
			return target{}, fmt.Errorf("stripe: search PaymentIntents: %w", err)
		}
		if pi.Metadata[metaAttempt] == attemptID {
			t.pi = pi
			return t, nil
		}
	}
	return target{}, nil
}

// GetPayment implements payment.Gateway.
func (g *Gateway) GetPayment(ctx context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	c, err := g.configured()
	if err != nil {
		return payment.PaymentState{}, err
	}
	if a, ok := g.journal.Get(req.AttemptID); ok && a.Declined != "" && req.GatewayRef == "" {
		return payment.PaymentState{Status: payment.StatusFailed, DeclineCode: a.Declined, MerchantMessage: "refused before reaching Stripe"}, nil
	}
	t, err := g.resolve(ctx, c, req.AttemptID, req.GatewayRef)
	if err != nil {
		return payment.PaymentState{}, err
	}
	switch {
	case t.pi == nil && t.cs == nil:
		return payment.PaymentState{Status: payment.StatusNotFound}, nil
	case t.pi == nil:
		// A Checkout Session nobody paid yet.
		st := payment.PaymentState{GatewayRef: t.cs.ID, Amount: fromStripe(t.cs.AmountTotal, string(t.cs.Currency)),
			MerchantMessage: "Stripe Checkout session " + string(t.cs.Status)}
		switch t.cs.Status {
		case stripe.CheckoutSessionStatusExpired:
			st.Status = payment.StatusCanceled
		default:
			st.Status = payment.StatusRequiresAction
			st.Action = payment.Action{Type: payment.ActionRedirect, URL: t.cs.URL, ExpiresAt: unixTime(t.cs.ExpiresAt)}
		}
		return st, nil
	}
	st := g.intentState(c, t.pi, t.method != MethodElement && t.method != "")
	if t.cs != nil {
		st.GatewayRef = t.cs.ID
		if st.Status == payment.StatusRequiresAction && t.cs.Status == stripe.CheckoutSessionStatusOpen {
			st.Action = payment.Action{Type: payment.ActionRedirect, URL: t.cs.URL, ExpiresAt: unixTime(t.cs.ExpiresAt)}
		}
		if t.cs.Status == stripe.CheckoutSessionStatusExpired && !st.Status.Final() && st.Status != payment.StatusAuthorized {
			st.Status, st.Action = payment.StatusCanceled, payment.Action{}
		}
	}
	if st.Captured > 0 {
		refunded, err := g.refundedTotal(ctx, c, t.pi.ID)
		if err != nil {
			return payment.PaymentState{}, err
		}
		st.Refunded = refunded
	}
	return st, nil
}

// refundedTotal adds up the succeeded refunds of a PaymentIntent.
func (g *Gateway) refundedTotal(ctx context.Context, c *configured, pi string) (int64, error) {
	var sum int64
	p := &stripe.RefundListParams{PaymentIntent: stripe.String(pi)}
	p.Limit = stripe.Int64(100)
	for r, err := range c.sc.V1Refunds.List(ctx, p) {
		if err != nil {
			return 0, fmt.Errorf("stripe: list refunds of %s: %w", pi, err)
		}
		if r.Status == stripe.RefundStatusSucceeded {
			sum += fromStripe(r.Amount, string(r.Currency)).Amount
		}
	}
	return sum, nil
}

// CapturePayment implements payment.Gateway.
func (g *Gateway) CapturePayment(ctx context.Context, req payment.CaptureRequest) (payment.CaptureResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CaptureResult{}, err
	}
	t, err := g.resolve(ctx, c, req.AttemptID, req.GatewayRef)
	if err != nil {
		return payment.CaptureResult{}, err
	}
	if t.pi == nil {
		return payment.CaptureResult{Status: payment.StatusFailed, DeclineCode: payment.FailurePaymentNotFound, MerchantMessage: "Stripe has no PaymentIntent for this attempt"}, nil
	}
	pi := t.pi
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		// Captured already (a retry): the first answer again.
		return payment.CaptureResult{Status: payment.StatusSucceeded, Captured: fromStripe(pi.AmountReceived, string(pi.Currency)).Amount}, nil
	case stripe.PaymentIntentStatusRequiresCapture:
	default:
		return payment.CaptureResult{Status: g.intentState(c, pi, true).Status, DeclineCode: payment.FailureInvalidState,
			MerchantMessage: "the PaymentIntent is " + string(pi.Status) + ", not requires_capture"}, nil
	}
	amount := pi.AmountCapturable
	if req.Amount.Amount > 0 {
		if !strings.EqualFold(req.Amount.Currency, string(pi.Currency)) {
			return payment.CaptureResult{Status: payment.StatusAuthorized, DeclineCode: payment.FailureInvalidState, MerchantMessage: "currency differs from the authorization's"}, nil
		}
		if amount, _, err = toStripe(req.Amount); err != nil {
			return payment.CaptureResult{Status: payment.StatusAuthorized, DeclineCode: payment.DeclineInvalidAmount, MerchantMessage: err.Error()}, nil
		}
	}
	if amount > pi.AmountCapturable {
		return payment.CaptureResult{Status: payment.StatusAuthorized, DeclineCode: payment.FailureAmountExceedsAuthorized,
			MerchantMessage: fmt.Sprintf("capture of %d above the %d authorized", amount, pi.AmountCapturable)}, nil
	}
	out, err := c.sc.V1PaymentIntents.Capture(ctx, pi.ID, captureParams(amount, req.IdempotencyKey, req.AttemptID))
	if err != nil {
		se := asStripeError(err)
		if !refusedBeforeCharging(se) {
			return payment.CaptureResult{}, fmt.Errorf("stripe: capture %s: %w", pi.ID, err)
		}
		code := payment.FailureInvalidState
		if se.Code == stripe.ErrorCodeAmountTooLarge {
			code = payment.FailureAmountExceedsAuthorized
		}
		return payment.CaptureResult{Status: payment.StatusAuthorized, DeclineCode: code, MerchantMessage: "Stripe: " + se.Msg}, nil
	}
	st := g.intentState(c, out, true)
	return payment.CaptureResult{Status: st.Status, Captured: st.Captured}, nil
}

// CancelPayment implements payment.Gateway: it cancels the PaymentIntent
// (voiding an authorization) or expires the Checkout Session. A payment
// that went through first is ALREADY_PAID.
func (g *Gateway) CancelPayment(ctx context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CancelResult{}, err
	}
	for try := 0; try < 2; try++ {
		t, err := g.resolve(ctx, c, req.AttemptID, req.GatewayRef)
		if err != nil {
			return payment.CancelResult{}, err
		}
		if t.pi == nil && t.cs == nil {
			return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled, MerchantMessage: "Stripe has no payment for this attempt"}, nil
		}
		if res, done := cancelOutcome(t); done {
			return res, nil
		}
		if t.cs != nil && t.cs.Status == stripe.CheckoutSessionStatusOpen {
			p := &stripe.CheckoutSessionExpireParams{}
			p.IdempotencyKey = idemKey("expire", req.IdempotencyKey, req.AttemptID)
			_, err = c.sc.V1CheckoutSessions.Expire(ctx, t.cs.ID, p)
		} else {
			p := &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String(string(stripe.PaymentIntentCancellationReasonAbandoned))}
			p.IdempotencyKey = idemKey("cancel", req.IdempotencyKey, req.AttemptID)
			_, err = c.sc.V1PaymentIntents.Cancel(ctx, t.pi.ID, p)
		}
		if err == nil {
			return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled}, nil
		}
		if se := asStripeError(err); !refusedBeforeCharging(se) {
			return payment.CancelResult{}, fmt.Errorf("stripe: cancel %s: %w", req.AttemptID, err)
		}
		// Refused: the buyer paid in between, most likely. Look again.
	}
	return payment.CancelResult{Status: payment.CancelFailed, Code: "gateway_refused", MerchantMessage: "Stripe refused to cancel and the payment is still open"}, nil
}

// cancelOutcome answers a cancel without a call when the state decides it.
func cancelOutcome(t target) (payment.CancelResult, bool) {
	if t.pi == nil {
		if t.cs.Status == stripe.CheckoutSessionStatusExpired {
			return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled}, true
		}
		return payment.CancelResult{}, false
	}
	switch t.pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: payment.StatusSucceeded, MerchantMessage: "the buyer paid before the cancel"}, true
	case stripe.PaymentIntentStatusCanceled:
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled}, true
	case stripe.PaymentIntentStatusProcessing:
		return payment.CancelResult{Status: payment.CancelFailed, PaymentStatus: payment.StatusPending, Code: "processing",
			MerchantMessage: "Stripe is processing the payment; it cannot be canceled now"}, true
	}
	return payment.CancelResult{}, false
}

// Refund implements payment.Gateway. The refund carries Kassa's refund id
// in its metadata, so GetRefund and webhooks find it.
func (g *Gateway) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.RefundResult{}, err
	}
	fail := func(code, msg string) (payment.RefundResult, error) {
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: code, Amount: req.Amount, MerchantMessage: msg}, nil
	}
	amount, _, err := toStripe(req.Amount)
	if err != nil {
		return fail(payment.DeclineInvalidAmount, err.Error())
	}
	t, err := g.resolve(ctx, c, req.AttemptID, req.GatewayRef)
	if err != nil {
		return payment.RefundResult{}, err
	}
	if t.pi == nil {
		return fail(payment.FailurePaymentNotFound, "Stripe has no PaymentIntent for this attempt")
	}
	if !strings.EqualFold(string(t.pi.Currency), req.Amount.Currency) {
		return fail(payment.FailureInvalidState, fmt.Sprintf("the payment is in %s, the refund in %s", strings.ToUpper(string(t.pi.Currency)), req.Amount.Currency))
	}
	switch t.pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
	case stripe.PaymentIntentStatusRequiresCapture:
		return fail(payment.FailurePaymentNotCaptured, "the payment is only authorized; cancel it to release the money")
	default:
		return fail(payment.FailureInvalidState, "the PaymentIntent is "+string(t.pi.Status))
	}
	r, err := c.sc.V1Refunds.Create(ctx, refundParams(t.pi.ID, amount, req))
	if err != nil {
		se := asStripeError(err)
		if !refusedBeforeCharging(se) {
			return payment.RefundResult{}, fmt.Errorf("stripe: refund %s: %w", req.RefundID, err)
		}
		switch {
		case se.Code == stripe.ErrorCodeChargeAlreadyRefunded || se.Code == stripe.ErrorCodeAmountTooLarge || se.Param == "amount":
			return fail(payment.FailureAmountExceedsCaptured, "Stripe: "+se.Msg)
		case se.HTTPStatusCode == http.StatusNotFound:
			return fail(payment.FailurePaymentNotFound, "Stripe: "+se.Msg)
		}
		return fail(payment.FailureInvalidState, fmt.Sprintf("Stripe refused the refund (%s): %s", se.Code, se.Msg))
	}
	return refundResult(r), nil
}

// refundParams is the refund request for a PaymentIntent.
func refundParams(pi string, amount int64, req payment.RefundRequest) *stripe.RefundCreateParams {
	p := &stripe.RefundCreateParams{PaymentIntent: stripe.String(pi), Amount: stripe.Int64(amount)}
	p.Metadata = map[string]string{metaRefund: req.RefundID, metaAttempt: req.AttemptID}
	switch req.Reason {
	case "duplicate", "fraudulent", "requested_by_customer":
		p.Reason = stripe.String(req.Reason)
	}
	p.IdempotencyKey = idemKey("refund", req.IdempotencyKey, req.RefundID)
	return p
}

// captureParams is the capture request of amount (Stripe's units).
func captureParams(amount int64, key, attemptID string) *stripe.PaymentIntentCaptureParams {
	p := &stripe.PaymentIntentCaptureParams{AmountToCapture: stripe.Int64(amount)}
	p.IdempotencyKey = idemKey("capture", key, attemptID)
	return p
}

// refundResult maps a Stripe refund.
func refundResult(r *stripe.Refund) payment.RefundResult {
	out := payment.RefundResult{GatewayRefundRef: r.ID, Amount: fromStripe(r.Amount, string(r.Currency))}
	switch r.Status {
	case stripe.RefundStatusSucceeded:
		out.Status = payment.RefundSucceeded
	case stripe.RefundStatusFailed, stripe.RefundStatusCanceled:
		out.Status, out.FailureCode = payment.RefundFailed, "refund_"+string(r.Status)
		if r.FailureReason != "" {
			out.FailureCode = string(r.FailureReason)
		}
		out.MerchantMessage = "Stripe refund " + string(r.Status)
	default: // pending, requires_action
		out.Status = payment.RefundPending
		out.MerchantMessage = "Stripe refund " + string(r.Status)
	}
	return out
}

// GetRefund implements payment.Gateway: by Stripe's refund id, or among
// the payment's refunds by Kassa's refund id.
func (g *Gateway) GetRefund(ctx context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.RefundResult{}, err
	}
	if strings.HasPrefix(req.GatewayRefundRef, "re_") || strings.HasPrefix(req.GatewayRefundRef, "pyr_") {
		r, err := c.sc.V1Refunds.Retrieve(ctx, req.GatewayRefundRef, nil)
		if err != nil {
			if se := asStripeError(err); se != nil && se.HTTPStatusCode == http.StatusNotFound {
				return payment.RefundResult{Status: payment.RefundNotFound}, nil
			}
			return payment.RefundResult{}, fmt.Errorf("stripe: retrieve refund %s: %w", req.GatewayRefundRef, err)
		}
		return refundResult(r), nil
	}
	t, err := g.resolve(ctx, c, req.AttemptID, req.GatewayRef)
	if err != nil {
		return payment.RefundResult{}, err
	}
	if t.pi == nil {
		return payment.RefundResult{Status: payment.RefundNotFound}, nil
	}
	p := &stripe.RefundListParams{PaymentIntent: stripe.String(t.pi.ID)}
	p.Limit = stripe.Int64(100)
	for r, err := range c.sc.V1Refunds.List(ctx, p) {
		if err != nil {
			return payment.RefundResult{}, fmt.Errorf("stripe: list refunds of %s: %w", t.pi.ID, err)
		}
		if r.Metadata[metaRefund] == req.RefundID {
			return refundResult(r), nil
		}
	}
	return payment.RefundResult{Status: payment.RefundNotFound}, nil
}
