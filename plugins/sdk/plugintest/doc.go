// Package plugintest is the conformance kit for Kassa plugins. It starts a
// plugin binary exactly as Kassa does (through sdk/host, pinned by sha256,
// over gRPC with mTLS) and checks the whole contract as subtests, then logs
// a summary report of what passed, failed and was skipped.
//
// A gateway author's test:
//
//	func TestConformance(t *testing.T) {
//		bin := plugintest.Build(t, ".")
//		plugintest.RunGateway(t, plugintest.GatewayConfig{
//			Binary: bin,
//			Config: json.RawMessage(`{"api_key":"test_123456"}`),
//			Scenarios: []plugintest.Scenario{
//				{Name: "paid", Request: payment.CreateRequest{PaymentMethod: "tok_ok"},
//					Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
//				{Name: "declined", Request: payment.CreateRequest{PaymentMethod: "tok_decline"},
//					Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCardDeclined}},
//			},
//			Paid: "paid",
//			Webhook: &plugintest.WebhookKit{Sign: signLikeMyGateway},
//		})
//	}
//
// Only the author knows how to trigger each outcome in their gateway's
// sandbox (test cards, magic amounts), so the author supplies scenarios;
// the kit derives everything else from the plugin's declared capabilities:
// an action type, capture, cancel, refund or webhook capability that is
// declared but not exercised is a failure, not a silent skip.
//
// [RunRule] and [RunChannel] do the same for invoice and notification
// plugins; [Start] starts any plugin for tests of your own.
package plugintest
