package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/notify"
)

// ID is the plugin's id.
const ID = "notify.email"

// Version is the plugin's version.
const Version = "1.0.0"

// Transport security modes: the values of the tls setting.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS before
	// anything else is sent; a server that does not offer it is refused.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (usually port 465).
	TLSImplicit = "tls"
	// TLSNone sends in plain text; allowed only to a server on this machine.
	TLSNone = "none"
)

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["host", "from_address"],
  "properties": {
    "host": {
      "type": "string", "minLength": 1, "maxLength": 253, "x-kassa-outbound": true,
      "title": "SMTP server", "x-kassa-titles": {"zh-CN": "SMTP 服务器"}, "description": "Host name of your mail provider's SMTP server, e.g. smtp.example.com. A server on this machine or your private network is refused unless the shop owner allows private networks.", "x-kassa-descriptions": {"zh-CN": "邮件服务商的 SMTP 服务器主机名，例如 smtp.example.com。本机或内网中的服务器会被拒绝，除非店铺所有者允许私有网络。"}
    },
    "port": {
      "type": "integer", "minimum": 1, "maximum": 65535,
      "title": "Port", "x-kassa-titles": {"zh-CN": "端口"}, "description": "SMTP port. Default: 587 with STARTTLS, 465 with TLS, 25 without encryption.", "x-kassa-descriptions": {"zh-CN": "SMTP 端口。默认：STARTTLS 为 587，TLS 为 465，不加密为 25。"}
    },
    "tls": {
      "type": "string", "enum": ["starttls", "tls", "none"], "default": "starttls",
      "title": "Encryption", "x-kassa-titles": {"zh-CN": "加密方式"},
      "description": "starttls: upgrade the connection with STARTTLS (port 587); a server that does not offer it is refused, never used unencrypted. tls: TLS from the start (port 465). none: unencrypted, only for a mail server on this machine (localhost).", "x-kassa-descriptions": {"zh-CN": "starttls：用 STARTTLS 升级连接（端口 587）；不支持它的服务器会被拒绝，绝不以未加密方式使用。tls：从一开始就使用 TLS（端口 465）。none：不加密，仅用于本机（localhost）上的邮件服务器。"}
    },
    "username": {
      "type": "string", "maxLength": 320,
      "title": "User name", "x-kassa-titles": {"zh-CN": "用户名"}, "description": "SMTP login (AUTH PLAIN). Leave empty when the server needs no login.", "x-kassa-descriptions": {"zh-CN": "SMTP 登录名（AUTH PLAIN）。服务器无需登录时留空。"}
    },
    "password": {
      "type": "string", "maxLength": 1000, "writeOnly": true,
      "title": "Password", "x-kassa-titles": {"zh-CN": "密码"}, "description": "SMTP password or app password. Stored encrypted, never shown again.", "x-kassa-descriptions": {"zh-CN": "SMTP 密码或应用专用密码。加密存储，不再显示。"}
    },
    "from_address": {
      "type": "string", "minLength": 3, "maxLength": 320,
      "title": "Sender address", "x-kassa-titles": {"zh-CN": "发件人地址"}, "description": "The address emails come from, e.g. shop@example.com. Your provider must allow it.", "x-kassa-descriptions": {"zh-CN": "邮件的发件地址，例如 shop@example.com。须为邮件服务商允许的地址。"}
    },
    "from_name": {
      "type": "string", "maxLength": 200,
      "title": "Sender name", "x-kassa-titles": {"zh-CN": "发件人名称"}, "description": "The name shown as sender, e.g. your shop's name. Also used as the shop's name in emails when Kassa sends none.", "x-kassa-descriptions": {"zh-CN": "显示为发件人的名称，例如您的店铺名称。Kassa 未提供店铺名称时，也用作邮件中的店铺名称。"}
    },
    "reply_to": {
      "type": "string", "maxLength": 320,
      "title": "Reply-to address", "x-kassa-titles": {"zh-CN": "回复地址"}, "description": "Where replies go, e.g. your support address. Optional.", "x-kassa-descriptions": {"zh-CN": "回复邮件发往的地址，例如您的客服邮箱。选填。"}
    },
    "helo_name": {
      "type": "string", "maxLength": 253,
      "title": "HELO name", "x-kassa-titles": {"zh-CN": "HELO 名称"}, "description": "Name this server announces to the SMTP server. Default: the domain of the sender address.", "x-kassa-descriptions": {"zh-CN": "本服务器向 SMTP 服务器报告的名称。默认：发件人地址的域名。"}
    },
    "insecure_skip_verify": {
      "type": "boolean", "default": false,
      "title": "Accept any TLS certificate", "x-kassa-titles": {"zh-CN": "接受任何 TLS 证书"},
      "description": "Do not verify the server's certificate (self-signed certificates in development). Never turn this on in production: anyone on the network could read your emails and your SMTP password.", "x-kassa-descriptions": {"zh-CN": "不验证服务器证书（开发中的自签名证书）。切勿在生产环境中开启：网络上的任何人都能读取您的邮件和 SMTP 密码。"}
    },
    "timeout_seconds": {
      "type": "integer", "minimum": 1, "maximum": 300, "default": 30,
      "title": "Timeout", "x-kassa-titles": {"zh-CN": "超时"}, "description": "How long to wait for the SMTP server, in seconds, unless Kassa's own deadline is shorter.", "x-kassa-descriptions": {"zh-CN": "等待 SMTP 服务器的时长，单位为秒，除非 Kassa 自身的期限更短。"}
    }
  }
}`)

// settings are the plugin's settings; see the schema for their meaning.
type settings struct {
	Host               string `json:"host"`
	Port               int    `json:"port"`
	TLS                string `json:"tls"`
	Username           string `json:"username"`
	Password           string `json:"password"`
	FromAddress        string `json:"from_address"`
	FromName           string `json:"from_name"`
	ReplyTo            string `json:"reply_to"`
	HeloName           string `json:"helo_name"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
	TimeoutSeconds     int    `json:"timeout_seconds"`

	// guard is the shop owner's network policy given with these settings;
	// every connection to the SMTP server goes through it.
	guard netguard.Policy
}

