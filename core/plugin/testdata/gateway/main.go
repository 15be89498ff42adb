// Command gateway is a payment plugin for the host's tests. Its behaviour is
// chosen by the amount of CreatePayment: 4242 hangs past any deadline, 6666
// exits the process mid-call, 5555 answers after two seconds (time to kill
// it mid-call), anything else succeeds at once.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

const schema = `{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "api_key":    {"type": "string", "writeOnly": true, "minLength": 4},
    "mode":       {"type": "string", "enum": ["sandbox", "live"]},
    "max_amount": {"type": "integer", "minimum": 0},
    "refuse":     {"type": "boolean"},
    "callback_url": {"type": "string", "format": "uri", "x-kassa-outbound": true},
    "relays":     {"type": "array", "items": {"type": "string", "x-kassa-outbound": true}},
    "logo_url":   {"type": "string", "format": "uri", "x-kassa-outbound": false}
  },
  "required": ["mode"]
}`

type gateway struct {
	payment.UnimplementedGateway
	config atomic.Pointer[json.RawMessage]
	// allowPrivate is the host's network policy given with the config.
	allowPrivate atomic.Bool
}

func (g *gateway) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID: "payment.hosttest", Kind: sdk.KindPayment, Version: version, DisplayName: "Host test gateway",
		Description:  "Test gateway of core/plugin.",
		Capabilities: []string{payment.CapActionNone, payment.CapHTTP},
		ConfigSchema: schema,
	}, nil
}

func (g *gateway) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var cfg struct {
		Refuse bool `json:"refuse"`
	}
	_ = json.Unmarshal(raw, &cfg)
	if cfg.Refuse {
		return sdk.ConfigureResult{Errors: []sdk.ConfigError{{Field: "/refuse", Code: "refused", Message: "the gateway refuses these settings"}}}, nil
	}
	c := append(json.RawMessage(nil), raw...)
	g.config.Store(&c)
	g.allowPrivate.Store(sdk.AllowPrivateNetworks(ctx))
	return sdk.ConfigureResult{}, nil
}

func (g *gateway) Health(context.Context) (sdk.Health, error) {
	return sdk.Health{Status: sdk.HealthServing}, nil
}

// HandleHTTP echoes what the plugin sees; /config returns its settings
// (so tests can prove secrets reach the plugin).
func (g *gateway) HandleHTTP(_ context.Context, req sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	if req.Path == "/network" {
		return sdk.HTTPResponse{Body: []byte(fmt.Sprint(g.allowPrivate.Load()))}, nil
	}
	if req.Path == "/config" {
		c := g.config.Load()
		if c == nil {
			return sdk.HTTPResponse{Status: 404}, nil
		}
		return sdk.HTTPResponse{Header: map[string][]string{"Content-Type": {"application/json"}}, Body: *c}, nil
	}
	body, _ := json.Marshal(map[string]any{
		"method": req.Method, "path": req.Path, "query": req.Query, "base": req.BaseURL,
		"cookie": req.Header.Get("Cookie"), "auth": req.Header.Get("Authorization"), "api_key": req.Header.Get("X-Kassa-Api-Key"),
		"lang": req.Header.Get("Accept-Language"), "body": string(req.Body),
		"data_dir": os.Getenv(sdk.EnvDataDir), "id": os.Getenv(sdk.EnvPluginID),
	})
	return sdk.HTTPResponse{
		Status: 201,
		Header: map[string][]string{"Content-Type": {"application/json"}, "Set-Cookie": {"evil=1"}, "X-Plugin": {"yes"},
			// An attempt to leave the host's sandbox: it may only add to it.
			"Content-Security-Policy": {"sandbox allow-same-origin allow-scripts"}},
		Body: body,
	}, nil
}

func (g *gateway) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	switch req.Amount.Amount {
	case 4242:
		<-ctx.Done()
		time.Sleep(time.Hour) // keep hanging: the host must not wait for us
	case 6666:
		os.Exit(3)
	case 5555:
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return payment.CreateResult{}, ctx.Err()
		}
	}
	return payment.CreateResult{
		Status: payment.StatusSucceeded, GatewayRef: "gw_" + req.AttemptID, Amount: req.Amount,
		MerchantMessage: req.IdempotencyKey + "|" + req.PluginBaseURL + "|" + req.NotifyURL,
	}, nil
}

// GetPayment is the trivial call the round-trip benchmark measures.
func (g *gateway) GetPayment(_ context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	return payment.PaymentState{Status: payment.StatusNotFound, GatewayRef: req.GatewayRef}, nil
}

func main() { payment.Serve(&gateway{}) }
