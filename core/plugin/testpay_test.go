package plugin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
)

// TestTestpay runs the reference sandbox gateway through the host: install,
// schema-checked settings with a secret, enable, a payment that redirects
// to the simulated payment page, and that page served under /plugins/.
func TestTestpay(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	res, err := e.svc.Install(ctx(), testpayBin, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const id = "payment.testpay"
	if res.Plugin.ID != id || len(res.Plugin.SecretFields) != 1 || res.Plugin.SecretFields[0].Name != "webhook_secret" {
		t.Fatalf("installed %+v", res.Plugin)
	}
	_, err = e.svc.UpdateSettings(ctx(), id, []byte(`{"webhook_secret": 42}`))
	if all := errs.All(err); len(all) != 1 || strings.Join(all[0].Field, ".") != "settings.webhook_secret" || !strings.Contains(all[0].Message, "want string") {
		t.Fatalf("wrong type: %v", err)
	}
	const secretValue = "whsec_0123456789abcdef"
	if _, err := e.svc.UpdateSettings(ctx(), id, []byte(`{"webhook_secret":"`+secretValue+`","async_delay_ms":10}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Enable(ctx(), id); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.svc.HTTPHandler())
	defer srv.Close()
	gw, err := e.svc.Gateway(ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	out, err := gw.CreatePayment(ctx(), payment.CreateRequest{
		AttemptID: "pay_01", OrderID: "ord_01", OrderNumber: "#1001", Amount: eur(1250),
		IdempotencyKey: "pay_01", ReturnURL: "http://shop.test/return", PluginBaseURL: srv.URL + "/plugins/" + id,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Action.Type != payment.ActionRedirect || !strings.HasPrefix(out.Action.URL, srv.URL+"/plugins/"+id+"/") {
		t.Fatalf("CreatePayment = %+v", out)
	}
	page, err := http.Get(out.Action.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), "<") {
		t.Fatalf("payment page: %d %.200s", page.StatusCode, body)
	}
	if strings.Contains(e.logs.String(), secretValue) || strings.Contains(string(body), secretValue) {
		t.Fatal("the webhook secret leaked")
	}
}
