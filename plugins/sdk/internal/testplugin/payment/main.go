// Command payment is a test gateway for the SDK's host tests. Its behaviour
// is chosen by CreateRequest.PaymentMethod: "hang" blocks until the deadline,
// "crash" exits the process mid-call, anything else echoes the request.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

type gateway struct {
	payment.UnimplementedGateway
}

func (gateway) Describe(context.Context) (sdk.Info, error) {
	slog.Info("describe called", "answer", 42)
	return sdk.Info{
		ID: "payment.hosttest", Kind: sdk.KindPayment, Version: "1.0.0", DisplayName: "Host test",
		DisplayNames: map[string]string{"zh-CN": "主机测试"}, Descriptions: map[string]string{"zh-CN": "主机的测试插件"},
		Capabilities: []string{payment.CapActionRedirect, payment.CapHTTP},
		ConfigSchema: `{"type":"object","additionalProperties":false,"properties":{"secret":{"type":"string","writeOnly":true}}}`,
	}, nil
}

// key is the secret setting, which this careless test plugin logs and
// quotes in its health message: the host must mask it.
var key atomic.Value

func (gateway) Configure(_ context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s struct{ Secret string }
	_ = json.Unmarshal(raw, &s)
	key.Store(s.Secret)
	slog.Info("configure "+s.Secret, "settings", string(raw), "nested", map[string]any{"list": []any{s.Secret}})
	return sdk.ConfigureResult{}, nil
}

func (gateway) Health(context.Context) (sdk.Health, error) {
	k, _ := key.Load().(string)
	return sdk.Health{Status: sdk.HealthServing, Message: "signing with " + k}, nil
}

// HandleHTTP reports what the plugin sees of its environment.
func (gateway) HandleHTTP(_ context.Context, req sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	env := map[string]string{}
	for _, k := range []string{sdk.EnvDataDir, sdk.EnvPluginID, "KASSA_TEST_HOST_SECRET", "KASSA_TEST_EXTRA"} {
		env[k] = os.Getenv(k)
	}
	body, _ := json.Marshal(env)
	return sdk.HTTPResponse{Status: 200, Header: map[string][]string{"Content-Type": {"application/json"}, "X-Path": {req.Path}}, Body: body}, nil
}

func (gateway) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	switch req.PaymentMethod {
	case "hang":
		<-ctx.Done()
		time.Sleep(time.Hour) // keep hanging even after the deadline: the host must not wait
		return payment.CreateResult{}, ctx.Err()
	case "crash":
		os.Exit(3)
	case "decline":
		return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: payment.DeclineCardDeclined, BuyerMessage: "declined"}, nil
	}
	return payment.CreateResult{
		Status:     payment.StatusRequiresAction,
		GatewayRef: "gw_" + req.AttemptID,
		Action: payment.Action{
			Type: payment.ActionRedirect, URL: req.PluginBaseURL + "/pay/" + req.AttemptID,
			ExpiresAt: req.ExpiresAt, Details: req.Metadata,
		},
		MerchantMessage: req.IdempotencyKey + "|" + req.OrderNumber + "|" + req.Locale,
		Amount:          req.Amount,
	}, nil
}

func (gateway) GetPayment(_ context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	return payment.PaymentState{Status: payment.StatusNotFound}, nil
}

func main() { payment.Serve(gateway{}) }
