package sdk

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Version is the version of this SDK, reported to the host in
// [Info.SDKVersion] for support.
const Version = "0.1.0"

// Kind is the kind of a plugin. It decides which service the plugin serves and
// is the prefix of the plugin's id.
type Kind string

// The plugin kinds. Their values are also the names under which go-plugin
// dispenses the kind's client (see [PluginSetName]).
const (
	// KindPayment plugins are payment gateways ("payment.stripe").
	KindPayment Kind = "payment"
	// KindInvoice plugins decide on and render invoices ("invoice.standard").
	KindInvoice Kind = "invoice"
	// KindNotify plugins deliver notifications ("notify.email").
	KindNotify Kind = "notify"
)

// Kinds lists every known kind.
var Kinds = []Kind{KindPayment, KindInvoice, KindNotify}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// String returns the kind's name.
func (k Kind) String() string { return string(k) }

// Info is a plugin's identity card, returned by Describe.
type Info struct {
	// ID is the stable identifier "<kind>.<name>", lower case, e.g.
	// "payment.testpay". It never changes between versions.
	ID string
	// Kind is the plugin's kind; it must match the id's prefix.
	Kind Kind
	// Version is the plugin's semantic version without "v", e.g. "1.2.0".
	Version string
	// ProtocolVersion is the protocol major version; [Serve] functions fill
	// it with [ProtocolVersion] when left zero.
	ProtocolVersion int
	// Capabilities are the optional features the plugin supports; the kind
	// packages define the values (e.g. payment.CapRefund).
	Capabilities []string
	// ConfigSchema is the JSON Schema (draft 2020-12) of the plugin's settings
	// object. Mark secret fields with "writeOnly": true; Kassa encrypts them at
	// rest and never shows or logs them. Use "additionalProperties": false so
	// that misspelled settings are refused.
	//
	// Give every setting a "title" (and a "description" where it helps) in
	// English; "x-kassa-titles" and "x-kassa-descriptions" give them in
	// other languages, keyed by BCP 47 tag like DisplayNames. The admin
	// shows the closest language a staff member reads and falls back to
	// the English:
	//
	//	"webhook_secret": {
	//	  "type": "string", "writeOnly": true,
	//	  "title": "Webhook signing secret",
	//	  "x-kassa-titles": {"zh-CN": "Webhook 签名密钥"},
	//	  "description": "Secret the gateway signs its notifications with.",
	//	  "x-kassa-descriptions": {"zh-CN": "支付网关签名通知所用的密钥。"}
	//	}
	ConfigSchema string
	// DisplayName is a short human name, e.g. "Test payments".
	DisplayName string
	// Description is one or two sentences for the admin's plugin list.
	Description string
	// DisplayNames are DisplayName in other languages, keyed by BCP 47 tag,
	// e.g. {"zh-CN": "微信支付"}; screens fall back to DisplayName.
	DisplayNames map[string]string
	// Descriptions are Description in other languages, keyed like
	// DisplayNames.
	Descriptions map[string]string
	// SDKVersion is the SDK version the plugin was built with; [Serve]
	// functions fill it.
	SDKVersion string
}

// Has reports whether the plugin declares the capability c.
func (i Info) Has(c string) bool { return slices.Contains(i.Capabilities, c) }

var (
	idPattern     = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z0-9][a-z0-9_-]{0,62}$`)
	langPattern   = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)
	semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

// ValidSemver reports whether v is a semantic version (semver.org 2.0.0)
// without a leading "v".
func ValidSemver(v string) bool { return semverPattern.MatchString(v) }

// Validate checks the identity card the way the host does when it installs a
// plugin: id syntax and prefix, known kind, semantic version, protocol version
// and a config schema that compiles. It returns all problems joined.
func (i Info) Validate() error {
	var problems []string
	if !idPattern.MatchString(i.ID) {
		problems = append(problems, fmt.Sprintf("id %q is not of the form <kind>.<name> (lower case letters, digits, '_' and '-')", i.ID))
	}
	if !i.Kind.Valid() {
		problems = append(problems, fmt.Sprintf("kind %q is not one of %v", i.Kind, Kinds))
	} else if !strings.HasPrefix(i.ID, string(i.Kind)+".") {
		problems = append(problems, fmt.Sprintf("id %q does not start with its kind %q", i.ID, string(i.Kind)+"."))
	}
	if !ValidSemver(i.Version) {
		problems = append(problems, fmt.Sprintf("version %q is not a semantic version like 1.2.3", i.Version))
	}
	if i.ProtocolVersion != ProtocolVersion {
		problems = append(problems, fmt.Sprintf("protocol version %d, this SDK speaks %d", i.ProtocolVersion, ProtocolVersion))
	}
	if strings.TrimSpace(i.DisplayName) == "" {
		problems = append(problems, "display name is empty")
	}
	for _, m := range []struct {
		what  string
		texts map[string]string
	}{{"display name", i.DisplayNames}, {"description", i.Descriptions}} {
		for tag, text := range m.texts {
			if !langPattern.MatchString(tag) {
				problems = append(problems, fmt.Sprintf("%s language %q is not a BCP 47 tag like zh-CN", m.what, tag))
			} else if strings.TrimSpace(text) == "" || len(text) > 500 {
				problems = append(problems, fmt.Sprintf("%s for %s is empty or longer than 500 bytes", m.what, tag))
			}
		}
	}
	if _, err := CompileSchema(i.ConfigSchema); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid plugin info: %s", strings.Join(problems, "; "))
	}
	return nil
}
