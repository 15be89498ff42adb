package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/state"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// Version is the plugin's version.
const Version = "1.0.0"

// ID is the plugin's id.
const ID = "payment.stripe"

// DefaultAPIBase is Stripe's API, for test and live mode alike (the key
// decides the mode).
const DefaultAPIBase = "https://api.stripe.com"

// Payment method ids of CreateRequest.PaymentMethod. A Stripe
// PaymentMethod id ("pm_...", from Stripe.js createPaymentMethod or a test
// id such as pm_card_visa) is accepted too: the PaymentIntent is then
// confirmed at once on the server.
const (
	MethodElement  = "stripe_element"  // PaymentIntent; CLIENT_SECRET for Stripe.js / Payment Element
	MethodCheckout = "stripe_checkout" // hosted Checkout Session; REDIRECT
)

// tolerance is how far a Stripe-Signature timestamp may be from the time
// Kassa received the delivery, Stripe's own libraries' default.
const tolerance = 300 * time.Second

var (
	secretKeyPattern      = regexp.MustCompile(`^(sk|rk)_(test|live)_[0-9A-Za-z]{10,250}$`)
	publishableKeyPattern = regexp.MustCompile(`^pk_(test|live)_[0-9A-Za-z]{10,250}$`)
	webhookSecretPattern  = regexp.MustCompile(`^whsec_[0-9A-Za-z+/=]{16,250}$`)
)

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["secret_key", "publishable_key", "webhook_secret"],
  "properties": {
    "secret_key": {
      "type": "string", "minLength": 20, "maxLength": 260, "writeOnly": true,
      "title": "Secret key", "x-kassa-titles": {"zh-CN": "密钥（Secret key）"},
      "description": "Stripe Dashboard > Developers > API keys > Secret key (sk_test_... in test mode, sk_live_... in live mode), or a restricted key (rk_...) with write access to PaymentIntents, Checkout Sessions and Refunds.", "x-kassa-descriptions": {"zh-CN": "Stripe 后台 > Developers > API keys > Secret key（测试模式为 sk_test_...，正式模式为 sk_live_...），或对 PaymentIntents、Checkout Sessions 和 Refunds 有写权限的受限密钥（rk_...）。"}
    },
    "publishable_key": {
      "type": "string", "minLength": 20, "maxLength": 260,
      "title": "Publishable key", "x-kassa-titles": {"zh-CN": "可发布密钥（Publishable key）"},
      "description": "Stripe Dashboard > Developers > API keys > Publishable key (pk_test_... or pk_live_..., the same mode as the secret key). The storefront gives it to Stripe.js.", "x-kassa-descriptions": {"zh-CN": "Stripe 后台 > Developers > API keys > Publishable key（pk_test_... 或 pk_live_...，与密钥的模式相同）。店面会把它交给 Stripe.js。"}
    },
    "webhook_secret": {
      "type": "string", "minLength": 20, "maxLength": 260, "writeOnly": true,
      "title": "Webhook signing secret", "x-kassa-titles": {"zh-CN": "Webhook 签名密钥"},
      "description": "Stripe Dashboard > Developers > Webhooks > your Kassa endpoint > Signing secret (whsec_...).", "x-kassa-descriptions": {"zh-CN": "Stripe 后台 > Developers > Webhooks > 您的 Kassa 端点 > Signing secret（whsec_...）。"}
    },
    "webhook_secret_previous": {
      "type": "string", "maxLength": 260, "writeOnly": true,
      "title": "Previous webhook signing secret", "x-kassa-titles": {"zh-CN": "旧的 Webhook 签名密钥"},
      "description": "Only while you roll the signing secret: the old whsec_... value, accepted until Stripe stops using it. Leave empty otherwise.", "x-kassa-descriptions": {"zh-CN": "仅在轮换签名密钥期间填写：旧的 whsec_... 值，在 Stripe 停用它之前仍被接受。其他时候请留空。"}
    },
    "capture_method": {
      "type": "string", "enum": ["automatic", "manual"], "default": "automatic",
      "title": "Capture", "x-kassa-titles": {"zh-CN": "扣款方式"},
      "description": "automatic charges the card when the buyer pays; manual only authorizes it and staff capture later (within 7 days for most cards).", "x-kassa-descriptions": {"zh-CN": "automatic：买家付款时即从卡上扣款；manual：只授权，由员工稍后扣款（大多数卡须在 7 天内）。"}
    },
    "default_method": {
      "type": "string", "enum": ["stripe_element", "stripe_checkout"], "default": "stripe_element",
      "title": "Payment page", "x-kassa-titles": {"zh-CN": "付款页面"},
      "description": "stripe_element: the buyer pays on your storefront with Stripe's Payment Element; stripe_checkout: the buyer is sent to a Stripe-hosted Checkout page. A storefront may still ask for the other one.", "x-kassa-descriptions": {"zh-CN": "stripe_element：买家在您的店面通过 Stripe 的 Payment Element 付款；stripe_checkout：买家被转到 Stripe 托管的 Checkout 页面。店面仍可要求使用另一种。"}
    },
    "test_mode": {
      "type": "boolean", "default": false,
      "title": "Test mode", "x-kassa-titles": {"zh-CN": "测试模式"},
      "description": "On: only test keys (sk_test_, pk_test_) are accepted, so no real card is ever charged. Off: live keys.", "x-kassa-descriptions": {"zh-CN": "开启：只接受测试密钥（sk_test_、pk_test_），不会扣真实的卡。关闭：使用正式密钥。"}
    },
    "api_base_url": {
      "type": "string", "format": "uri", "x-kassa-outbound": true,
      "title": "API base URL", "x-kassa-titles": {"zh-CN": "API 地址"},
      "description": "Stripe's API, https://api.stripe.com. Change it only for a local test server such as stripe-mock.", "x-kassa-descriptions": {"zh-CN": "Stripe 的 API，https://api.stripe.com。仅在使用 stripe-mock 等本地测试服务器时修改。"}
    },
    "statement_descriptor_suffix": {
      "type": "string", "maxLength": 22, "pattern": "^[^<>\\\\'\"*]*$",
      "title": "Statement descriptor suffix", "x-kassa-titles": {"zh-CN": "账单描述后缀"},
      "description": "Text added to your account's statement descriptor on the buyer's card statement, e.g. the order number prefix. At most 22 characters, no < > \\ ' \" *.", "x-kassa-descriptions": {"zh-CN": "附加在您账户的账单描述后、显示在买家信用卡账单上的文字，例如订单号前缀。最多 22 个字符，不能包含 < > \\ ' \" *。"}
    },
    "notify_url": {
      "type": "string", "format": "uri", "readOnly": true, "x-kassa-outbound": false,
      "title": "Webhook endpoint", "x-kassa-titles": {"zh-CN": "Webhook 端点"},
      "description": "Register this address in Stripe Dashboard > Developers > Webhooks: your shop's public URL followed by /webhooks/payment.stripe, e.g. https://shop.example/webhooks/payment.stripe. Leave empty.", "x-kassa-descriptions": {"zh-CN": "请在 Stripe 后台 > Developers > Webhooks 中登记此地址：店铺公开网址加上 /webhooks/payment.stripe，例如 https://shop.example/webhooks/payment.stripe。此项无需填写。"}
    }
  }
}`)

// settings is the decoded configuration.
type settings struct {
	SecretKey             string `json:"secret_key"`
	PublishableKey        string `json:"publishable_key"`
	WebhookSecret         string `json:"webhook_secret"`
	WebhookSecretPrevious string `json:"webhook_secret_previous"`
	CaptureMethod         string `json:"capture_method"`
	DefaultMethod         string `json:"default_method"`
	TestMode              bool   `json:"test_mode"`
	APIBaseURL            string `json:"api_base_url"`
	StatementSuffix       string `json:"statement_descriptor_suffix"`
	NotifyURL             string `json:"notify_url"`
}

// configured is the settings in effect with their Stripe client.
type configured struct {
	s       settings
	sc      *stripe.Client
	base    string
	secrets []string
}

// Gateway is the Stripe payment gateway.
type Gateway struct {
	payment.UnimplementedGateway

	cfg     atomic.Pointer[configured]
	replay  *webhook.ReplayCache
	journal *state.Store[attempt]
	now     func() time.Time
}

// New returns a gateway remembering its attempts in dataDir ("" keeps them
// in memory only).
func New(dataDir string) (*Gateway, error) {
	j, err := openJournal(dataDir)
	if err != nil {
		return nil, err
	}
	return &Gateway{replay: webhook.NewReplayCache(100_000), journal: j, now: time.Now}, nil
}

// Describe implements sdk.Plugin.
func (g *Gateway) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID:          ID,
		Kind:        sdk.KindPayment,
		Version:     Version,
		DisplayName: "Stripe",
		// Stripe keeps its name in Chinese; the description says what
		// the buyer gets.
		DisplayNames: map[string]string{"zh-CN": "Stripe 银行卡"},
		Description:  "Cards and wallets (Apple Pay, Google Pay, Link ...) through Stripe: the Payment Element on your storefront or a Stripe-hosted Checkout page, with manual capture, partial refunds and signed webhooks.",
		Descriptions: map[string]string{"zh-CN": "通过 Stripe 使用银行卡和电子钱包（Apple Pay、Google Pay、Link 等）付款：在店铺页面内填写卡信息，或跳转到 Stripe 托管的结账页面；支持人工收款、部分退款和签名的 Webhook 通知。"},
		Capabilities: []string{
			payment.CapActionNone, payment.CapActionClientSecret, payment.CapActionRedirect,
			payment.CapCaptureManual, payment.CapCancel, payment.CapRefund, payment.CapRefundPartial, payment.CapWebhook, payment.CapWebhookSimulate,
		},
		ConfigSchema: schema.String(),
	}, nil
}

// keyMode is "test" or "live" from a key's prefix.
func keyMode(key string) string {
	if strings.Contains(key, "_test_") {
		return "test"
	}
	return "live"
}

// Configure implements sdk.Plugin: keys are checked for their form, their
// kind and their mode here, so a wrong paste is refused naming the field.
func (g *Gateway) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	var errs []sdk.ConfigError
	bad := func(field, code, msg string) {
		errs = append(errs, sdk.ConfigError{Field: field, Code: code, Message: msg})
	}
	s.SecretKey, s.PublishableKey = strings.TrimSpace(s.SecretKey), strings.TrimSpace(s.PublishableKey)
	s.WebhookSecret, s.WebhookSecretPrevious = strings.TrimSpace(s.WebhookSecret), strings.TrimSpace(s.WebhookSecretPrevious)
	switch {
	case strings.HasPrefix(s.SecretKey, "pk_"):
		bad("/secret_key", "publishable_key", "this is the publishable key (pk_...); paste the secret key (sk_...) from Developers > API keys")
	case strings.HasPrefix(s.SecretKey, "whsec_"):
		bad("/secret_key", "webhook_secret", "this is a webhook signing secret (whsec_...); paste the secret key (sk_...) from Developers > API keys")
	case !secretKeyPattern.MatchString(s.SecretKey):
		bad("/secret_key", "invalid_key", "not a Stripe secret key: it starts with sk_test_ or sk_live_ (or rk_ for a restricted key) followed by letters and digits")
	case s.TestMode && keyMode(s.SecretKey) == "live":
		bad("/secret_key", "live_key_in_test_mode", "Test mode is on but this is a live key (sk_live_...): use the test key, or turn Test mode off to take real payments")
	case !s.TestMode && keyMode(s.SecretKey) == "test":
		bad("/secret_key", "test_key_in_live_mode", "Test mode is off but this is a test key (sk_test_...): turn Test mode on, or paste the live key")
	}
	switch {
	case strings.HasPrefix(s.PublishableKey, "sk_") || strings.HasPrefix(s.PublishableKey, "rk_"):
		bad("/publishable_key", "secret_key", "this is a secret key; never give it to browsers. Paste the publishable key (pk_...)")
	case !publishableKeyPattern.MatchString(s.PublishableKey):
		bad("/publishable_key", "invalid_key", "not a Stripe publishable key: it starts with pk_test_ or pk_live_")
	case secretKeyPattern.MatchString(s.SecretKey) && keyMode(s.PublishableKey) != keyMode(s.SecretKey):
		bad("/publishable_key", "mode_mismatch", fmt.Sprintf("the publishable key is a %s key but the secret key a %s key: take both from the same mode of the dashboard", keyMode(s.PublishableKey), keyMode(s.SecretKey)))
	}
	if !webhookSecretPattern.MatchString(s.WebhookSecret) {
		bad("/webhook_secret", "invalid_secret", "not a Stripe webhook signing secret: it starts with whsec_ (Developers > Webhooks > your endpoint > Signing secret > Reveal)")
	}
	if s.WebhookSecretPrevious != "" && !webhookSecretPattern.MatchString(s.WebhookSecretPrevious) {
		bad("/webhook_secret_previous", "invalid_secret", "not a Stripe webhook signing secret (whsec_...); leave it empty unless you are rolling the secret")
	}
	base := strings.TrimRight(s.APIBaseURL, "/")
	if base == "" {
		base = DefaultAPIBase
	}
	guard := netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
	if err := guard.CheckURL(base); err != nil {
		bad("/api_base_url", "private_network", err.Error())
	}
	if len(errs) > 0 {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	if s.CaptureMethod == "" {
		s.CaptureMethod = "automatic"
	}
	if s.DefaultMethod == "" {
		s.DefaultMethod = MethodElement
	}
	backends := stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		HTTPClient: &http.Client{Transport: guard.Transport(), Timeout: 20 * time.Second},
		URL:        stripe.String(base),
		// stripe-go retries a lost connection once with the same
		// Idempotency-Key; Kassa's reconciler does the rest.
		MaxNetworkRetries: stripe.Int64(1),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		EnableTelemetry:   stripe.Bool(false),
	})
	c := &configured{s: s, base: base, sc: stripe.NewClient(s.SecretKey, stripe.WithBackends(backends)), secrets: []string{s.WebhookSecret}}
	if s.WebhookSecretPrevious != "" {
		c.secrets = append(c.secrets, s.WebhookSecretPrevious)
	}
	g.cfg.Store(c)
	return sdk.ConfigureResult{}, nil
}

// Health implements sdk.Plugin with a harmless authenticated call: list
// one PaymentIntent (the permission the plugin needs anyway).
func (g *Gateway) Health(ctx context.Context) (sdk.Health, error) {
	c := g.cfg.Load()
	if c == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "Stripe is not configured"}, nil
	}
	params := &stripe.PaymentIntentListParams{}
	params.Limit = stripe.Int64(1)
	params.Single = true
	var err error
	for _, e := range c.sc.V1PaymentIntents.List(ctx, params) {
		err = e
		break
	}
	if err == nil {
		return sdk.Health{Status: sdk.HealthServing}, nil
	}
	return healthOf(c, err), nil
}

// healthOf says what the owner must fix for a failed test call.
func healthOf(c *configured, err error) sdk.Health {
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode == 0 {
		return sdk.Health{Status: sdk.HealthDegraded, Message: "Stripe's API " + c.base + " is unreachable: " + err.Error()}
	}
	switch {
	case se.HTTPStatusCode == http.StatusUnauthorized:
		return sdk.Health{Status: sdk.HealthNotServing, Message: "Stripe refused the secret key (" + string(se.Code) + "): it was rolled or mistyped; paste the current one from Developers > API keys"}
	case se.HTTPStatusCode == http.StatusForbidden:
		return sdk.Health{Status: sdk.HealthNotServing, Message: "the restricted key lacks a permission Kassa needs (PaymentIntents read): " + se.Msg}
	case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500:
		return sdk.Health{Status: sdk.HealthDegraded, Message: fmt.Sprintf("Stripe answered %d: %s", se.HTTPStatusCode, se.Msg)}
	}
	return sdk.Health{Status: sdk.HealthNotServing, Message: fmt.Sprintf("Stripe refused the test call (%d %s): %s", se.HTTPStatusCode, se.Code, se.Msg)}
}
