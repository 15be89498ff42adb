package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
)

// OutboundKeyword is the JSON Schema keyword a plugin puts on a string
// setting that is an address it connects to: true makes the host check it
// when settings are saved (as a URL when the field has "format": "uri",
// otherwise as a host name or host:port), false exempts a field whose
// format would otherwise mark it. Fields with "format" "uri", "hostname",
// "idn-hostname", "ipv4" or "ipv6" are outbound unless marked false.
const OutboundKeyword = "x-kassa-outbound"

// Stable codes of refused outbound settings.
const (
	// CodeInvalidURL: an outbound URL setting is not an absolute http(s)
	// URL with a host.
	CodeInvalidURL = "INVALID_URL"
	// CodePrivateNetwork: an outbound setting points at a loopback,
	// link-local, private, CGNAT or other non-public address and the owner
	// has not allowed private networks (KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS).
	CodePrivateNetwork = "PRIVATE_NETWORK"
)

// outboundField is a setting the plugin connects to. Pointer is a JSON
// Pointer in which "*" stands for every array item or map value.
type outboundField struct {
	pointer []string
	isURL   bool
}

var hostFormats = []string{"hostname", "idn-hostname", "ipv4", "ipv6"}

// outboundFields finds the outbound settings of a schema document. It
// follows properties, additionalProperties and items; settings reached
// only through $ref or combinators are not found, so plugins declare
// outbound fields directly.
func outboundFields(doc string) []outboundField {
	var root map[string]any
	if json.Unmarshal([]byte(doc), &root) != nil {
		return nil
	}
	var out []outboundField
	var walk func(node map[string]any, at []string)
	walk = func(node map[string]any, at []string) {
		format, _ := node["format"].(string)
		mark, marked := node[OutboundKeyword].(bool)
		if (marked && mark) || (!marked && (format == "uri" || slices.Contains(hostFormats, format))) {
			out = append(out, outboundField{pointer: slices.Clone(at), isURL: format == "uri" || format == "iri"})
		}
		if props, ok := node["properties"].(map[string]any); ok {
			for name, sub := range props {
				if m, ok := sub.(map[string]any); ok {
					walk(m, append(at, name))
				}
			}
		}
		if m, ok := node["additionalProperties"].(map[string]any); ok {
			walk(m, append(at, "*"))
		}
		if m, ok := node["items"].(map[string]any); ok {
			walk(m, append(at, "*"))
		}
	}
	walk(root, nil)
	slices.SortFunc(out, func(a, b outboundField) int { return slices.Compare(a.pointer, b.pointer) })
	return out
}

// checkOutbound refuses outbound settings that are not usable addresses or
// that point at private networks while guard refuses them. The plugin
// checks again when it connects, after DNS resolution.
func checkOutbound(doc string, obj map[string]any, guard netguard.Policy) error {
	var v errs.Validator
	for _, f := range outboundFields(doc) {
		visit(obj, f.pointer, nil, func(at []string, val any) {
			s, ok := val.(string)
			if !ok || s == "" {
				return // the schema judges types and required fields
			}
			field := append([]string{"settings"}, at...)
			if err := checkAddress(s, f.isURL, guard); err != nil {
				code := CodeInvalidURL
				if errors.Is(err, netguard.ErrBlocked) {
					code = CodePrivateNetwork
				}
				v.Add(&errs.Error{Kind: errs.ErrInvalid, Code: code, Field: field, Message: err.Error()})
			}
		})
	}
	return v.Err()
}

// keptSecretsStayPut refuses settings that change where the plugin
// connects while they keep stored secrets (the pointers kept) without
// naming them: whoever may configure a plugin could otherwise point it at
// a server of theirs and have it send the owner's API key or SMTP
// password there, a secret nobody can read back. Entering the secrets
// again, or clearing them, is what moving them takes.
func keptSecretsStayPut(r *row, obj map[string]any, kept []string) error {
	if len(kept) == 0 {
		return nil
	}
	var before map[string]any
	if r.Settings != "" {
		if err := json.Unmarshal([]byte(r.Settings), &before); err != nil {
			return fmt.Errorf("plugin %s: read the stored settings: %w", r.ID, err)
		}
	}
	if slices.Equal(outboundValues(r.ConfigSchema, before), outboundValues(r.ConfigSchema, obj)) {
		return nil
	}
	var v errs.Validator
	for _, p := range kept {
		v.Add(&errs.Error{Kind: errs.ErrInvalid, Code: CodeSecretRequired, Field: append([]string{"settings"}, tokens(p)...),
			Message: "the settings change where the plugin connects: enter this secret again (or clear it with null), so it does not go to the new address unasked"})
	}
	return v.Err()
}

// outboundValues lists every outbound setting of obj as "pointer=value",
// in a stable order.
func outboundValues(doc string, obj map[string]any) []string {
	var out []string
	for _, f := range outboundFields(doc) {
		visit(obj, f.pointer, nil, func(at []string, val any) {
			b, _ := json.Marshal(val)
			out = append(out, strings.Join(at, "/")+"="+string(b))
		})
	}
	slices.Sort(out)
	return out
}

func checkAddress(s string, isURL bool, guard netguard.Policy) error {
	if isURL || strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Hostname() == "" {
			return fmt.Errorf("%q is not an absolute URL with a host", s)
		}
		return guard.CheckURL(s)
	}
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	return guard.CheckHost(host)
}

// visit calls fn with every value of obj at the pointer, "*" matching each
// array item and map value.
func visit(v any, ptr, at []string, fn func(at []string, v any)) {
	if len(ptr) == 0 {
		fn(slices.Clone(at), v)
		return
	}
	tok, rest := ptr[0], ptr[1:]
	switch x := v.(type) {
	case map[string]any:
		if tok == "*" {
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				visit(x[k], rest, append(at, k), fn)
			}
		} else if c, ok := x[tok]; ok {
			visit(c, rest, append(at, tok), fn)
		}
	case []any:
		if tok == "*" {
			for i, c := range x {
				visit(c, rest, append(at, fmt.Sprint(i)), fn)
			}
		}
	}
}
