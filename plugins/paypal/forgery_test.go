package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/paypal/internal/sandbox"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// TestCRCForgery: PayPal signs a CRC-32 of the body, not the body. A
// body written to the CRC of one signed delivery passes the signature
// check with that delivery's headers (offline, and through PayPal's
// verify-webhook-signature as the sandbox plays it), so what the event
// says is not believed: the capture it names is read back from PayPal.
func TestCRCForgery(t *testing.T) {
	for _, mode := range []string{VerifyAPI, VerifyOffline} {
		t.Run(mode, func(t *testing.T) {
			s := newShop(t, sandbox.Options{}, mode, nil)
			paid := s.create(t, "pay_paid", 100, false)
			capID, err := s.sb.Capture(paid.GatewayRef)
			if err != nil {
				t.Fatal(err)
			}
			unpaid := s.create(t, "pay_unpaid", 250000, false)
			now := time.Now()
			// The delivery the attacker holds: the capture of their own
			// small payment, signed by PayPal, never shown to this process.
			genuine := captureEvent(payment.Event{ID: "WH-GENUINE-0001", AttemptID: "pay_paid", GatewayRef: paid.GatewayRef,
				Amount: sdk.Money{Amount: 100, Currency: "USD"}, OccurredAt: now}, capID)

			for _, tc := range []struct {
				name      string
				captureID string
				want      payment.RejectionReason
			}{
				// A capture PayPal does not have: refused.
				{"invented capture", "8MC585209K746392H", payment.RejectMalformed},
				// The real capture, claimed for the unpaid attempt: PayPal's
				// record names the paid attempt and its amount.
				{"real capture, other attempt", capID, payment.RejectNone},
			} {
				forged := forgeCRC(t, captureEvent(payment.Event{ID: "WH-FORGED-" + tc.captureID[:4], AttemptID: "pay_unpaid", GatewayRef: unpaid.GatewayRef,
					Amount: sdk.Money{Amount: 250000, Currency: "USD"}, OccurredAt: now}, tc.captureID), crc32.ChecksumIEEE(genuine))
				// A transmission of its own for each forgery: a copy of one
				// is refused as a replay before anything else.
				h := s.sb.Sign(genuine, now)
				res, err := s.gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: http.MethodPost, Header: h, Body: forged, ReceivedAt: now})
				if err != nil {
					t.Fatalf("%s: HandleWebhook: %v", tc.name, err)
				}
				got := payment.RejectNone
				if res.Rejection != nil {
					got = res.Rejection.Reason
				}
				if got != tc.want {
					t.Errorf("%s: rejection %s (%+v), want %s", tc.name, got, res.Rejection, tc.want)
				}
				for _, ev := range res.Events {
					if ev.AttemptID != "pay_paid" || ev.GatewayRef != paid.GatewayRef || ev.Amount != (sdk.Money{Amount: 100, Currency: "USD"}) {
						t.Errorf("%s: the forged body was believed: %+v", tc.name, ev)
					}
				}
			}
		})
	}
}

// TestCopiesAskPayPalOnce: copies of one transmission, or bodies forged to
// its CRC, are refused as replays before PayPal is asked about them, so a
// holder of one signed delivery cannot spend the shop's PayPal API quota.
func TestCopiesAskPayPalOnce(t *testing.T) {
	s := newShop(t, sandbox.Options{}, VerifyOffline, nil)
	now := time.Now()
	body := captureEvent(payment.Event{ID: "WH-COPIES-0001", AttemptID: "pay_x", GatewayRef: "ORDER1",
		Amount: sdk.Money{Amount: 100, Currency: "USD"}, OccurredAt: now}, "8MC585209K746392H")
	h := s.sb.Sign(body, now)
	before := s.sb.PaymentReads()
	for i := 0; i < 5; i++ {
		want := payment.RejectReplay
		if i == 0 {
			want = payment.RejectMalformed // PayPal has no such capture
		}
		res, err := s.gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: http.MethodPost, Header: h.Clone(), Body: body, ReceivedAt: now})
		if err != nil || res.Rejection == nil || res.Rejection.Reason != want {
			t.Fatalf("copy %d: %+v, %v; want %s", i, res, err, want)
		}
	}
	if n := s.sb.PaymentReads() - before; n != 1 {
		t.Errorf("5 copies of one transmission asked PayPal %d times, want 1", n)
	}
}