func (s *settings) tlsMode() string {
	if s.TLS == "" {
		return TLSStartTLS
	}
	return s.TLS
}

func (s *settings) port() int {
	if s.Port != 0 {
		return s.Port
	}
	switch s.tlsMode() {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	}
	return 587
}

func (s *settings) timeout() time.Duration {
	if s.TimeoutSeconds == 0 {
		return 30 * time.Second
	}
	return time.Duration(s.TimeoutSeconds) * time.Second
}

// senderDomain is the domain of the sender address.
func (s *settings) senderDomain() string {
	_, domain, _ := strings.Cut(s.FromAddress, "@")
	return strings.ToLower(domain)
}

func (s *settings) helo() string {
	if s.HeloName != "" {
		return s.HeloName
	}
	if d := s.senderDomain(); d != "" {
		return d
	}
	return "localhost"
}

// isLocalhost reports whether host names this machine.
func isLocalhost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// check refuses settings the schema cannot express.
func (s *settings) check() []sdk.ConfigError {
	var errs []sdk.ConfigError
	if a, err := mail.ParseAddress(s.FromAddress); err != nil || a.Address != s.FromAddress {
		errs = append(errs, sdk.ConfigError{Field: "/from_address", Code: "invalid_address", Message: fmt.Sprintf("%q is not a plain email address like shop@example.com", s.FromAddress)})
	}
	if s.ReplyTo != "" {
		if a, err := mail.ParseAddress(s.ReplyTo); err != nil || a.Address != s.ReplyTo {
			errs = append(errs, sdk.ConfigError{Field: "/reply_to", Code: "invalid_address", Message: fmt.Sprintf("%q is not a plain email address", s.ReplyTo)})
		}
	}
	if s.tlsMode() == TLSNone && !isLocalhost(s.Host) {
		errs = append(errs, sdk.ConfigError{Field: "/tls", Code: "insecure_transport",
			Message: "unencrypted SMTP is only allowed to a server on this machine (localhost); use starttls or tls for " + s.Host})
	}
	if s.Password != "" && s.Username == "" {
		errs = append(errs, sdk.ConfigError{Field: "/username", Code: "required", Message: "a password needs a user name"})
	}
	if strings.ContainsAny(s.Host+s.HeloName, " \r\n/") {
		errs = append(errs, sdk.ConfigError{Field: "/host", Code: "invalid_host", Message: "a host name cannot contain spaces, slashes or line breaks"})
	} else if err := s.guard.CheckHost(s.Host); errors.Is(err, netguard.ErrBlocked) {
		errs = append(errs, sdk.ConfigError{Field: "/host", Code: "private_network", Message: err.Error()})
	} else if err != nil {
		errs = append(errs, sdk.ConfigError{Field: "/host", Code: "invalid_host", Message: err.Error()})
	}
	return errs
}

