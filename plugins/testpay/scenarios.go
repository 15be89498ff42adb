package main

import (
	"strings"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// scenario is what a test card (or amount) makes testpay do.
type scenario struct {
	// name is the scenario's word, also accepted as the payment method hint.
	name string
	// card is the test card number that triggers it.
	card string
	// cents triggers it by the amount's last two digits when amount
	// triggers are enabled and no hint is given; -1 for none.
	cents int64
	// description for the package documentation and the payment page.
	description string
}

// The scenarios. Keep the table in doc.go and docs/plugins.md in sync.
var scenarios = []scenario{
	{"succeed", "4242424242424242", 0, "succeeds at once (SUCCEEDED, or AUTHORIZED with manual capture); notifies payment.succeeded"},
	{"decline", "4000000000000002", 2, "declined: FAILED with decline code card_declined; notifies payment.failed"},
	{"insufficient_funds", "4000000000009995", 5, "declined: FAILED with decline code insufficient_funds"},
	{"expired_card", "4000000000000069", 6, "declined: FAILED with decline code expired_card"},
	{"redirect", "4000000000003220", 50, "3-D Secure-like: REQUIRES_ACTION with a REDIRECT to testpay's payment page (served by Kassa under /plugins/payment.testpay/pay/{ref}); the buyer clicks Pay or Fail there"},
	{"qr", "4000000000000085", 60, "REQUIRES_ACTION with a QR_CODE whose content is the payment page's URL"},
	{"async", "4000000000000010", 10, "PENDING; succeeds after async_delay_ms and then notifies payment.succeeded"},
	{"async_decline", "4000000000000028", 15, "PENDING; fails after async_delay_ms (insufficient_funds) and notifies payment.failed"},
	{"never_notify", "4000000000000036", 20, "PENDING; succeeds after async_delay_ms but never notifies: only GetPayment (reconciliation) finds out"},
	{"notify_twice", "4000000000000044", 30, "succeeds at once and delivers the payment.succeeded notification twice (same event id, signed anew)"},
	{"timeout", "4000000000000051", 40, "the payment succeeds at the gateway but CreatePayment blocks past Kassa's deadline (outcome unknown; GetPayment finds it SUCCEEDED, a retry answers at once)"},
}

func scenarioByName(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// pick chooses the scenario for a request: the payment method hint (a test
// card number, with or without spaces, "card:" or "tok_" prefix, or a
// scenario name), else the amount (when amount triggers are on), else the
// payment page where the buyer decides.
func pick(req payment.CreateRequest, amountTriggers bool) scenario {
	hint := strings.TrimSpace(req.PaymentMethod)
	hint = strings.TrimPrefix(strings.TrimPrefix(hint, "card:"), "tok_")
	hint = strings.NewReplacer(" ", "", "-", "").Replace(hint)
	if hint != "" && hint != "card" && hint != "testpay" {
		for _, s := range scenarios {
			if hint == s.card || strings.EqualFold(hint, s.name) {
				return s
			}
		}
	}
	if amountTriggers {
		cents := req.Amount.Amount % 100
		for _, s := range scenarios {
			if s.cents == cents && s.cents != 0 {
				return s
			}
		}
		s, _ := scenarioByName("succeed")
		return s
	}
	s, _ := scenarioByName("redirect")
	return s
}
