package plugin

import (
	"encoding/json"
	"slices"
	"time"

	"golang.org/x/text/language"
)

// Kind is what a plugin does: take payments, issue invoices or send
// notifications. It is the prefix of the plugin's id.
type Kind string

// The plugin kinds.
const (
	KindPayment Kind = "payment"
	KindInvoice Kind = "invoice"
	KindNotify  Kind = "notify"
)

// HealthStatus is a plugin's state as the host last saw it.
type HealthStatus string

// The health states. The first four are the plugin's own answer to Health;
// the others are the host's view of the process.
const (
	// HealthServing: the plugin works.
	HealthServing HealthStatus = "SERVING"
	// HealthDegraded: the plugin works partly (slow or failing upstream).
	HealthDegraded HealthStatus = "DEGRADED"
	// HealthNotServing: the plugin runs but cannot work (bad credentials,
	// settings refused).
	HealthNotServing HealthStatus = "NOT_SERVING"
	// HealthUnknown: never checked, or the plugin gave no valid answer.
	HealthUnknown HealthStatus = "UNKNOWN"
	// HealthUnavailable: the process crashed or failed to start; the host
	// retries with backoff.
	HealthUnavailable HealthStatus = "UNAVAILABLE"
	// HealthStopped: no process runs (disabled, or not used yet: plugins
	// start on first use).
	HealthStopped HealthStatus = "STOPPED"
)

// Health is the last health check of a plugin.
type Health struct {
	Status HealthStatus
	// Message explains a status other than SERVING to staff.
	Message string
	// CheckedAt is when the status was established; zero if never.
	CheckedAt time.Time
}

// SecretField is a setting the plugin's schema marks writeOnly. Its value is
// encrypted at rest and never leaves the host; staff only see whether it is
// set.
type SecretField struct {
	// Name is the setting's path, JSON Pointer tokens joined by "." (e.g.
	// "api_key", "smtp.password").
	Name string
	// Pointer is the JSON Pointer of the setting, e.g. "/api_key".
	Pointer string
	// IsSet reports whether a value is stored.
	IsSet bool
}

// Plugin is an installed plugin as the catalog records it.
type Plugin struct {
	// ID is the plugin's own id, "<kind>.<name>", e.g. "payment.testpay".
	ID   string
	Kind Kind
	// DisplayName and Description come from the plugin's Describe.
	DisplayName string
	Description string
	// DisplayNames and Descriptions are DisplayName and Description in
	// other languages, keyed by BCP 47 tag ({"zh-CN": "微信支付"}); nil
	// when the plugin gives none. DisplayNameIn and DescriptionIn pick one.
	DisplayNames map[string]string
	Descriptions map[string]string
	// Version is the plugin's semantic version.
	Version string
	// ProtocolVersion is the plugin protocol major version it speaks.
	ProtocolVersion int
	// SDKVersion is the SDK version the plugin was built with.
	SDKVersion string
	// SHA256 pins the executable: a binary with another checksum never
	// starts.
	SHA256 string
	// FileName is the executable's path inside the plugin directory.
	FileName string
	// Capabilities are the optional features the plugin declares.
	Capabilities []string
	// ConfigSchema is the JSON Schema of the plugin's settings.
	ConfigSchema string
	// Enabled plugins are offered to the shop (checkout, invoicing,
	// notifications); disabled ones never start, except a payment gateway
	// settling the payments it took (InstalledGateway, ADR 0014).
	Enabled bool
	// Settings are the non-secret settings, a JSON object.
	Settings json.RawMessage
	// SecretFields are the secret settings the schema declares, with
	// whether each is set.
	SecretFields []SecretField
	// Revision increases with every change of binary, settings or Enabled.
	Revision int64
	// Health is the last known health.
	Health      Health
	InstalledAt time.Time
	UpdatedAt   time.Time
}

// Has reports whether the plugin declares the capability c.
func (p Plugin) Has(c string) bool {
	for _, x := range p.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// DisplayNameIn is the plugin's name in the language lang (a BCP 47 tag,
// e.g. from a buyer's request), or DisplayName when the plugin gives none
// close enough: zh and zh-Hans-CN find zh-CN, zh-TW does not (another
// script), and an empty or malformed lang is the default.
func (p Plugin) DisplayNameIn(lang string) string {
	return inLanguage(p.DisplayName, p.DisplayNames, lang)
}

// DescriptionIn is the plugin's description in lang, as DisplayNameIn.
func (p Plugin) DescriptionIn(lang string) string {
	return inLanguage(p.Description, p.Descriptions, lang)
}

// inLanguage picks the text of texts that matches lang with at least high
// confidence, and def otherwise.
func inLanguage(def string, texts map[string]string, lang string) string {
	if len(texts) == 0 || lang == "" || len(lang) > 35 {
		return def
	}
	want, err := language.Parse(lang)
	if err != nil {
		return def
	}
	// The default text stands first as Und, the matcher's fallback; keys
	// are sorted so that the choice does not depend on map order.
	keys := make([]string, 0, len(texts))
	for k := range texts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tags := []language.Tag{language.Und}
	var from []string
	for _, k := range keys {
		if t, err := language.Parse(k); err == nil {
			tags = append(tags, t)
			from = append(from, k)
		}
	}
	_, i, conf := language.NewMatcher(tags).Match(want)
	if i == 0 || conf < language.High {
		return def
	}
	return texts[from[i-1]]
}

// InstallResult is the outcome of Install.
type InstallResult struct {
	Plugin Plugin
	// Replaced is true when an installed version was replaced.
	Replaced bool
	// Unchanged is true when the same binary was installed again.
	Unchanged bool
	// Warnings are problems that did not stop the install, e.g. stored
	// settings the new version's schema refuses.
	Warnings []string
}

// VerifyResult is the check of one installed binary against the catalog.
type VerifyResult struct {
	ID   string
	Path string
	// Want is the pinned sha256, Got the binary's ("" when unreadable).
	Want, Got string
	// Problem is empty when the binary matches, otherwise it says what is
	// wrong ("missing", "checksum mismatch", ...).
	Problem string
}

// OK reports whether the binary matches the catalog.
func (r VerifyResult) OK() bool { return r.Problem == "" }
