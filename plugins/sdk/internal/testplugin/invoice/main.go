// Command invoice is a test invoice rule for the SDK's host tests: it numbers
// documents with the host's sequence over the go-plugin broker.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
)

type rule struct {
	invoice.UnimplementedRule
}

func (rule) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID: "invoice.hosttest", Kind: sdk.KindInvoice, Version: "1.0.0", DisplayName: "Host test",
		ConfigSchema: schema.String(),
	}, nil
}

var schema = sdk.MustCompileSchema(`{"type":"object","additionalProperties":false,
  "properties":{"label":{"type":"string","title":"Label","description":"Free text."}}}`)

func (rule) Configure(_ context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var cfg struct {
		Label string `json:"label"`
	}
	return sdk.ConfigureResult{Errors: schema.Decode(raw, &cfg)}, nil
}

func (rule) Health(context.Context) (sdk.Health, error) {
	return sdk.Health{Status: sdk.HealthServing}, nil
}

func (rule) Evaluate(_ context.Context, ev invoice.Event) (invoice.Decision, error) {
	return invoice.Decision{Issue: ev.Type == "order.paid", Reason: "issued on " + ev.Type}, nil
}

func (rule) IssueInvoice(ctx context.Context, req invoice.IssueRequest, seq invoice.Sequence) (invoice.Document, error) {
	n, err := seq.Next(ctx, "invoice", req.IdempotencyKey)
	if errors.Is(err, invoice.ErrNoSequence) {
		return invoice.Document{Problems: []invoice.Problem{{Code: "no_sequence", Message: err.Error()}}}, nil
	}
	if err != nil {
		return invoice.Document{}, err
	}
	number := fmt.Sprintf("INV-%04d", n)
	body := fmt.Sprintf("%s for %s (%s) lines=%d total=%d %s", number, req.Order.Number, req.Buyer.Name,
		len(req.Order.Lines), req.Order.Totals.Total.Amount, req.Order.Totals.Total.Currency)
	return invoice.Document{Number: number, Content: []byte(body), MimeType: "text/plain", FileName: number + ".txt"}, nil
}

func main() { invoice.Serve(rule{}) }
