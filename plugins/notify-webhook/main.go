package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/notify"
)

// ID is the plugin's id.
const ID = "notify.webhook"

// Version is the plugin's version.
const Version = "1.0.0"

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["endpoints"],
  "properties": {
    "endpoints": {
      "type": "array", "maxItems": 20,
      "title": "Endpoints", "x-kassa-titles": {"zh-CN": "端点"},
      "description": "Where events are POSTed. Each endpoint has a name (used to find its signing secret), an http(s) URL and the events it wants.", "x-kassa-descriptions": {"zh-CN": "事件以 POST 发送到的地址。每个端点有一个名称（用于查找其签名密钥）、一个 http(s) URL 和它需要的事件。"},
      "items": {
        "type": "object", "additionalProperties": false,
        "required": ["name", "url"],
        "properties": {
          "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$", "title": "Name", "x-kassa-titles": {"zh-CN": "名称"}, "description": "Short unique name, e.g. erp (lower case letters, digits, _ and -).", "x-kassa-descriptions": {"zh-CN": "简短且唯一的名称，例如 erp（小写字母、数字、_ 和 -）。"}},
          "url": {"type": "string", "format": "uri", "x-kassa-outbound": true, "minLength": 8, "maxLength": 2000, "title": "URL", "x-kassa-titles": {"zh-CN": "URL"}, "description": "http:// or https:// URL that receives the POSTs. Addresses on this machine or your private network are refused unless the shop owner allows private networks.", "x-kassa-descriptions": {"zh-CN": "接收 POST 请求的 http:// 或 https:// URL。本机或内网中的地址会被拒绝，除非店铺所有者允许私有网络。"}},
          "events": {
            "type": "array", "maxItems": 50, "default": ["*"],
            "items": {"type": "string", "pattern": "^(\\*|[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*)?)$"},
            "title": "Events", "x-kassa-titles": {"zh-CN": "事件"}, "description": "Event types to send, e.g. order.paid; order.* for all order events; * (the default) for all.", "x-kassa-descriptions": {"zh-CN": "要发送的事件类型，例如 order.paid；order.* 表示所有订单事件；*（默认）表示全部。"}
          },
          "description": {"type": "string", "maxLength": 200, "title": "Description", "x-kassa-titles": {"zh-CN": "说明"}, "description": "A note for staff. Optional.", "x-kassa-descriptions": {"zh-CN": "给员工看的备注。选填。"}}
        }
      }
    },
    "signing_secrets": {
      "type": "object", "writeOnly": true,
      "additionalProperties": {"type": "string", "minLength": 16, "maxLength": 200},
      "title": "Signing secrets", "x-kassa-titles": {"zh-CN": "签名密钥"},
      "description": "The secret of each endpoint, by endpoint name, e.g. {\"erp\": \"whsec_...\"}; at least 16 characters. Receivers check the Kassa-Signature header with it. Stored encrypted, never shown again.", "x-kassa-descriptions": {"zh-CN": "按端点名称给出每个端点的密钥，例如 {\"erp\": \"whsec_...\"}；至少 16 个字符。接收方用它校验 Kassa-Signature 请求头。加密存储，不再显示。"}
    },
    "max_attempts": {
      "type": "integer", "minimum": 1, "maximum": 20, "default": 12,
      "title": "Attempts", "x-kassa-titles": {"zh-CN": "尝试次数"}, "description": "How many times an event is tried per endpoint before it is given up (the first try included).", "x-kassa-descriptions": {"zh-CN": "每个端点在放弃之前尝试发送一个事件的次数（含第一次）。"}
    },
    "retry_initial_delay_ms": {
      "type": "integer", "minimum": 100, "maximum": 3600000, "default": 10000,
      "title": "First retry after (ms)", "x-kassa-titles": {"zh-CN": "首次重试间隔（毫秒）"}, "description": "Delay before the first retry; each further retry waits twice as long, at most one hour.", "x-kassa-descriptions": {"zh-CN": "首次重试之前的等待时间；之后每次重试的等待时间加倍，最长一小时。"}
    },
    "timeout_ms": {
      "type": "integer", "minimum": 100, "maximum": 60000, "default": 10000,
      "title": "Timeout (ms)", "x-kassa-titles": {"zh-CN": "超时（毫秒）"}, "description": "How long an endpoint may take to answer before the attempt counts as failed.", "x-kassa-descriptions": {"zh-CN": "端点应答的最长时间，超过则此次尝试算作失败。"}
    }
  }
}`)

// settings are the plugin's settings; see the schema for their meaning.
type settings struct {
	Endpoints           []endpoint        `json:"endpoints"`
	SigningSecrets      map[string]string `json:"signing_secrets"`
	MaxAttempts         int               `json:"max_attempts"`
	RetryInitialDelayMS int               `json:"retry_initial_delay_ms"`
	TimeoutMS           int               `json:"timeout_ms"`

	// guard is the shop owner's network policy given with these settings;
	// client connects through it.
	guard  netguard.Policy
	client *http.Client
}

// newClient returns the HTTP client of deliveries: every connection is
// checked against guard after DNS resolution, so an endpoint whose name
// resolves (or is rebound) to a private address is refused.
func newClient(guard netguard.Policy) *http.Client {
	return &http.Client{
		Transport: guard.Transport(),
		// Never follow redirects: a 3xx is the endpoint's answer, and a
		// redirect could lead to a non-http(s) or internal URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// httpClient returns the client of these settings, refusing private
// networks when Configure did not set one.
func (s *settings) httpClient() *http.Client {
	if s.client == nil {
		s.client = newClient(netguard.Policy{})
	}
	return s.client
}

// endpoint is one merchant URL.
type endpoint struct {
	Name        string   `json:"name"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

