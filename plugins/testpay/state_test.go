package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	sdkstate "github.com/kassahq/kassa/plugins/sdk/state"
)

func newInProcess(t *testing.T, dir string) *Gateway {
	t.Helper()
	g, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := g.Configure(context.Background(), config("")); !res.OK() {
		t.Fatal(res.Errors)
	}
	return g
}

// TestJournalReplay: every kind of change survives a restart through the
// journal, lookups by ref work after it, and a line torn by a crash in
// the middle of a write is dropped while a corrupt line inside the
// journal is refused.
func TestJournalReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	g := newInProcess(t, dir)
	paid := create(t, g, "pay_1", "succeed", 1999, "")
	page := create(t, g, "pay_2", "redirect", 700, "")
	auth, err := g.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_3", IdempotencyKey: "idem_pay_3", PaymentMethod: "succeed",
		CaptureMethod: payment.CaptureManual, Amount: sdk.Money{Amount: 500, Currency: "EUR"}})
	if err != nil || auth.Status != payment.StatusAuthorized {
		t.Fatalf("manual capture: %+v %v", auth, err)
	}
	if c, err := g.CapturePayment(ctx, payment.CaptureRequest{AttemptID: "pay_3", IdempotencyKey: "cap_1",
		Amount: sdk.Money{Amount: 400, Currency: "EUR"}}); err != nil || c.Status != payment.StatusSucceeded {
		t.Fatalf("capture: %+v %v", c, err)
	}
	if r, err := g.Refund(ctx, payment.RefundRequest{RefundID: "ref_1", AttemptID: "pay_1",
		Amount: sdk.Money{Amount: 999, Currency: "EUR"}}); err != nil || r.Status != payment.RefundSucceeded {
		t.Fatalf("refund: %+v %v", r, err)
	}
	ref := strings.TrimPrefix(page.Action.URL, "https://shop.test/plugins/payment.testpay/pay/")
	if res, _ := g.HandleHTTP(ctx, sdk.HTTPRequest{Method: "POST", Path: "/pay/" + ref, Body: []byte("action=pay")}); res.Status != 303 {
		t.Fatalf("pay on the page: %d %s", res.Status, res.Body)
	}

	g2 := newInProcess(t, dir)
	want := map[string]struct {
		status             payment.Status
		captured, refunded int64
	}{
		"pay_1": {payment.StatusSucceeded, 1999, 999},
		"pay_2": {payment.StatusSucceeded, 700, 0},
		"pay_3": {payment.StatusSucceeded, 400, 0},
	}
	for id, w := range want {
		st, err := g2.GetPayment(ctx, payment.GetRequest{AttemptID: id})
		if err != nil || st.Status != w.status || st.Captured != w.captured || st.Refunded != w.refunded {
			t.Errorf("after restart %s = %+v, %v; want %+v", id, st, err, w)
		}
	}
	if st, _ := g2.GetPayment(ctx, payment.GetRequest{GatewayRef: paid.GatewayRef}); st.GatewayRef != paid.GatewayRef {
		t.Errorf("by ref after restart: %+v", st)
	}
	if res, _ := g2.HandleHTTP(ctx, sdk.HTTPRequest{Method: "GET", Path: "/pay/" + ref}); res.Status != 200 || !strings.Contains(string(res.Body), "This payment is complete.") {
		t.Errorf("page after restart: %d %s", res.Status, res.Body)
	}
	if again := create(t, g2, "pay_1", "succeed", 1999, ""); again.GatewayRef != paid.GatewayRef {
		t.Errorf("idempotent retry after restart: ref %q, want %q", again.GatewayRef, paid.GatewayRef)
	}
	if c, _ := g2.CapturePayment(ctx, payment.CaptureRequest{AttemptID: "pay_3", IdempotencyKey: "cap_1",
		Amount: sdk.Money{Amount: 400, Currency: "EUR"}}); c.Status != payment.StatusSucceeded || c.Captured != 400 {
		t.Errorf("capture retry after restart: %+v", c)
	}
	if r, _ := g2.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_1"}); r.Status != payment.RefundSucceeded {
		t.Errorf("refund after restart: %+v", r)
	}

	path := filepath.Join(dir, recordsFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"payment":{"ref":"tp_torn","attempt_id":"pay_torn"`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	g3 := newInProcess(t, dir)
	if st, _ := g3.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_torn"}); st.Status != payment.StatusNotFound {
		t.Errorf("a torn last line was applied: %+v", st)
	}
	if st, _ := g3.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_1"}); st.Refunded != 999 {
		t.Errorf("state lost behind a torn line: %+v", st)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append([]byte("{not json}\n"), b...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a corrupt line inside the journal: err = %v, want it named", err)
	}
}

// TestJournalCompaction: many changes to few payments keep the journal
// bounded, and the compacted journal replays to the same state.
func TestJournalCompaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	g := newInProcess(t, dir)
	p := &record{Ref: "tp_1", AttemptID: "pay_1", Amount: 100, Currency: "EUR", Status: payment.StatusPending.String()}
	const changes = 3 * sdkstate.DefaultCompactMin
	g.mu.Lock()
	g.st.putPayment(p)
	g.st.Keys["k1"] = "pay_1"
	g.persist(entry{Payment: p, Key: "k1"})
	for i := range changes {
		p.Captured = int64(i)
		g.persist(entry{Payment: p})
	}
	g.mu.Unlock()
	g.sync()
	b, err := os.ReadFile(filepath.Join(dir, recordsFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n > sdkstate.DefaultCompactMin+1 {
		t.Errorf("journal has %d lines after %d changes to one payment; want at most %d", n, changes+1, sdkstate.DefaultCompactMin+1)
	}
	s2, j2, err := open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if got := s2.Payments["pay_1"]; got == nil || got.Captured != int64(changes-1) || s2.Keys["k1"] != "pay_1" || s2.byRef("tp_1") != got {
		t.Errorf("after compaction: %+v keys %v", got, s2.Keys)
	}
}

// TestOldJournalFolded: the entry journal of testpay 1.1, torn last line
// included, is read once, folded into the records journal and removed.
func TestOldJournalFolded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := `{"payment":{"ref":"tp_j","attempt_id":"pay_j","amount":500,"currency":"EUR","status":"SUCCEEDED","captured":500,` +
		`"created":{"Status":3,"GatewayRef":"tp_j","Amount":{"Amount":500,"Currency":"EUR"}}},"key":"idem_j"}` + "\n" +
		`{"refund":{"id":"ref_j","ref":"tpr_j","attempt_id":"pay_j","amount":200,"currency":"EUR","status":"SUCCEEDED"}}` + "\n" +
		`{"payment":{"ref":"tp_torn"`
	if err := os.WriteFile(filepath.Join(dir, oldJournalFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	newInProcess(t, dir)
	if _, err := os.Stat(filepath.Join(dir, oldJournalFile)); !os.IsNotExist(err) {
		t.Errorf("old journal still there: %v", err)
	}
	g := newInProcess(t, dir) // from the records journal alone
	ctx := context.Background()
	if st, _ := g.GetPayment(ctx, payment.GetRequest{GatewayRef: "tp_j"}); st.Status != payment.StatusSucceeded || st.Captured != 500 {
		t.Errorf("folded payment: %+v", st)
	}
	if r, _ := g.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_j"}); r.Status != payment.RefundSucceeded {
		t.Errorf("folded refund: %+v", r)
	}
	if g.st.Keys["idem_j"] != "pay_j" {
		t.Errorf("folded key: %v", g.st.Keys)
	}
	if st, _ := g.GetPayment(ctx, payment.GetRequest{GatewayRef: "tp_torn"}); st.Status != payment.StatusNotFound {
		t.Errorf("the torn line was applied: %+v", st)
	}
}

// TestLegacyStateMigrates: the whole-state file of earlier versions is read
// once, folded into the journal and removed.
func TestLegacyStateMigrates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := newState()
	old.Payments["pay_old"] = &record{Ref: "tp_old", AttemptID: "pay_old", Amount: 300, Currency: "EUR",
		Status: payment.StatusSucceeded.String(), Captured: 300, CreatedAt: time.Now().UTC(),
		Created: payment.CreateResult{Status: payment.StatusSucceeded, GatewayRef: "tp_old", Amount: sdk.Money{Amount: 300, Currency: "EUR"}}}
	old.Keys["idem_pay_old"] = "pay_old"
	old.Refunds["ref_old"] = &refundRecord{ID: "ref_old", Ref: "tpr_old", AttemptID: "pay_old", Amount: 100, Currency: "EUR",
		Status: payment.RefundSucceeded.String()}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, legacyStateFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	newInProcess(t, dir)
	if _, err := os.Stat(filepath.Join(dir, legacyStateFile)); !os.IsNotExist(err) {
		t.Errorf("legacy state file still there: %v", err)
	}
	g := newInProcess(t, dir) // from the journal alone
	ctx := context.Background()
	if st, _ := g.GetPayment(ctx, payment.GetRequest{GatewayRef: "tp_old"}); st.Status != payment.StatusSucceeded || st.Captured != 300 {
		t.Errorf("migrated payment: %+v", st)
	}
	if r, _ := g.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_old"}); r.Status != payment.RefundSucceeded {
		t.Errorf("migrated refund: %+v", r)
	}
	res, err := g.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_other", IdempotencyKey: "idem_pay_old",
		PaymentMethod: "succeed", Amount: sdk.Money{Amount: 300, Currency: "EUR"}})
	if err != nil || res.GatewayRef != "tp_old" {
		t.Errorf("migrated idempotency key: %+v %v", res, err)
	}
}
