package plugintest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// The signature-value checks: a delivery whose signature is present but
// empty ("sha256=", "t=123,v1=", "sign="), or cut short, or altered, must
// be refused like one without a signature, and refusing it must change
// nothing: the same notification correctly signed, delivered next, is
// accepted. A plugin that reads an empty value as "nothing to verify",
// compares only as many bytes as it was given, or notes a delivery as
// seen before it verified it, accepts forged notifications or lets a
// forger block the real one.
//
// Where is the signature? Most gateways send it in headers, some in a
// field of the body (Alipay's sign, UnionPay's signature). The kit asks
// the plugin's own signer (WebhookKit.Sign, or its SimulateWebhook) for
// two notifications that differ (event id, time):
//   - the headers whose values change carry the signature or what it
//     covers (timestamp, nonce, transmission id); the others
//     (Content-Type, a key's serial) do not;
//   - in a form-encoded or JSON body, the fields named like a signature
//     (signatureField) whose values change carry it; a constant sign_type
//     or a certificate does not.
//
// WebhookKit.SignatureHeaders and WebhookKit.SignatureFields name them
// instead when this guess is wrong: a constant token header, a changing
// header no signature covers, a body field named otherwise.

// sigPlace is where a signed delivery carries its signature, or what the
// signature covers: a header or a field of the body.
type sigPlace struct {
	header string // the header's name as Sign spelled it
	field  string // else the body field: a form field's name, or a JSON Pointer
}

func (p sigPlace) String() string {
	if p.header != "" {
		return "header " + p.header
	}
	return "body field " + p.field
}

// signatureField reports whether a body field's name (for a JSON Pointer,
// its last member name) says it holds a signature: one of its words (see
// nameWords) ends in sign, signature, sig, hmac, mac, hash or checksum
// (sign, paySign, hmacSignature, SHASIGN, CHECKSUMHASH), and no word after
// it describes the signature instead (sign_type, signMethod,
// signPubKeyCert: see descriptorWords).
func signatureField(field string) bool {
	name := field
	if i := strings.LastIndexByte(field, '/'); i >= 0 {
		name = strings.NewReplacer("~1", "/", "~0", "~").Replace(field[i+1:])
	}
	return namesThing(nameWords(name), func(w string) bool {
		for _, end := range []string{"sign", "signature", "signatures", "sig", "hmac", "mac", "hash", "checksum"} {
			if strings.HasSuffix(w, end) {
				return true
			}
		}
		return false
	})
}

