package shop

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/money"
)

// The defaults of a shop whose staff never changed its settings, and the
// bounds Update enforces.
const (
	DefaultPaymentDeadline   = 30 * time.Minute
	DefaultReminderLead      = 10 * time.Minute
	DefaultOrderNumberPrefix = "#"
	DefaultLineQuantityLimit = 100
	// DefaultUnpaidOrdersPerBuyer is how many orders awaiting payment one
	// buyer may hold at once: far above what a person leaves unpaid, far
	// below a product's stock for a script.
	DefaultUnpaidOrdersPerBuyer = 10

	// MinPaymentDeadline and MaxPaymentDeadline bound how long a placed
	// order waits for payment before it is cancelled.
	MinPaymentDeadline = 5 * time.Minute
	MaxPaymentDeadline = 7 * 24 * time.Hour
	// MaxOrderNumberPrefix is the longest prefix, in characters.
	MaxOrderNumberPrefix = 10
	// MinLineQuantityLimit and MaxLineQuantityLimit bound the line limit.
	MinLineQuantityLimit = 1
	MaxLineQuantityLimit = 10000
	// MaxUnpaidOrdersPerBuyer bounds UnpaidOrdersPerBuyer (0 turns the
	// limit off).
	MaxUnpaidOrdersPerBuyer = 1000
	// MaxCurrencies is the most currencies a shop may sell in.
	MaxCurrencies = 20
	// MaxPaymentMethods is the most gateways PaymentMethodOrder lists.
	MaxPaymentMethods = 50
	// MaxStorefrontOrigins is the most origins StorefrontOrigins lists.
	MaxStorefrontOrigins = 20
	// MaxOriginLength is the longest storefront origin, in bytes.
	MaxOriginLength = 255
)

// CaptureMode says when the money of a buyer's payment is taken.
type CaptureMode string

// The capture modes.
const (
	// CaptureAutomatic takes the money when the buyer pays: the default.
	CaptureAutomatic CaptureMode = "AUTOMATIC"
	// CaptureManual has the gateway hold the money (where it can) for
	// staff to capture or release; the order stays AUTHORIZED, and keeps
	// its stock, until they do.
	CaptureManual CaptureMode = "MANUAL"
)

// Settings are the shop's settings.
type Settings struct {
	// Currencies are the currencies the shop sells in, in the order staff
	// chose; the first is the default. Never empty.
	Currencies []money.Currency
	// PaymentDeadline is how long a placed order waits for payment before
	// it is cancelled and its stock released.
	PaymentDeadline time.Duration
	// ReminderLead is how long before the deadline the buyer is reminded
	// to pay; always shorter than PaymentDeadline.
	ReminderLead time.Duration
	// OrderNumberPrefix comes before an order's number ("#1001").
	OrderNumberPrefix string
	// LineQuantityLimit is the most units of one variant a cart line may
	// hold.
	LineQuantityLimit int64
	// UnpaidOrdersPerBuyer is the most orders awaiting payment (and
	// holding stock) one buyer may have at once, counted per signed-in
	// account and per client network (an IPv4 address or IPv6 /64;
	// loopback and private addresses are not counted, see peer.Shared);
	// 0 turns the limit off.
	UnpaidOrdersPerBuyer int64
	// PricesIncludeTax says whether catalog and shipping prices include
	// tax (tax is the part of them) or not (tax is added on top).
	PricesIncludeTax bool
	// RefundCancelledOrderPayments says what happens to money a gateway
	// takes for an order that was cancelled meanwhile: refunded at once
	// (true) or flagged for staff to decide (false, the default).
	RefundCancelledOrderPayments bool
	// PaymentMethodOrder lists payment gateway plugin ids in the order
	// buyers see them; enabled gateways not listed follow, by id.
	PaymentMethodOrder []string
	// PaymentCaptureMode says whether buyers' payments are captured at
	// once (CaptureAutomatic, the default) or held for staff to capture
	// (CaptureManual), with gateways that can hold money. Buyers never
	// choose it.
	PaymentCaptureMode CaptureMode
	// StorefrontOrigins are the origins ("https://shop.example.com", as
	// Origin writes them) of the shop's storefronts besides its public
	// URL, a headless storefront on another host: a payment's return URL
	// may be on them. Empty: on the public URL only.
	StorefrontOrigins []string
	// UpdatedAt is when staff last saved the settings; zero while the
	// shop runs on its defaults.
	UpdatedAt time.Time
}

// DefaultCurrency returns the shop's default currency, the first of
// Currencies.
func (s *Settings) DefaultCurrency() money.Currency {
	if len(s.Currencies) == 0 {
		return money.Currency{}
	}
	return s.Currencies[0]
}

// Sells reports whether the shop sells in cur.
func (s *Settings) Sells(cur money.Currency) bool { return slices.Contains(s.Currencies, cur) }

// clone returns a copy of s that shares nothing with it, so a caller may
// change what Settings returned without changing the cached settings.
func (s *Settings) clone() *Settings {
	c := *s
	c.Currencies = slices.Clone(s.Currencies)
	c.PaymentMethodOrder = slices.Clone(s.PaymentMethodOrder)
	c.StorefrontOrigins = slices.Clone(s.StorefrontOrigins)
	return &c
}

// UpdateSettingsInput changes some settings; a nil field keeps its value.
type UpdateSettingsInput struct {
	// Currencies are ISO 4217 codes, the default first; at least one, no
	// repeats.
	Currencies *[]string
	// PaymentDeadline is between MinPaymentDeadline and
	// MaxPaymentDeadline, in whole seconds.
	PaymentDeadline *time.Duration
	// ReminderLead is positive, in whole seconds, and shorter than the
	// payment deadline (the new one when both change).
	ReminderLead *time.Duration
	// OrderNumberPrefix is at most MaxOrderNumberPrefix printable
	// characters; it may be empty.
	OrderNumberPrefix *string
	// LineQuantityLimit is between MinLineQuantityLimit and
	// MaxLineQuantityLimit.
	LineQuantityLimit *int64
	// UnpaidOrdersPerBuyer is between 0 (no limit) and
	// MaxUnpaidOrdersPerBuyer.
	UnpaidOrdersPerBuyer *int64
	// PricesIncludeTax switches between tax-inclusive and tax-exclusive
	// prices.
	PricesIncludeTax *bool
	// RefundCancelledOrderPayments switches between refunding money that
	// arrives for a cancelled order and flagging it for staff.
	RefundCancelledOrderPayments *bool
	// PaymentMethodOrder is at most MaxPaymentMethods plugin ids, no
	// repeats; an empty list orders gateways by id.
	PaymentMethodOrder *[]string
	// PaymentCaptureMode is CaptureAutomatic or CaptureManual.
	PaymentCaptureMode *CaptureMode
	// StorefrontOrigins are at most MaxStorefrontOrigins http(s) origins
	// (scheme, host and optional port; no path, query or credentials), no
	// repeats; an empty list leaves the public URL alone.
	StorefrontOrigins *[]string
}

// Origin returns the origin of u (scheme, host and port, lower case,
// without the scheme's default port: "https://shop.example",
// "http://localhost:3000") and whether u is an absolute http(s) URL with
// a host. Two URLs a browser sees as one origin have equal Origins.
func Origin(u *url.URL) (string, bool) {
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	origin := u.Scheme + "://" + host
	if port != "" {
		origin += ":" + port
	}
	return origin, true
}
