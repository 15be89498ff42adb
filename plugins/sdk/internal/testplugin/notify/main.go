// Command notify is a test notification channel for the SDK's host tests.
package main

import (
	"context"
	"encoding/json"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/notify"
)

type channel struct {
	notify.UnimplementedChannel
}

func (channel) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID: "notify.hosttest", Kind: sdk.KindNotify, Version: "1.0.0", DisplayName: "Host test",
		ConfigSchema: schema.String(),
	}, nil
}

var schema = sdk.MustCompileSchema(`{"type":"object","additionalProperties":false,
  "properties":{"label":{"type":"string","title":"Label","description":"Free text."}}}`)

func (channel) Configure(_ context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var cfg struct {
		Label string `json:"label"`
	}
	return sdk.ConfigureResult{Errors: schema.Decode(raw, &cfg)}, nil
}

func (channel) Health(context.Context) (sdk.Health, error) {
	return sdk.Health{Status: sdk.HealthServing}, nil
}

func (channel) Send(_ context.Context, m notify.Message) (notify.Delivery, error) {
	if m.Recipient.Email == "" {
		return notify.Delivery{Status: notify.DeliveryFailed, ErrorCode: "recipient_missing", ErrorMessage: "no email"}, nil
	}
	return notify.Delivery{ID: m.ID + "/" + m.TemplateID + "/" + m.Locale + "/" + string(m.Data), Status: notify.DeliverySent}, nil
}

func main() { notify.Serve(channel{}) }
