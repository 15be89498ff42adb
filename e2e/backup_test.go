package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupOfARunningShop: kassa backup copies a shop while it serves
// and pays, and the copy starts as that shop: its orders, its owner's
// password, and its gateway, whose secret opens with the copied key.
func TestBackupOfARunningShop(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)
	kassa(t, s.dir, "plugin", "settings", "payment.testpay", "--set", `{"webhook_secret":"whsec-backup-test-0123"}`)
	o := s.placeOrder()
	if out, err := s.pay(o, "succeed"); err != nil {
		t.Fatalf("pay: %v %s", err, out)
	}
	s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })

	to := filepath.Join(t.TempDir(), "backup")
	out := kassa(t, s.dir, "backup", "--to", to)
	if !strings.Contains(out, "restore with: kassa serve --data-dir "+to) {
		t.Fatalf("backup:\n%s", out)
	}
	s.in.stop()

	in := start(t, to)
	defer in.stop()
	token := in.staffToken(crashOwner, crashPassword)
	var got struct {
		Order struct{ PaymentStatus string }
	}
	restored := &paymentShop{t: t, in: in, staff: token}
	restored.do(token, `query($id: ID!) { order(id: $id) { paymentStatus } }`, map[string]any{"id": o.id}, &got)
	if got.Order.PaymentStatus != "PAID" {
		t.Fatalf("the paid order in the copy: %+v", got.Order)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(kassa(t, to, "plugin", "list"), "SERVING") {
		if time.Now().After(deadline) {
			t.Fatalf("testpay is not serving on the copy:\n%s\n%s", kassa(t, to, "plugin", "list"), in.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
