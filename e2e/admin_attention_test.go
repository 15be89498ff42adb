package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAdminNeedsAttention is the dashboard's "Needs attention" in
// Chromium: a bank transfer that paid 5.00 more than the order is
// flagged OVERPAID and listed with a link to its order; the owner resolves
// it with a note, the list empties, and the order's gateway events say
// who resolved it and why.
func TestAdminNeedsAttention(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t, "banktransfer")
	o := s.placeOrder()
	var detail struct {
		Order struct{ Total struct{ Amount string } }
	}
	s.do(s.staff, `query($id: ID!) { order(id: $id) { total { amount } } }`, map[string]any{"id": o.id}, &detail)
	var created struct {
		PaymentCreate struct {
			Payment    struct{ ID string }
			UserErrors []struct{ Code string }
		}
	}
	s.do(s.staff, `mutation($in: PaymentCreateInput!) { paymentCreate(input: $in) { payment { id } userErrors { code } } }`,
		map[string]any{"in": map[string]any{"orderId": o.id, "gatewayId": "payment.banktransfer", "idempotencyKey": key()}}, &created)
	if len(created.PaymentCreate.UserErrors) > 0 {
		t.Fatalf("bank transfer: %+v", created.PaymentCreate.UserErrors)
	}
	var confirmed struct {
		PaymentConfirmBankTransfer struct{ UserErrors []struct{ Code string } }
	}
	s.do(s.staff, `mutation($in: PaymentConfirmBankTransferInput!) { paymentConfirmBankTransfer(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"orderId": o.id, "amount": map[string]any{"amount": plus5(t, detail.Order.Total.Amount), "currencyCode": "CNY"}, "idempotencyKey": key()}}, &confirmed)
	if len(confirmed.PaymentConfirmBankTransfer.UserErrors) > 0 {
		t.Fatalf("confirm: %+v", confirmed.PaymentConfirmBankTransfer.UserErrors)
	}

	owner := newAdminTab(t, s.in.base, "owner-attention")
	owner.signIn(crashOwner, crashPassword)
	owner.do("the dashboard", chromedp.Navigate(s.in.base+"/admin/"), chromedp.WaitVisible(`#attention`))
	owner.shotAs("admin-attention-overpaid.png")
	if got := owner.text(`#attention`); !strings.Contains(got, "Overpaid") || !strings.Contains(got, "Open the order") {
		t.Errorf("the list reads %q", got)
	}
	if owner.count(`#attention a[href$="/orders/`+o.id+`"]`) != 1 {
		t.Error("the flag does not link to its order")
	}
	owner.do("resolve it", chromedp.Click(`#attention button[id^="resolve-"]`), chromedp.WaitVisible(`#attention textarea`),
		fill(`#attention textarea`, "Sent the 5.00 back by bank transfer."), chromedp.Click(`#attention button[type=submit]`),
		until(`!document.querySelector('#attention') && document.body.textContent.includes('Nothing needs your attention.')`))
	owner.shotAs("admin-attention-resolved.png")

	var flags struct {
		FlaggedPaymentEvents []struct {
			OrderID, ResolutionNote string
			ResolvedAt, ResolvedBy  *string
		}
	}
	s.do(s.staff, `{ flaggedPaymentEvents(first: 10, resolved: true) { orderId resolvedAt resolvedBy resolutionNote } }`, nil, &flags)
	if len(flags.FlaggedPaymentEvents) != 1 || flags.FlaggedPaymentEvents[0].ResolvedAt == nil || flags.FlaggedPaymentEvents[0].ResolutionNote != "Sent the 5.00 back by bank transfer." {
		t.Fatalf("the flags: %+v", flags.FlaggedPaymentEvents)
	}
	owner.do("the order's events in Chinese", fill(`.topbar .lang`, "zh-CN"), chromedp.Navigate(s.in.base+"/admin/orders/"+o.id),
		until(`document.body.textContent.includes('处理') && document.body.textContent.includes('Sent the 5.00 back by bank transfer.')`))
	owner.shotAs("admin-attention-order-zh.png")
	owner.noCSPViolations()
}

// plus5 adds 5.00 to a decimal amount of two minor digits.
func plus5(t *testing.T, amount string) string {
	t.Helper()
	minor, err := strconv.Atoi(strings.Replace(amount, ".", "", 1))
	if err != nil || !strings.Contains(amount, ".") {
		t.Fatalf("amount %q", amount)
	}
	minor += 500
	return fmt.Sprintf("%d.%02d", minor/100, minor%100)
}