// TestApprovalNamesItsOwnAttempt: a CHECKOUT.ORDER.APPROVED body whose
// signature passes (a CRC match, or another instance's delivery) but
// names another attempt than the order's own is refused, and the order's
// attempt comes from PayPal. Before, an instance that did not know the
// named attempt (a second instance, its own journal) reported the
// order's capture as that attempt's payment: one payment, two orders paid.
func TestApprovalNamesItsOwnAttempt(t *testing.T) {
	for _, mode := range []string{VerifyAPI, VerifyOffline} {
		t.Run(mode, func(t *testing.T) {
			s := newShop(t, sandbox.Options{}, mode, nil)
			s.sb.HoldDeliveries() // the sandbox's own APPROVED event stays out of the way
			res := s.create(t, "pay_own", 2500, false)
			if err := s.sb.Approve(res.GatewayRef, sandbox.OutcomeCompleted); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			approval := func(id, customID string) []byte {
				b, _ := json.Marshal(map[string]any{"id": id, "event_version": "1.0", "create_time": now.Format(time.RFC3339),
					"resource_type": "checkout-order", "event_type": "CHECKOUT.ORDER.APPROVED",
					"resource": map[string]any{"id": res.GatewayRef, "status": "APPROVED",
						"purchase_units": []any{map[string]any{"custom_id": customID, "amount": map[string]string{"currency_code": "USD", "value": "25.00"}}}}})
				return b
			}
			deliver := func(body []byte) payment.WebhookResult {
				t.Helper()
				out, err := s.gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: http.MethodPost, Header: s.sb.Sign(body, now), Body: body, ReceivedAt: now})
				if err != nil {
					t.Fatalf("HandleWebhook: %v", err)
				}
				return out
			}
			forged := deliver(approval("WH-APPROVED-OTHER", "pay_someone_else"))
			if forged.Rejection == nil || len(forged.Events) != 0 {
				t.Fatalf("an approval naming another attempt: %+v", forged)
			}
			genuine := deliver(approval("WH-APPROVED-OWN", "pay_own"))
			if genuine.Rejection != nil || len(genuine.Events) != 1 || genuine.Events[0].AttemptID != "pay_own" ||
				genuine.Events[0].Type != payment.EventPaymentSucceeded || genuine.Events[0].Amount != (sdk.Money{Amount: 2500, Currency: "USD"}) {
				t.Fatalf("the order's own approval: %+v", genuine)
			}
		})
	}
}

// forgeCRC returns body with the 4 characters of its "summary" string
// chosen so that the CRC-32 of the whole is want. CRC-32 is affine in the
// message bits, so the 32 unknown bits are a linear system over GF(2);
// a nonce in the same string is varied until the solution is printable
// and needs no JSON escape.
func forgeCRC(t *testing.T, body []byte, want uint32) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	for nonce := 0; nonce < 100000; nonce++ {
		ev["summary"] = fmt.Sprintf("Payment completed %d XXXX", nonce)
		msg, _ := json.Marshal(ev)
		at := bytes.Index(msg, []byte("XXXX"))
		var hole [4]byte
		copy(msg[at:], hole[:])
		base := crc32.ChecksumIEEE(msg)
		var cols [32]uint32
		for i := range cols {
			m := append([]byte(nil), msg...)
			m[at+i/8] ^= 1 << (i % 8)
			cols[i] = crc32.ChecksumIEEE(m) ^ base
		}
		x, ok := solveGF2(cols, want^base)
		if !ok {
			t.Fatal("CRC system without solution")
		}
		xb := [4]byte{byte(x), byte(x >> 8), byte(x >> 16), byte(x >> 24)}
		printable := true
		for _, c := range xb {
			// Printable, and written the same by every JSON encoder:
			// Go's escapes <, > and &, and PayPal's API verification
			// reads the event re-encoded.
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				printable = false
			}
		}
		if !printable {
			continue
		}
		copy(msg[at:], xb[:])
		if crc32.ChecksumIEEE(msg) != want {
			t.Fatal("forged CRC does not match")
		}
		return msg
	}
	t.Fatal("no printable forgery found")
	return nil
}

// solveGF2 finds x with XOR of cols[i] for each set bit i of x equal to
// target.
func solveGF2(cols [32]uint32, target uint32) (uint32, bool) {
	// Rows: bit r of each column plus the target bit, eliminated in place.
	type row struct{ coef, rhs uint32 }
	var rows [32]row
	for r := 0; r < 32; r++ {
		for i, c := range cols {
			rows[r].coef |= (c >> r & 1) << i
		}
		rows[r].rhs = target >> r & 1
	}
	for col, piv := 0, 0; col < 32 && piv < 32; col++ {
		p := -1
		for r := piv; r < 32; r++ {
			if rows[r].coef>>col&1 == 1 {
				p = r
				break
			}
		}
		if p < 0 {
			continue
		}
		rows[piv], rows[p] = rows[p], rows[piv]
		for r := 0; r < 32; r++ {
			if r != piv && rows[r].coef>>col&1 == 1 {
				rows[r].coef ^= rows[piv].coef
				rows[r].rhs ^= rows[piv].rhs
			}
		}
		piv++
	}
	var x uint32
	for _, r := range rows {
		if r.coef == 0 {
			if r.rhs != 0 {
				return 0, false
			}
			continue
		}
		// After full elimination each nonzero row has one pivot bit.
		for i := 0; i < 32; i++ {
			if r.coef == 1<<i {
				x |= r.rhs << i
			}
		}
	}
	return x, true
}