func (s *settings) maxAttempts() int {
	if s.MaxAttempts == 0 {
		return 12
	}
	return s.MaxAttempts
}

func (s *settings) initialDelay() time.Duration {
	if s.RetryInitialDelayMS == 0 {
		return 10 * time.Second
	}
	return time.Duration(s.RetryInitialDelayMS) * time.Millisecond
}

func (s *settings) timeout() time.Duration {
	if s.TimeoutMS == 0 {
		return 10 * time.Second
	}
	return time.Duration(s.TimeoutMS) * time.Millisecond
}

// endpoint returns the endpoint with the name.
func (s *settings) endpoint(name string) (endpoint, bool) {
	for _, e := range s.Endpoints {
		if e.Name == name {
			return e, true
		}
	}
	return endpoint{}, false
}

// wants reports whether the endpoint subscribes to the event type:
// "*" matches everything, "order.*" every type starting with "order.",
// anything else itself.
func (e endpoint) wants(eventType string) bool {
	events := e.Events
	if len(events) == 0 {
		events = []string{"*"}
	}
	for _, p := range events {
		if p == "*" || p == eventType {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(eventType, prefix) {
			return true
		}
	}
	return false
}

// checkURL accepts absolute http and https URLs without credentials whose
// host guard allows.
func checkURL(raw string, guard netguard.Policy) (code, msg string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "invalid_url", fmt.Sprintf("not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "scheme", fmt.Sprintf("only http:// and https:// URLs are allowed, not %q", u.Scheme+":")
	case u.Host == "" || u.Hostname() == "":
		return "invalid_url", "the URL has no host"
	case u.User != nil:
		return "credentials_in_url", "put no user name or password in the URL; receivers check the signature instead"
	case u.Fragment != "":
		return "invalid_url", "the URL must not have a #fragment"
	}
	if err := guard.CheckHost(u.Hostname()); errors.Is(err, netguard.ErrBlocked) {
		return "private_network", err.Error()
	} else if err != nil {
		return "invalid_url", err.Error()
	}
	return "", ""
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// check refuses settings the schema cannot express.
func (s *settings) check() []sdk.ConfigError {
	var errs []sdk.ConfigError
	seen := map[string]bool{}
	for i, e := range s.Endpoints {
		at := fmt.Sprintf("/endpoints/%d", i)
		if seen[e.Name] {
			errs = append(errs, sdk.ConfigError{Field: at + "/name", Code: "duplicate", Message: fmt.Sprintf("two endpoints are named %q", e.Name)})
		}
		seen[e.Name] = true
		if code, msg := checkURL(e.URL, s.guard); code != "" {
			errs = append(errs, sdk.ConfigError{Field: at + "/url", Code: code, Message: msg})
		}
		if s.SigningSecrets[e.Name] == "" && namePattern.MatchString(e.Name) {
			errs = append(errs, sdk.ConfigError{Field: "/signing_secrets/" + e.Name, Code: "required",
				Message: fmt.Sprintf("endpoint %q has no signing secret (signing_secrets.%s)", e.Name, e.Name)})
		}
	}
	return errs
}

// Channel is the notify.webhook plugin.
type Channel struct {
	notify.UnimplementedChannel

	cfg   atomic.Pointer[settings]
	queue *queue
}

// New returns the channel with the deliveries found in dataDir ("" keeps
// them in memory only) and starts its retry worker.
func New(dataDir string) (*Channel, error) {
	c := &Channel{}
	q, err := openQueue(dataDir, c.cfg.Load, time.Now)
	if err != nil {
		return nil, err
	}
	c.queue = q
	go q.run(context.Background())
	return c, nil
}

// logger is the plugin's logger; Serve installs slog's default after New.
// Log lines carry ids, endpoint names and status codes, never URLs'
// query strings, payloads or secrets.
func logger() *slog.Logger { return slog.Default().With("component", "webhook") }

// Describe returns the plugin's identity card.
func (c *Channel) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID: ID, Kind: sdk.KindNotify, Version: Version,
		Capabilities: []string{notify.CapMerchantEvents},
		ConfigSchema: schema.String(),
		DisplayName:  "Webhooks",
		Description:  "POSTs Kassa's events as signed JSON to your own systems' URLs, retrying with backoff when they are down.",
	}, nil
}

// Configure applies new settings. Pending retries continue with them:
// to an endpoint's current URL, signed with its current secret.
func (c *Channel) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var cfg settings
	if errs := schema.Decode(raw, &cfg); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	cfg.guard = netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
	cfg.client = newClient(cfg.guard)
	if errs := cfg.check(); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	c.cfg.Store(&cfg)
	c.queue.wake()
	return sdk.ConfigureResult{}, nil
}

// Health is SERVING once configured; endpoints are the merchant's and
// their outages show in the deliveries, not here.
func (c *Channel) Health(context.Context) (sdk.Health, error) {
	if c.cfg.Load() == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "not configured yet"}, nil
	}
	return sdk.Health{Status: sdk.HealthServing}, nil
}

func main() {
	c, err := New(os.Getenv(sdk.EnvDataDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	notify.Serve(c)
}
