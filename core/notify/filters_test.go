package notify_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/notify"
)

// noPorts is an Orders and Payments port the filter test never calls.
type noPorts struct{}

func (noPorts) OrderEmail(context.Context, string) (*notify.OrderEmail, error) { return nil, nil }
func (noPorts) AttemptEmail(context.Context, string) (*notify.PaymentEmail, error) {
	return nil, nil
}
func (noPorts) RefundEmail(context.Context, string, string) (*notify.PaymentEmail, error) {
	return nil, nil
}
func (noPorts) StaffRecipients(context.Context) ([]notify.StaffRecipient, error) { return nil, nil }

// publishedSubjects are the subjects Kassa publishes (and a few it does
// not), the ones the consumers' filters are checked against.
var publishedSubjects = []string{
	"kassa.apikey.created", "kassa.apikey.revoked", "kassa.authz.policy_changed",
	"kassa.collection.created", "kassa.collection.deleted", "kassa.collection.updated",
	"kassa.customer.email_verified", "kassa.customer.erased", "kassa.customer.password_changed",
	"kassa.customer.password_reset_requested", "kassa.customer.registered", "kassa.customer.registration_attempted",
	"kassa.customer.updated", "kassa.customer.verification_requested",
	"kassa.inventory.adjusted", "kassa.inventory.moved", "kassa.invoice.issued",
	"kassa.order.authorized", "kassa.order.cancelled", "kassa.order.completed", "kassa.order.delivered",
	"kassa.order.fulfillment.shipped", "kassa.order.paid", "kassa.order.partially_paid", "kassa.order.partially_refunded", "kassa.order.payment_failed",
	"kassa.order.payment_reminder", "kassa.order.placed", "kassa.order.placed_again", "kassa.order.refunded",
	"kassa.order.shipped", "kassa.order.voided",
	"kassa.payment.authorized", "kassa.payment.cancelled", "kassa.payment.failed", "kassa.payment.flagged",
	"kassa.payment.pending", "kassa.payment.refund_failed", "kassa.payment.refund_pending", "kassa.payment.refund_succeeded",
	"kassa.payment.refund_unknown", "kassa.payment.succeeded", "kassa.payment.unknown",
	"kassa.product.created", "kassa.product.updated", "kassa.product.variant.updated",
	"kassa.plugin.enabled", "kassa.return.requested", "kassa.refund.created",
	"kassa.shop.settings_updated", "kassa.stock.adjusted",
	"kassa.staff.disabled", "kassa.staff.enabled", "kassa.staff.invited", "kassa.staff.joined",
	"kassa.staff.password_reset_requested", "kassa.staff.roles_changed",
}

// TestConsumerFiltersAreWhatHandlersWant: each consumer's filters let
// through exactly the subjects its handler may act on (while every
// channel is enabled), so no consumer is delivered an event it only drops
// and none misses one it wants; and each consumer, known to existing
// streams by its group's index, receives a part of what it received
// under its former filter.
func TestConsumerFiltersAreWhatHandlersWant(t *testing.T) {
	t.Parallel()
	email := &fakeChannel{id: "notify.email", caps: []string{notify.CapPersonal}}
	hook := &fakeChannel{id: "notify.webhook", caps: []string{notify.CapMerchantEvents}}
	d := notify.NewDispatcher(source{email, hook}, notify.Store{}, nil, notify.WithOrders(noPorts{}), notify.WithPayments(noPorts{}))
	consumers := []struct {
		name   string
		groups [][]string
		former []string // the filter each group's consumer had before
		wants  func(context.Context, events.Event) bool
	}{
		{"notify-accounts", d.Subjects(), []string{"kassa.customer.>", "kassa.staff.>"}, d.Wants},
		{"notify-orders", d.OrderSubjects(), []string{"kassa.order.>"}, d.WantsOrder},
		{"notify-payments", d.PaymentSubjects(), []string{"kassa.payment.>", "kassa.order.paid"}, d.WantsPayment},
		{"notify-merchant", d.MerchantSubjects(), []string{"kassa.>"}, d.WantsForward},
	}
	for _, c := range consumers {
		if len(c.groups) != len(c.former) {
			t.Fatalf("%s: %d groups, existing streams know %d consumers", c.name, len(c.groups), len(c.former))
		}
		subjects := slices.Clone(publishedSubjects)
		for i, g := range c.groups {
			if len(g) == 0 {
				t.Errorf("%s-%d has no filter", c.name, i)
			}
			for _, f := range g {
				if err := events.ValidateFilter(f); err != nil {
					t.Errorf("%s-%d: %v", c.name, i, err)
				}
				if !strings.Contains(f, "*") && !strings.Contains(f, ">") {
					subjects = append(subjects, f)
				}
			}
		}
		for _, s := range subjects {
			e := events.MustNew(s, map[string]any{})
			in := -1
			for i, g := range c.groups {
				if slices.ContainsFunc(g, func(f string) bool { return events.SubjectMatches(f, s) }) {
					if in >= 0 {
						t.Errorf("%s: %s is delivered to groups %d and %d", c.name, s, in, i)
					}
					in = i
				}
			}
			switch wanted := c.wants(context.Background(), e); {
			case in >= 0 && !wanted:
				t.Errorf("%s-%d is delivered %s, which it does not want", c.name, in, s)
			case in < 0 && wanted:
				t.Errorf("%s is not delivered %s, which it wants", c.name, s)
			case in >= 0 && !events.SubjectMatches(c.former[in], s):
				t.Errorf("%s-%d is delivered %s, which its former filter %s did not take", c.name, in, s, c.former[in])
			}
		}
	}
}
