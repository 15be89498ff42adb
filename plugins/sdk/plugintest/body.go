package plugintest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The fields of a notification's body, for the signature checks of
// gateways that sign in the body (Alipay's sign, UnionPay's signature).
// The kit reads two kinds of body: form-encoded (name=value&...) and JSON;
// a form field is named by its name, a JSON string by its JSON Pointer
// ("/auth/signature"). It changes a field in place and leaves every other
// byte as Sign wrote it, so that the only thing wrong with a forged
// delivery is the field the kit changed.

// bodyFormat is the kind of body a notification has.
type bodyFormat int

const (
	opaqueBody bodyFormat = iota // neither: the kit cannot read its fields
	formBody                     // application/x-www-form-urlencoded
	jsonBody                     // application/json, or any +json type
)

// formatOf tells how body is encoded: by the Content-Type header Sign
// set, else by what the body looks like.
func formatOf(h http.Header, body []byte) bodyFormat {
	if ct, ok := headerValue(h, "Content-Type"); ok {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return opaqueBody
		case mt == "application/x-www-form-urlencoded":
			return formBody
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return jsonBody
		}
		return opaqueBody
	}
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
		return jsonBody
	}
	if _, err := url.ParseQuery(string(body)); err == nil && bytes.Contains(body, []byte("=")) {
		return formBody
	}
	return opaqueBody
}

// headerValue is the first value of header name in h, whatever the
// spelling of its name (Sign may build h without canonical keys).
func headerValue(h http.Header, name string) (string, bool) {
	for k, vs := range h {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

// bodyFields returns the values of the fields of body: a form's fields by
// name, a JSON document's strings by JSON Pointer (other JSON values are
// left out: a signature is a string). nil for an opaque or unreadable body.
func bodyFields(f bodyFormat, body []byte) map[string][]string {
	switch f {
	case formBody:
		// ParseQuery returns what it could read along with the first
		// error: a signature field is found even next to a bad escape.
		vals, _ := url.ParseQuery(string(body))
		return vals
	case jsonBody:
		strs, err := jsonStrings(body)
		if err != nil {
			return nil
		}
		out := map[string][]string{}
		for _, s := range strs {
			out[s.ptr] = append(out[s.ptr], s.value)
		}
		return out
	}
	return nil
}

// fieldEdit is one value of a body field the kit changed, for messages.
type fieldEdit struct{ old, new string }

// setField returns body with every value of field that change applies to
// changed, and the changes made.
func setField(f bodyFormat, body []byte, field string, change func(string) (string, bool)) ([]byte, []fieldEdit) {
	var edits []fieldEdit
	switch f {
	case formBody:
		pairs := strings.Split(string(body), "&")
		for i, pair := range pairs {
			k, v, _ := strings.Cut(pair, "=")
			name, err := url.QueryUnescape(k)
			if err != nil || name != field {
				continue
			}
			old, err := url.QueryUnescape(v)
			if err != nil {
				continue
			}
			if nv, ok := change(old); ok {
				pairs[i] = k + "=" + url.QueryEscape(nv)
				edits = append(edits, fieldEdit{old, nv})
			}
		}
		return []byte(strings.Join(pairs, "&")), edits
	case jsonBody:
		strs, err := jsonStrings(body)
		if err != nil {
			return body, nil
		}
		out := append([]byte(nil), body...)
		// From the last to the first, so that the offsets of the
		// strings not yet changed still hold.
		for i := len(strs) - 1; i >= 0; i-- {
			s := strs[i]
			if s.ptr != field {
				continue
			}
			if nv, ok := change(s.value); ok {
				out = append(out[:s.start:s.start], append(jsonQuote(nv), out[s.end:]...)...)
				edits = append([]fieldEdit{{s.value, nv}}, edits...)
			}
		}
		return out, edits
	}
	return body, nil
}

// dropFields returns body without the fields: a form's pairs of those
// names, a JSON object's members at those pointers (with one comma
// beside them). A string in a JSON array stays: it has no member to drop.
func dropFields(f bodyFormat, body []byte, fields []string) []byte {
	drop := map[string]bool{}
	for _, name := range fields {
		drop[name] = true
	}
	switch f {
	case formBody:
		var kept []string
		for _, pair := range strings.Split(string(body), "&") {
			k, _, _ := strings.Cut(pair, "=")
			if name, err := url.QueryUnescape(k); err == nil && drop[name] {
				continue
			}
			kept = append(kept, pair)
		}
		return []byte(strings.Join(kept, "&"))
	case jsonBody:
		out := append([]byte(nil), body...)
		for {
			strs, err := jsonStrings(out)
			if err != nil {
				return out
			}
			i := -1
			for j, s := range strs {
				if drop[s.ptr] && s.member >= 0 {
					i = j
				}
			}
			if i < 0 {
				return out
			}
			out = dropMember(out, strs[i])
		}
	}
	return body
}

// dropMember removes the object member of s from body, with the comma
// after it, or else the one before it.
func dropMember(body []byte, s jsonString) []byte {
	from, to := s.member, s.end
	if j := to + spaceLen(body[to:]); j < len(body) && body[j] == ',' {
		to = j + 1 + spaceLen(body[j+1:])
	} else {
		i := from
		for i > 0 && isJSONSpace(body[i-1]) {
			i--
		}
		if i > 0 && body[i-1] == ',' {
			from = i - 1
		}
	}
	return append(body[:from:from], body[to:]...)
}

// jsonString is a string value in a JSON document.
type jsonString struct {
	ptr        string // its JSON Pointer
	value      string // decoded
	start, end int    // its token in the document, quotes included
	member     int    // where its object member (the name's quote) starts; -1 in an array or at the top
}

// jsonStrings lists the string values of a JSON document (not object
// member names) in document order.
func jsonStrings(body []byte) ([]jsonString, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		ptr     string
		object  bool
		wantKey bool   // object: the next token is a member's name
		name    string // object: the current member's name
		nameAt  int    // object: where that name starts
		index   int    // array: the next element's index
	}
	var stack []frame
	var out []jsonString
	for {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		// The token starts after the separators Token skipped.
		start := before
		for start < end && (isJSONSpace(body[start]) || body[start] == ',' || body[start] == ':') {
			start++
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		ptr, member := "", -1
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			switch {
			case top.object && top.wantKey:
				name, _ := tok.(string) // Token returns only strings as names
				top.name, top.nameAt, top.wantKey = name, start, false
				continue
			case top.object:
				ptr, member, top.wantKey = top.ptr+"/"+pointerEscape(top.name), top.nameAt, true
			default:
				ptr = top.ptr + "/" + strconv.Itoa(top.index)
				top.index++
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			stack = append(stack, frame{ptr: ptr, object: v == '{', wantKey: v == '{'})
		case string:
			out = append(out, jsonString{ptr: ptr, value: v, start: start, end: end, member: member})
		}
	}
}

// pointerEscape escapes a member name for a JSON Pointer (RFC 6901).
func pointerEscape(name string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}

// jsonQuote is s as a JSON string, with <, > and & as they are.
func jsonQuote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func spaceLen(b []byte) int {
	n := 0
	for n < len(b) && isJSONSpace(b[n]) {
		n++
	}
	return n
}