// Channel is the notify.email plugin.
type Channel struct {
	notify.UnimplementedChannel

	cfg     atomic.Pointer[settings]
	journal *journal

	healthMu sync.Mutex
	health   sdk.Health
	healthAt time.Time
	healthOf *settings

	flightMu sync.Mutex
	inFlight map[string]chan struct{}
}

// New returns the channel with the journal of sent messages found in
// dataDir ("" keeps it in memory only).
func New(dataDir string) (*Channel, error) {
	if _, err := loadedCatalog(); err != nil {
		return nil, fmt.Errorf("notify.email: templates: %w", err)
	}
	j, err := openJournal(dataDir, time.Now())
	if err != nil {
		return nil, err
	}
	return &Channel{journal: j, inFlight: map[string]chan struct{}{}}, nil
}

// logger is the plugin's logger; Serve installs slog's default after New.
// Log lines carry ids only: never addresses, links or settings.
func logger() *slog.Logger { return slog.Default().With("component", "email") }

// Describe returns the plugin's identity card.
func (c *Channel) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID: ID, Kind: sdk.KindNotify, Version: Version,
		Capabilities: []string{notify.CapPersonal},
		ConfigSchema: schema.String(),
		DisplayName:  "Email (SMTP)",
		Description:  "Sends order and account emails in English and Simplified Chinese through your mail provider's SMTP server.",
	}, nil
}

// Configure applies new settings. The server is not contacted: Health
// does that.
func (c *Channel) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var cfg settings
	if errs := schema.Decode(raw, &cfg); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	cfg.guard = netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
	if errs := cfg.check(); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	if cfg.InsecureSkipVerify && !isLocalhost(cfg.Host) {
		logger().Warn("TLS certificate verification is off (insecure_skip_verify): use this only in development")
	}
	c.cfg.Store(&cfg)
	return sdk.ConfigureResult{}, nil
}

// healthTTL is how long a health probe's answer is reused: providers
// throttle logins, and Kassa asks often.
const healthTTL = 2 * time.Minute

// Health logs in to the SMTP server (connect, EHLO, STARTTLS, AUTH, QUIT)
// and answers SERVING when that works, NOT_SERVING when the credentials or
// the TLS setup are refused, and DEGRADED when the server is unreachable.
// The answer is reused for two minutes per settings.
func (c *Channel) Health(ctx context.Context) (sdk.Health, error) {
	cfg := c.cfg.Load()
	if cfg == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "not configured yet"}, nil
	}
	c.healthMu.Lock()
	defer c.healthMu.Unlock()
	if c.healthOf == cfg && time.Since(c.healthAt) < healthTTL {
		return c.health, nil
	}
	h := sdk.Health{Status: sdk.HealthServing}
	if fail := probe(ctx, cfg); fail != nil {
		h = sdk.Health{Status: sdk.HealthDegraded, Message: fail.ErrorMessage}
		switch fail.ErrorCode {
		case CodeAuthFailed, CodeTLSFailed, CodeStartTLSUnsupported:
			h.Status = sdk.HealthNotServing
		}
	}
	c.health, c.healthAt, c.healthOf = h, time.Now(), cfg
	return h, nil
}

func main() {
	c, err := New(os.Getenv(sdk.EnvDataDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	notify.Serve(c)
}
