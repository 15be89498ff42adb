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

// The signature-value checks: a delivery whose signature header is
// present but empty ("sha256=", "t=123,v1="), or cut short, or altered,
// must be refused like one without a signature. A plugin that reads an
// empty value as "nothing to verify", or compares only as many bytes as
// it was given, accepts forged notifications.
//
// Which headers carry the signature? The kit asks the plugin's own signer
// (WebhookKit.Sign, or its SimulateWebhook) for two notifications that
// differ (event id, time): the headers whose values change carry the
// signature or what it covers (timestamp, nonce, transmission id); the
// others (Content-Type, a key's serial) do not. WebhookKit.SignatureHeaders
// names them instead when this guess is wrong: a constant token header, or
// a changing header no signature covers.

// signatureHeaders returns the names, as spelled in h, of the headers of
// the signed delivery h (event ev, signed at at) that carry the signature.
func (r *gatewayRun) signatureHeaders(t *testing.T, kit *WebhookKit, ev payment.Event, h http.Header, at time.Time) []string {
	t.Helper()
	var names []string
	if kit.SignatureHeaders != nil {
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
		return slices.Compact(names)
	}
	other := ev
	other.ID = r.nextID("evt")
	other.OccurredAt = ev.OccurredAt.Add(-time.Minute)
	h2, _, err := kit.Sign(other, at.Add(-time.Minute))
	if err != nil {
		t.Fatalf("WebhookKit.Sign: %v", err)
	}
	for _, k := range sortedKeys(h) {
		if !slices.Equal(h[k], h2[k]) {
			names = append(names, k)
		}
	}
	return names
}

// headerChange changes the values of the headers it is given; false when
// it does not apply to them (nothing to cut).
type headerChange struct {
	what   string // "emptied", "cut in half" ...
	change func(v string) (string, bool)
}

var (
	emptied = headerChange{"emptied", func(string) (string, bool) { return "", true }}
	// "sha256=abc" to "sha256=", "t=123,v1=abc" to "t=123,v1=": the value
	// after the last "=" (not a base64 padding "=") removed.
	payloadEmptied = headerChange{"stripped of what follows its last \"=\"", func(v string) (string, bool) {
		s := strings.TrimRight(v, "=")
		i := strings.LastIndexByte(s, '=')
		if i < 0 || i == len(s)-1 {
			return "", false
		}
		return s[:i+1], true
	}}
	halved = headerChange{"cut to its first half", func(v string) (string, bool) {
		if len(v) < 2 {
			return "", false
		}
		return v[:len(v)/2], true
	}}
	altered = headerChange{"altered in one character in its middle", alterMiddle}
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

// signatureCase is one forged delivery: the headers to change, and how.
type signatureCase struct {
	headers func(sig []string, all []string) [][]string // groups of headers changed together
	change  headerChange
}

// checkSignatureValues adds webhook/empty_signature_refused and
// webhook/cut_signature_refused.
func (r *gatewayRun) checkSignatureValues(kit *WebhookKit) {
	each := func(sig, _ []string) [][]string {
		var out [][]string
		for _, k := range sig {
			out = append(out, []string{k})
		}
		return out
	}
	every := func(sig, all []string) [][]string {
		if len(all) == 1 {
			return nil // the same as emptying each
		}
		return [][]string{all}
	}
	r.s.check("webhook/empty_signature_refused", func(t *testing.T) {
		r.forge(t, kit, []signatureCase{{every, emptied}, {each, emptied}, {each, payloadEmptied}})
	})
	r.s.check("webhook/cut_signature_refused", func(t *testing.T) {
		r.forge(t, kit, []signatureCase{{each, halved}, {each, altered}})
	})
}

// forge delivers, for each case, a correctly signed notification with the
// case's change, and requires each to be refused; then the same
// notification unchanged, which must be accepted for the refusals to mean
// anything.
func (r *gatewayRun) forge(t *testing.T, kit *WebhookKit, cases []signatureCase) {
	t.Helper()
	ev := r.webhookEvent(t)
	base := time.Now().Truncate(time.Second)
	h0, _, err := kit.Sign(ev, base)
	if err != nil {
		t.Fatalf("WebhookKit.Sign: %v", err)
	}
	sig := r.signatureHeaders(t, kit, ev, h0, base)
	if len(sig) == 0 {
		r.s.skipf(t, "no header carries the signature: none changed between two signings (a signature in the body is checked by webhook/bad_signature_refused); set WebhookKit.SignatureHeaders if one does")
	}
	// Each delivery is signed afresh, as another event a second earlier,
	// and received when it was signed: a plugin that wrongly accepts one
	// cannot make the next look like a replay of it.
	n := 0
	sign := func() (payment.Event, http.Header, []byte, time.Time) {
		n++
		e := ev
		e.ID = r.nextID("evt")
		at := base.Add(-time.Duration(n) * time.Second)
		h, body, err := kit.Sign(e, at)
		if err != nil {
			t.Fatalf("WebhookKit.Sign: %v", err)
		}
		return e, h.Clone(), body, at
	}
	for _, c := range cases {
		for _, group := range c.headers(sig, sortedKeys(h0)) {
			_, h, body, at := sign()
			var sent []string
			for _, k := range group {
				for i, v := range h[k] {
					if nv, ok := c.change.change(v); ok {
						sent = append(sent, fmt.Sprintf("%s: %q instead of %q", k, clip(nv), clip(v)))
						h[k][i] = nv
					}
				}
			}
			if len(sent) == 0 {
				continue
			}
			res := r.deliver(t, h, body, at)
			which := "header " + strings.Join(group, ", ")
			if len(group) > 1 {
				which = "headers " + strings.Join(group, ", ") + " (every header the signer set)"
			}
			what := fmt.Sprintf("a correctly signed notification whose %s %s %s (%s)", which, plural(len(group), "was", "were"), c.change.what, strings.Join(sent, "; "))
			switch {
			case res.Rejection == nil:
				t.Errorf("HandleWebhook accepted %s, with %d event(s): it must refuse it as it refuses one without a signature, "+
					"with a Rejection (payment.RejectBadSignature) and no events. Verify the value itself: a present but empty, short "+
					"or altered signature is a bad one, not \"nothing to check\", and compare the whole expected signature in constant "+
					"time (hmac.Equal), never only as many bytes as were sent. See docs/plugins.md, Webhooks, step 1",
					what, len(res.Events))
			case len(res.Events) > 0:
				t.Errorf("HandleWebhook rejected %s (%s), but with %d event(s): a rejected notification must carry none, or Kassa could apply them",
					what, res.Rejection.Reason, len(res.Events))
			case res.Response.Status == 0:
				t.Errorf("the refusal of a notification whose %s %s %s has no explicit HTTP answer for the gateway (WebhookResult.Response.Status)",
					which, plural(len(group), "was", "were"), c.change.what)
			}
		}
	}
	if t.Failed() {
		return
	}
	e, h, body, at := sign()
	res := r.deliver(t, h, body, at)
	if res.Rejection != nil {
		t.Errorf("the same notification correctly signed (event %s) was rejected too: %s %q; the refusals above prove nothing while a valid delivery is refused", e.ID, res.Rejection.Reason, res.Rejection.Message)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// clip shortens a header value for a message.
func clip(v string) string {
	if len(v) > 72 {
		return v[:60] + "…(" + fmt.Sprint(len(v)) + " bytes)"
	}
	return v
}
