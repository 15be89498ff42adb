package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/plutov/paypal/v4"

	"github.com/kassahq/kassa/plugins/sdk"
)

// api is the PayPal REST API through github.com/plutov/paypal/v4, whose
// client fetches the OAuth 2.0 client-credentials token and caches it
// until a minute before it expires.
//
// The library falls short for several calls Kassa needs, so they are
// made with its NewRequest and SendWithAuth (same token, same error type):
// its Order type has no authorizations or refunds under payments;
// AuthorizeOrder and VoidAuthorization send no PayPal-Request-Id;
// RefundCaptureRequest has no custom_id; and
// CaptureOrderWithPaypalRequestId sets a flag on the shared client on
// every call (a data race between concurrent captures).
type api struct {
	c *paypal.Client
}

// do sends one authorized call; requestID, when set, is PayPal-Request-Id,
// so PayPal answers a repeat with the first answer and acts once.
func (a *api) do(ctx context.Context, method, path string, body any, requestID string, out any) error {
	req, err := a.c.NewRequest(ctx, method, a.c.APIBase+path, body)
	if err != nil {
		return err
	}
	if requestID != "" {
		req.Header.Set("PayPal-Request-Id", requestID)
	}
	if method == http.MethodPost {
		req.Header.Set("Prefer", "return=representation")
	}
	return a.c.SendWithAuth(req, out)
}

// isStatus reports whether err is PayPal's answer with that HTTP status.
func isStatus(err error, status int) bool {
	var pe *paypal.ErrorResponse
	return errors.As(err, &pe) && pe.Response != nil && pe.Response.StatusCode == status
}

// isAPIError reports whether err is an answer of PayPal (not a network
// failure).
func isAPIError(err error) bool {
	var pe *paypal.ErrorResponse
	return errors.As(err, &pe)
}

// issue returns the first issue code of PayPal's error answer, e.g.
// "REFUND_AMOUNT_EXCEEDED", or "".
func issue(err error) string {
	var pe *paypal.ErrorResponse
	if errors.As(err, &pe) && len(pe.Details) > 0 {
		return pe.Details[0].Issue
	}
	return ""
}

// describe is a staff-readable summary of PayPal's error answer.
func describe(err error) string {
	var pe *paypal.ErrorResponse
	if !errors.As(err, &pe) {
		return err.Error()
	}
	s := pe.Name
	if len(pe.Details) > 0 {
		s += " " + pe.Details[0].Issue
		if pe.Details[0].Description != "" {
			s += ": " + pe.Details[0].Description
		}
	} else if pe.Message != "" {
		s += ": " + pe.Message
	}
	if pe.DebugID != "" {
		s += " (debug_id " + pe.DebugID + ")"
	}
	return "PayPal: " + s
}

// ppMoney is PayPal's money object.
type ppMoney struct {
	Currency string `json:"currency_code"`
	Value    string `json:"value"`
}

func toPP(m sdk.Money) ppMoney { return ppMoney{Currency: m.Currency, Value: formatValue(m)} }

func (m ppMoney) minor() (sdk.Money, error) { return parseValue(m.Currency, m.Value) }

type ppLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// ppPayment is a capture, authorization or refund of Payments v2.
type ppPayment struct {
	ID            string  `json:"id"`
	Status        string  `json:"status"`
	Amount        ppMoney `json:"amount"`
	CustomID      string  `json:"custom_id"`
	InvoiceID     string  `json:"invoice_id"`
	CreateTime    string  `json:"create_time"`
	UpdateTime    string  `json:"update_time"`
	StatusDetails *struct {
		Reason string `json:"reason"`
	} `json:"status_details"`
	SupplementaryData struct {
		RelatedIDs struct {
			OrderID         string `json:"order_id"`
			AuthorizationID string `json:"authorization_id"`
			CaptureID       string `json:"capture_id"`
		} `json:"related_ids"`
	} `json:"supplementary_data"`
	Links []ppLink `json:"links"`
}

// ppOrder is an Orders v2 order with everything Kassa reads.
type ppOrder struct {
	ID            string   `json:"id"`
	Intent        string   `json:"intent"`
	Status        string   `json:"status"`
	Links         []ppLink `json:"links"`
	PurchaseUnits []struct {
		Amount    ppMoney `json:"amount"`
		CustomID  string  `json:"custom_id"`
		InvoiceID string  `json:"invoice_id"`
		Payments  struct {
			Authorizations []ppPayment `json:"authorizations"`
			Captures       []ppPayment `json:"captures"`
			Refunds        []ppPayment `json:"refunds"`
		} `json:"payments"`
	} `json:"purchase_units"`
}

// link returns the href of the link with rel, or "".
func link(links []ppLink, rel string) string {
	for _, l := range links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}
