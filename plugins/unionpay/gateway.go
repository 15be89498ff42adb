package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/state"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// Version is the plugin's version.
const Version = "1.0.0"

// ID is the plugin's id.
const ID = "payment.unionpay"

// Base URLs of UnionPay's online gateway (全渠道).
const (
	ProductionBaseURL = "https://gateway.95516.com"
	TestBaseURL       = "https://gateway.test.95516.com"
)

// Base URLs of UnionPay's file transfer service (reconciliation files).
const (
	ProductionFileURL = "https://filedownload.95516.com"
	TestFileURL       = "https://filedownload.test.95516.com"
)

// Paths below the base URL.
const (
	pathFront = "/gateway/api/frontTransReq.do"
	pathBack  = "/gateway/api/backTransReq.do"
	pathQuery = "/gateway/api/queryTrans.do"
	// pathFile is below the file transfer base URL: UnionPay's SDK posts
	// to the host's root.
	pathFile = "/"
)

// Payment method ids of CreateRequest.PaymentMethod.
const (
	MethodWeb = "unionpay"     // 网关支付 on a computer: channelType 07
	MethodWap = "unionpay_wap" // 手机网页支付: channelType 08
)

// replayWindow is how long a delivery with the same signed content as an
// accepted one is refused, however re-encoded. UnionPay does not sign its
// retries anew (the same message comes again), so the window is shorter
// than UnionPay's first retry delay: a retry after a failed commit at
// Kassa passes, a copy sent back at once does not. Kassa applies each
// derived event id once in any case.
const replayWindow = 30 * time.Second

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["mer_id", "root_cert", "middle_cert"],
  "properties": {
    "mer_id": {
      "type": "string", "pattern": "^[0-9A-Za-z]{15}$",
      "title": "Merchant ID (商户代码 merId)", "x-kassa-titles": {"zh-CN": "商户代码（merId）"},
      "description": "The 15-character merchant code UnionPay assigned, shown in the merchant portal (商户服务平台 > 商户信息); 777290058110048 is UnionPay's public test merchant.", "x-kassa-descriptions": {"zh-CN": "银联分配的 15 位商户代码，见商户服务平台“商户信息”；777290058110048 是银联公开的测试商户。"}
    },
    "sign_cert_pfx": {
      "type": "string", "writeOnly": true,
      "title": "Signing certificate (.pfx, base64)", "x-kassa-titles": {"zh-CN": "签名证书（.pfx，base64）"},
      "description": "Your signing certificate with its private key (签名证书, acp_prod_sign.pfx or the file downloaded in 证书管理), as base64: base64 -w0 acp.pfx. Or leave empty and paste the PEM key and certificate below.", "x-kassa-descriptions": {"zh-CN": "含私钥的签名证书（acp_prod_sign.pfx，或在“证书管理”中下载的文件），以 base64 填写：base64 -w0 acp.pfx。也可留空，在下方粘贴 PEM 格式的私钥和证书。"}
    },
    "sign_cert_password": {
      "type": "string", "writeOnly": true,
      "title": "Signing certificate password", "x-kassa-titles": {"zh-CN": "签名证书密码"},
      "description": "The password you chose when downloading the .pfx (000000 for UnionPay's test certificate).", "x-kassa-descriptions": {"zh-CN": "下载 .pfx 时设置的密码（银联测试证书为 000000）。"}
    },
    "sign_key": {
      "type": "string", "writeOnly": true,
      "title": "Signing private key (PEM)", "x-kassa-titles": {"zh-CN": "签名私钥（PEM）"},
      "description": "Instead of the .pfx: the RSA private key, PEM (openssl pkcs12 -in acp.pfx -nocerts -nodes).", "x-kassa-descriptions": {"zh-CN": "代替 .pfx：RSA 私钥，PEM 格式（openssl pkcs12 -in acp.pfx -nocerts -nodes）。"}
    },
    "sign_cert": {
      "type": "string",
      "title": "Signing certificate (PEM)", "x-kassa-titles": {"zh-CN": "签名证书（PEM）"},
      "description": "Instead of the .pfx: the signing certificate, PEM (openssl pkcs12 -in acp.pfx -clcerts -nokeys). Its serial number is the certId of every request.", "x-kassa-descriptions": {"zh-CN": "代替 .pfx：签名证书，PEM 格式（openssl pkcs12 -in acp.pfx -clcerts -nokeys）。其序列号即每笔请求的 certId。"}
    },
    "root_cert": {
      "type": "string", "minLength": 100,
      "title": "UnionPay root certificate (根证书)", "x-kassa-titles": {"zh-CN": "银联根证书"},
      "description": "acp_prod_root.cer from UnionPay's SDK package (acp_test_root.cer for the test environment), PEM. Notifications and answers are trusted only if their certificate chains to it.", "x-kassa-descriptions": {"zh-CN": "银联 SDK 包中的 acp_prod_root.cer（测试环境为 acp_test_root.cer），PEM 格式。只有证书链可追溯到它的通知和应答才会被信任。"}
    },
    "middle_cert": {
      "type": "string", "minLength": 100,
      "title": "UnionPay middle certificate (中级证书)", "x-kassa-titles": {"zh-CN": "银联中级证书"},
      "description": "acp_prod_middle.cer from UnionPay's SDK package (acp_test_middle.cer for the test environment), PEM.", "x-kassa-descriptions": {"zh-CN": "银联 SDK 包中的 acp_prod_middle.cer（测试环境为 acp_test_middle.cer），PEM 格式。"}
    },
    "sandbox": {
      "type": "boolean", "default": false,
      "title": "Test environment", "x-kassa-titles": {"zh-CN": "测试环境"},
      "description": "Use UnionPay's test environment (gateway.test.95516.com) with the test merchant and certificates; its signing certificate is accepted with the test CN.", "x-kassa-descriptions": {"zh-CN": "使用银联测试环境（gateway.test.95516.com）及测试商户和证书；测试环境接受 CN 为测试值的签名证书。"}
    },
    "gateway_url": {
      "type": "string", "format": "uri", "x-kassa-outbound": true,
      "title": "Gateway base URL", "x-kassa-titles": {"zh-CN": "网关地址"},
      "description": "Leave empty: https://gateway.95516.com, or https://gateway.test.95516.com with the test environment on.", "x-kassa-descriptions": {"zh-CN": "留空即可：默认为 https://gateway.95516.com，开启测试环境时为 https://gateway.test.95516.com。"}
    },
    "file_url": {
      "type": "string", "format": "uri", "x-kassa-outbound": true,
      "title": "File transfer base URL", "x-kassa-titles": {"zh-CN": "文件传输地址"},
      "description": "Where reconciliation files are downloaded from. Leave empty: https://filedownload.95516.com, or https://filedownload.test.95516.com with the test environment on; the gateway base URL when that is set.", "x-kassa-descriptions": {"zh-CN": "对账文件的下载地址。留空即可：默认为 https://filedownload.95516.com，开启测试环境时为 https://filedownload.test.95516.com；若设置了网关地址，则使用网关地址。"}
    },
    "notify_url": {
      "type": "string", "format": "uri", "readOnly": true, "x-kassa-outbound": false,
      "title": "Back notification URL (后台通知地址 backUrl)", "x-kassa-titles": {"zh-CN": "后台通知地址（backUrl）"},
      "description": "Where UnionPay posts payment and refund results: your shop's public URL followed by /webhooks/payment.unionpay. Kassa sends it as backUrl with every transaction; it must be reachable from the internet over HTTPS on port 443. Leave empty.", "x-kassa-descriptions": {"zh-CN": "银联发送付款和退款结果的地址：店铺公开网址加上 /webhooks/payment.unionpay。Kassa 会在每笔交易中将其作为 backUrl 发送；它必须能从互联网通过 443 端口的 HTTPS 访问。此项无需填写。"}
    }
  }
}`)

// settings is the decoded configuration.
type settings struct {
	MerID            string `json:"mer_id"`
	SignCertPFX      string `json:"sign_cert_pfx"`
	SignCertPassword string `json:"sign_cert_password"`
	SignKey          string `json:"sign_key"`
	SignCert         string `json:"sign_cert"`
	RootCert         string `json:"root_cert"`
	MiddleCert       string `json:"middle_cert"`
	Sandbox          bool   `json:"sandbox"`
	GatewayURL       string `json:"gateway_url"`
	FileURL          string `json:"file_url"`
	NotifyURL        string `json:"notify_url"`
}

// configured is the settings in effect with their parsed credentials.
type configured struct {
	s   settings
	api *client
}

// Gateway is the UnionPay online gateway.
type Gateway struct {
	payment.UnimplementedGateway

	cfg     atomic.Pointer[configured]
	replay  *webhook.ReplayCache
	journal *state.Store[attempt]
	now     func() time.Time
}

// New returns a gateway remembering its attempts in dataDir ("" keeps
// them in memory only).
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
		ID:           ID,
		Kind:         sdk.KindPayment,
		Version:      Version,
		DisplayName:  "UnionPay",
		DisplayNames: map[string]string{"zh-CN": "银联在线支付"},
		Description:  "UnionPay online gateway (银联在线支付, 5.1.0): bank card payment on UnionPay's pages for computers and phones, with refunds and back notifications. CNY only.",
		Descriptions: map[string]string{"zh-CN": "银联在线网关（5.1.0）：买家在银联的电脑或手机页面上用银行卡付款，支持退款和后台通知。仅限人民币。"},
		Capabilities: []string{
			payment.CapActionRedirect, payment.CapCancel, payment.CapRefund, payment.CapRefundPartial,
			payment.CapWebhook, payment.CapHTTP, payment.CapListTransactions,
		},
		ConfigSchema: schema.String(),
	}, nil
}

// Configure implements sdk.Plugin: the certificates are parsed and
// checked here, so a wrong paste is refused with a message naming the
// field.
func (g *Gateway) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	cred, errs := parseCredentials(s, g.now())
	base := strings.TrimRight(s.GatewayURL, "/")
	if base == "" {
		base = ProductionBaseURL
		if s.Sandbox {
			base = TestBaseURL
		}
	}
	fileBase := strings.TrimRight(s.FileURL, "/")
	switch {
	case fileBase != "":
	case s.GatewayURL != "":
		fileBase = base // a gateway of one's own (a test double) serves both
	case s.Sandbox:
		fileBase = TestFileURL
	default:
		fileBase = ProductionFileURL
	}
	guard := netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
	if err := guard.CheckURL(base); err != nil {
		errs = append(errs, sdk.ConfigError{Field: "/gateway_url", Code: "private_network", Message: err.Error()})
	}
	if err := guard.CheckURL(fileBase); err != nil {
		errs = append(errs, sdk.ConfigError{Field: "/file_url", Code: "private_network", Message: err.Error()})
	}
	if len(errs) > 0 {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	g.cfg.Store(&configured{s: s, api: &client{
		merID: s.MerID, base: base, fileBase: fileBase, cred: cred,
		http: &http.Client{Transport: guard.Transport(), Timeout: 15 * time.Second}, now: g.now,
	}})
	return sdk.ConfigureResult{}, nil
}

func (g *Gateway) configured() (*configured, error) {
	c := g.cfg.Load()
	if c == nil {
		return nil, errors.New("unionpay: not configured")
	}
	return c, nil
}

// Health implements sdk.Plugin with a harmless signed call: a query of an
// order that cannot exist. A verified "34 查无此交易" proves the merchant
// id, the signing certificate, the root and middle certificates and the
// clock.
func (g *Gateway) Health(ctx context.Context) (sdk.Health, error) {
	c := g.cfg.Load()
	if c == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "UnionPay is not configured"}, nil
	}
	if left := c.api.cred.cert.NotAfter.Sub(g.now()); left < 30*24*time.Hour {
		msg := "the signing certificate (certId " + c.api.cred.certID + ") expires on " + c.api.cred.cert.NotAfter.Format("2006-01-02") + ": download a new one in UnionPay's merchant portal (证书管理)"
		if left <= 0 {
			return sdk.Health{Status: sdk.HealthNotServing, Message: msg}, nil
		}
		res, err := g.healthCall(ctx, c)
		if res.Status == sdk.HealthServing && err == nil {
			return sdk.Health{Status: sdk.HealthDegraded, Message: msg}, nil
		}
		return res, err
	}
	return g.healthCall(ctx, c)
}

func (g *Gateway) healthCall(ctx context.Context, c *configured) (sdk.Health, error) {
	orderID := "kassahealth" + randomHex(8)
	res, err := c.api.query(ctx, orderID, g.now().In(chinaTime).Format(txnTimeLayout))
	switch {
	case errors.Is(err, errUnreachable):
		return sdk.Health{Status: sdk.HealthDegraded, Message: "the UnionPay gateway " + c.api.base + " is unreachable: " + err.Error()}, nil
	case errors.Is(err, errUntrustedCert):
		return sdk.Health{Status: sdk.HealthNotServing, Message: "UnionPay's answer is signed with a certificate that does not chain to the configured root and middle certificates (production and test certificates mixed up?): " + err.Error()}, nil
	case err != nil:
		return sdk.Health{Status: sdk.HealthNotServing, Message: "UnionPay's answer could not be verified: " + err.Error()}, nil
	}
	switch res.Get("respCode") {
	case "00", "34":
		return sdk.Health{Status: sdk.HealthServing}, nil
	}
	return sdk.Health{Status: sdk.HealthNotServing, Message: healthMessage(c, res)}, nil
}

// healthMessage says what the owner must fix for a UnionPay refusal.
func healthMessage(c *configured, res answer) string {
	code, msg := res.Get("respCode"), res.Get("respMsg")
	switch {
	case code == "11" || strings.Contains(msg, "签名"):
		return "UnionPay refused the request signature (" + code + " " + msg + "): the signing certificate (certId " + c.api.cred.certID + ") is not the one registered for merId " + c.s.MerID + ", or a test certificate is used in production"
	case strings.Contains(msg, "txnTime") || strings.Contains(msg, "时间"):
		return "UnionPay refused the request time (" + code + " " + msg + "): the server clock is off; synchronize it with NTP"
	case code == "31" || code == "32" || code == "43":
		return "UnionPay refused merchant " + c.s.MerID + " (" + code + " " + msg + "): check the merId, that the merchant is active and has the online gateway product (网关支付), or turn the test environment on for a test merchant"
	}
	return "UnionPay refused the test query: " + code + " " + msg
}
