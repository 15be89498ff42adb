package payment_test

import (
	"context"
	"testing"

	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// A bank transfer is confirmed on an attempt of an offline gateway
// (confirm.manual) only, never on a card or wallet attempt, whose gateway
// reports its own money, and never on an attempt whose money is in. A
// gateway's capture of an attempt staff confirmed by hand is flagged as
// a second payment, not ignored.
func TestConfirmBankTransferOnlyOffline(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		const bankID = "payment.bank"
		card := newFake(fakeID)
		bank := newFake(bankID, payment.CapActionInstructions, payment.CapManualConfirmation, payment.CapCancel, payment.CapWebhook)
		f := newFixture(t, db, card, bank)
		o := f.place(t, 1) // 20.00
		ca := f.start(t, o, "")
		finance := staff("finance")

		// Only a card payment waits: nothing to confirm, by order or by id.
		if _, err := f.svc.ConfirmBankTransfer(finance, payment.ConfirmInput{OrderID: o.id, Amount: cny(2000), IdempotencyKey: "c1"}); codeOf(err) != payment.CodeNoOpenAttempt {
			t.Fatalf("confirm with only a card payment: %v, want NO_OPEN_PAYMENT", err)
		}
		if _, err := f.svc.ConfirmBankTransfer(finance, payment.ConfirmInput{OrderID: o.id, AttemptID: ca.ID, Amount: cny(2000), IdempotencyKey: "c2"}); codeOf(err) != payment.CodeNotOffline {
			t.Fatalf("confirm on the card payment: %v, want PAYMENT_NOT_OFFLINE", err)
		}
		if got := f.attempt(t, ca.ID); got.State != payment.StatePending || got.Captured != 0 {
			t.Fatalf("card attempt after refused confirmations: %s, captured %d", got.State, got.Captured)
		}

		// The buyer switches to a bank transfer: that one is confirmed.
		ba, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: bankID, ReturnURL: "https://shop.test/r"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.ConfirmBankTransfer(finance, payment.ConfirmInput{OrderID: o.id, Amount: cny(2000), IdempotencyKey: "c3"})
		if err != nil || got.ID != ba.ID || got.State != payment.StateCaptured {
			t.Fatalf("confirm the transfer: %+v, %v", got, err)
		}
		if _, err := f.svc.ConfirmBankTransfer(finance, payment.ConfirmInput{OrderID: o.id, Amount: cny(2000), IdempotencyKey: "c3"}); err != nil {
			t.Fatalf("repeat: %v", err)
		}
		if _, err := f.svc.ConfirmBankTransfer(finance, payment.ConfirmInput{OrderID: o.id, AttemptID: ba.ID, Amount: cny(2000), IdempotencyKey: "c4"}); codeOf(err) != payment.CodeAlreadyCaptured {
			t.Fatalf("confirm a captured attempt again: %v, want PAYMENT_ALREADY_CAPTURED", err)
		}

		// The gateway reports a capture of the attempt staff confirmed:
		// more money, flagged.
		out, err := f.svc.ApplyWebhook(context.Background(), bankID, payment.WebhookRequest{Method: "POST", Body: body(t, "ok", succeeded(ba, "evt_bank_"+ba.ID))})
		if err != nil {
			t.Fatal(err)
		}
		if out.Flagged != 1 {
			t.Fatalf("a gateway's capture of an attempt confirmed by hand: %+v, want flagged", out)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE attempt_id = ? AND flag_reason = ?", ba.ID, payment.FlagDuplicatePayment); n != 1 {
			t.Fatalf("%d DUPLICATE_PAYMENT flags", n)
		}
	})
}