// signaturePlaces returns where the signed delivery h, body (event ev,
// signed at at) carries its signature: the headers, as spelled in h, then
// the body fields.
func (r *gatewayRun) signaturePlaces(t *testing.T, kit *WebhookKit, ev payment.Event, h http.Header, body []byte, at time.Time) []sigPlace {
	t.Helper()
	// The other notification, signed only when a guess needs it.
	var otherH http.Header
	var otherBody []byte
	signOther := func() {
		if otherH != nil {
			return
		}
		other := ev
		other.ID = r.nextID("evt")
		other.OccurredAt = ev.OccurredAt.Add(-time.Minute)
		var err error
		otherH, otherBody, err = kit.Sign(other, at.Add(-time.Minute))
		if err != nil {
			t.Fatalf("WebhookKit.Sign: %v", err)
		}
		if otherH == nil {
			otherH = http.Header{}
		}
	}
	var places []sigPlace
	if kit.SignatureHeaders != nil {
		var names []string
		for _, want := range kit.SignatureHeaders {
			found := false
			for k := range h {
				if strings.EqualFold(k, want) {
					names, found = append(names, k), true
				}
			}
			if !found {
				t.Fatalf("WebhookKit.SignatureHeaders names %q, but WebhookKit.Sign set no such header (it set %s)", want, strings.Join(sortedKeys(h), ", "))
			}
		}
		slices.Sort(names)
		for _, k := range slices.Compact(names) {
			places = append(places, sigPlace{header: k})
		}
	} else {
		signOther()
		for _, k := range sortedKeys(h) {
			if !slices.Equal(h[k], otherH[k]) {
				places = append(places, sigPlace{header: k})
			}
		}
	}
	format := formatOf(h, body)
	fields := bodyFields(format, body)
	if kit.SignatureFields != nil {
		if len(kit.SignatureFields) > 0 && fields == nil {
			ct, _ := headerValue(h, "Content-Type")
			t.Fatalf("WebhookKit.SignatureFields names body fields, but the kit reads fields only in a form-encoded or JSON body, and the body WebhookKit.Sign made is neither (Content-Type %q)", ct)
		}
		var names []string
		for _, name := range kit.SignatureFields {
			if format == jsonBody && !strings.HasPrefix(name, "/") {
				name = "/" + pointerEscape(name) // a member at the top
			}
			if _, ok := fields[name]; !ok {
				t.Fatalf("WebhookKit.SignatureFields names %q, but the body WebhookKit.Sign made has no such string field (it has %s)", name, strings.Join(sortedKeys(fields), ", "))
			}
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range slices.Compact(names) {
			places = append(places, sigPlace{field: name})
		}
	} else if fields != nil {
		signOther()
		others := bodyFields(formatOf(otherH, otherBody), otherBody)
		for _, name := range sortedKeys(fields) {
			if signatureField(name) && !slices.Equal(fields[name], others[name]) {
				places = append(places, sigPlace{field: name})
			}
		}
	}
	return places
}

// unsigned returns the delivery h, body stripped of its signature: no
// header but its Content-Type (application/json when Sign set none), and
// none of the body fields among places.
func unsigned(h http.Header, body []byte, places []sigPlace) (http.Header, []byte) {
	ct, ok := headerValue(h, "Content-Type")
	if !ok {
		ct = "application/json"
	}
	var fields []string
	for _, p := range places {
		if p.field != "" {
			fields = append(fields, p.field)
		}
	}
	if len(fields) > 0 {
		body = dropFields(formatOf(h, body), body, fields)
	}
	return http.Header{"Content-Type": {ct}}, body
}

// valueChange changes a signature's value, in a header or a body field;
// false when it does not apply to the value (nothing to cut).
type valueChange struct {
	what   string // "emptied", "cut in half" ...
	change func(v string) (string, bool)
}

var (
	emptied = valueChange{"emptied", func(string) (string, bool) { return "", true }}
	// "sha256=abc" to "sha256=", "t=123,v1=abc" to "t=123,v1=": the value
	// after the last "=" (not a base64 padding "=") removed.
	payloadEmptied = valueChange{"stripped of what follows its last \"=\"", func(v string) (string, bool) {
		s := strings.TrimRight(v, "=")
		i := strings.LastIndexByte(s, '=')
		if i < 0 || i == len(s)-1 {
			return "", false
		}
		return s[:i+1], true
	}}
	halved = valueChange{"cut to its first half", func(v string) (string, bool) {
		if len(v) < 2 {
			return "", false
		}
		return v[:len(v)/2], true
	}}
	altered = valueChange{"altered in one character in its middle", alterMiddle}
)

// alterMiddle changes the letter or digit nearest to the middle of v into
// its neighbour of the same kind (0<->1, a<->b, E<->F ...), so the value
// keeps its alphabet (hex, base64, decimal) and only its meaning changes.
func alterMiddle(v string) (string, bool) {
	b := []byte(v)
	mid := len(b) / 2
	for d := 0; d <= len(b); d++ {
		for _, i := range []int{mid + d, mid - d - 1} {
			if i < 0 || i >= len(b) {
				continue
			}
			switch c := b[i]; {
			case c >= '0' && c <= '9':
				b[i] = '0' + ((c - '0') ^ 1)
			case c >= 'a' && c <= 'z':
				b[i] = 'a' + ((c - 'a') ^ 1)
			case c >= 'A' && c <= 'Z':
				b[i] = 'A' + ((c - 'A') ^ 1)
			default:
				continue
			}
			return string(b), true
		}
	}
	return "", false
}

// signatureCase is one kind of forged delivery: the places changed
// together, and how.
type signatureCase struct {
	// groups are the places changed together, one forged delivery per
	// group, from the signature's places and every header Sign set.
	groups func(sig []sigPlace, headers []string) [][]sigPlace
	change valueChange
}

// checkSignatureValues adds webhook/empty_signature_refused and
// webhook/cut_signature_refused.
func (r *gatewayRun) checkSignatureValues(kit *WebhookKit) {
	each := func(sig []sigPlace, _ []string) [][]sigPlace {
		var out [][]sigPlace
		for _, p := range sig {
			out = append(out, []sigPlace{p})
		}
		return out
	}
	everyHeader := func(_ []sigPlace, headers []string) [][]sigPlace {
		if len(headers) < 2 {
			return nil // the same as emptying each, or nothing
		}
		var all []sigPlace
		for _, k := range headers {
			all = append(all, sigPlace{header: k})
		}
		return [][]sigPlace{all}
	}
	r.s.check("webhook/empty_signature_refused", func(t *testing.T) {
		r.forge(t, kit, []signatureCase{{everyHeader, emptied}, {each, emptied}, {each, payloadEmptied}})
	})
	r.s.check("webhook/cut_signature_refused", func(t *testing.T) {
		r.forge(t, kit, []signatureCase{{each, halved}, {each, altered}})
	})
}

// forge delivers, for each case, a correctly signed notification with the
// case's change, and requires each to be refused and the refusal to change
// nothing: the same notification unchanged, delivered right after it, must
// be accepted with its event (a refusal that left a mark, say an id noted
// as seen before the signature was checked, makes it a replay). That
// acceptance also shows the refusals were for the change, not for a
// notification the plugin refuses anyway.
func (r *gatewayRun) forge(t *testing.T, kit *WebhookKit, cases []signatureCase) {
	t.Helper()
	ev := r.webhookEvent(t)
	base := time.Now().Truncate(time.Second)
	h0, body0, err := kit.Sign(ev, base)
	if err != nil {
		t.Fatalf("WebhookKit.Sign: %v", err)
	}
	sig := r.signaturePlaces(t, kit, ev, h0, body0, base)
	if len(sig) == 0 {
		r.s.skipf(t, "neither a header nor a body field carries the signature: no header changed between two signings, and no field of a form or JSON body "+
			"named like a signature (sign, signature, sig, hmac, mac, hash, checksum) did; name them in WebhookKit.SignatureHeaders or WebhookKit.SignatureFields")
	}
	var where []string
	for _, p := range sig {
		where = append(where, p.String())
	}
	guessed := ""
	if kit.SignatureHeaders == nil || kit.SignatureFields == nil {
		guessed = " (as far as the kit can tell: WebhookKit.SignatureHeaders and SignatureFields name them when this is wrong)"
	}
	t.Logf("the signature is carried by %s%s", strings.Join(where, ", "), guessed)
	// Each delivery is signed afresh, as another event a second earlier
	// (its id and time both changed, for a signer that ignores one of
	// them), and received when it was signed: a plugin that wrongly
	// accepts one cannot make the next look like a replay of it.
	n := 0
	sign := func() (payment.Event, http.Header, []byte, time.Time) {
		n++
		e := ev
		e.ID = r.nextID("evt")
		e.OccurredAt = ev.OccurredAt.Add(-time.Duration(n) * time.Second)
		at := base.Add(-time.Duration(n) * time.Second)
		h, body, err := kit.Sign(e, at)
		if err != nil {
			t.Fatalf("WebhookKit.Sign: %v", err)
		}
		if h == nil {
			h = http.Header{}
		}
		return e, h, body, at
	}
	for _, c := range cases {
		for _, group := range c.groups(sig, sortedKeys(h0)) {
			e, h, body, at := sign()
			fh, fbody, sent := forgeDelivery(h, body, group, c.change)
			if len(sent) == 0 {
				continue
			}
			which := group[0].String()
			if len(group) > 1 { // everyHeader
				var names []string
				for _, p := range group {
					names = append(names, p.header)
				}
				which = "headers " + strings.Join(names, ", ") + " (every header the signer set)"
			}
			verb := plural(len(group), "was", "were")
			what := fmt.Sprintf("a correctly signed notification whose %s %s %s (%s)", which, verb, c.change.what, strings.Join(sent, "; "))
			res := r.deliver(t, fh, fbody, at)
			switch {
			case res.Rejection == nil:
				t.Errorf("HandleWebhook accepted %s, with %d event(s): it must refuse it as it refuses one without a signature, "+
					"with a Rejection (payment.RejectBadSignature) and no events. Verify the value itself: a present but empty, short "+
					"or altered signature is a bad one, not \"nothing to check\", and compare the whole expected signature in constant "+
					"time (hmac.Equal), never only as many bytes as were sent. See docs/plugins.md, Webhooks, step 1",
					what, len(res.Events))
				continue
			case len(res.Events) > 0:
				t.Errorf("HandleWebhook rejected %s (%s), but with %d event(s): a rejected notification must carry none, or Kassa could apply them",
					what, res.Rejection.Reason, len(res.Events))
				continue
			case res.Response.Status == 0:
				t.Errorf("the refusal of a notification whose %s %s %s has no explicit HTTP answer for the gateway (WebhookResult.Response.Status)",
					which, verb, c.change.what)
			}
			r.genuineAfterForgery(t, kit, e, h, body, at, which+" "+verb+" "+c.change.what)
		}
	}
}

// forgeDelivery returns a copy of the signed delivery h, body with change
// made to the places of group, and each change made, for messages.
func forgeDelivery(h http.Header, body []byte, group []sigPlace, change valueChange) (http.Header, []byte, []string) {
	h = h.Clone()
	format := formatOf(h, body)
	var sent []string
	for _, p := range group {
		if p.header != "" {
			for i, v := range h[p.header] {
				if nv, ok := change.change(v); ok {
					sent = append(sent, fmt.Sprintf("%s: %q instead of %q", p.header, clip(nv), clip(v)))
					h[p.header][i] = nv
				}
			}
			continue
		}
		var edits []fieldEdit
		body, edits = setField(format, body, p.field, change.change)
		for _, e := range edits {
			sent = append(sent, fmt.Sprintf("%s=%q instead of %q", p.field, clip(e.new), clip(e.old)))
		}
	}
	return h, body, sent
}

// genuineAfterForgery delivers the notification h, body of event e as
// signed, right after a forged copy of it (forged says how) was refused:
// it must be accepted, with its event.
func (r *gatewayRun) genuineAfterForgery(t *testing.T, kit *WebhookKit, e payment.Event, h http.Header, body []byte, at time.Time, forged string) {
	t.Helper()
	res := r.deliver(t, h, body, at)
	switch {
	case res.Rejection != nil && res.Rejection.Reason == payment.RejectReplay:
		t.Errorf("HandleWebhook refused a copy of notification %s whose %s, then refused the notification itself, correctly signed, as a replay (%q): "+
			"refusing a forged delivery must change nothing. Note a delivery as seen (replay cache, event ids) only after its signature verified, "+
			"or anyone who copies a notification's ids can block the real one. See docs/plugins.md, Webhooks, step 2",
			e.ID, forged, res.Rejection.Message)
	case res.Rejection != nil:
		t.Errorf("HandleWebhook refused a copy of notification %s whose %s, and the notification itself, correctly signed, too: %s %q; "+
			"the refusal proves nothing while the valid delivery is refused", e.ID, forged, res.Rejection.Reason, res.Rejection.Message)
	case findEvent(res.Events, e, kit.DerivedIDs) == nil:
		t.Errorf("after refusing a copy of notification %s whose %s, HandleWebhook accepted the notification itself, correctly signed, but without its event (id %q, or %s of attempt %q) among %+v",
			e.ID, forged, e.ID, e.Type, e.AttemptID, res.Events)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// clip shortens a header or field value for a message.
func clip(v string) string {
	if len(v) > 72 {
		return v[:60] + "…(" + fmt.Sprint(len(v)) + " bytes)"
	}
	return v
}
