package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client signs OpenAPI requests with the app's private key and verifies
// Alipay's answers with Alipay's public key.
type client struct {
	appID      string
	gatewayURL string
	appKey     *rsa.PrivateKey
	alipayKey  *rsa.PublicKey
	certs      *certMode // nil in public-key mode
	http       *http.Client
	now        func() time.Time
}

// apiResponse is the verified "<method>_response" node of an answer.
type apiResponse struct {
	Code    string `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
	// Raw is the node byte for byte, to decode method fields from.
	Raw json.RawMessage `json:"-"`
	// Signed says Alipay's signature over Raw verified. Only answers about
	// the call itself (bad signature, bad app id) come unsigned.
	Signed bool `json:"-"`
}

// ok reports Alipay's success code.
func (r *apiResponse) ok() bool { return r.Code == "10000" }

// String is a short summary for staff messages and logs.
func (r *apiResponse) String() string {
	s := r.Code + " " + r.Msg
	if r.SubCode != "" {
		s += " (" + r.SubCode + ": " + r.SubMsg + ")"
	}
	return s
}

// unsignedCodes are the answers Alipay may send without a signature: the
// call was refused before any business logic ran, so nothing moved.
var unsignedCodes = map[string]bool{"20000": true, "20001": true, "40001": true, "40002": true}

// errUnreachable wraps transport failures (the outcome is unknown).
var errUnreachable = errors.New("alipay gateway unreachable")

// params returns the signed public parameters of a call.
func (c *client) params(method string, biz any, extra map[string]string) (url.Values, error) {
	bizJSON, err := marshalNoEscape(biz)
	if err != nil {
		return nil, fmt.Errorf("alipay: encode biz_content: %w", err)
	}
	p := url.Values{}
	p.Set("app_id", c.appID)
	p.Set("method", method)
	p.Set("format", "JSON")
	p.Set("charset", "utf-8")
	p.Set("sign_type", "RSA2")
	p.Set("timestamp", c.now().In(chinaTime).Format(timeLayout))
	p.Set("version", "1.0")
	p.Set("biz_content", string(bizJSON))
	if c.certs != nil {
		p.Set("app_cert_sn", c.certs.appCertSN)
		p.Set("alipay_root_cert_sn", c.certs.rootCertSN)
	}
	for k, v := range extra {
		if v != "" {
			p.Set(k, v)
		}
	}
	sig, err := signRSA2(c.appKey, []byte(signContent(p, true)))
	if err != nil {
		return nil, err
	}
	p.Set("sign", sig)
	return p, nil
}

// pageURL returns the signed GET URL a buyer's browser opens for page and
// wap payments.
func (c *client) pageURL(method string, biz any, extra map[string]string) (string, error) {
	p, err := c.params(method, biz, extra)
	if err != nil {
		return "", err
	}
	sep := "?"
	if strings.Contains(c.gatewayURL, "?") {
		sep = "&"
	}
	return c.gatewayURL + sep + p.Encode(), nil
}

// call POSTs a signed request and returns the verified response node. A
// transport failure or an unverifiable answer is an error; Alipay's
// business refusals are in the response.
func (c *client) call(ctx context.Context, method string, biz any, extra map[string]string) (*apiResponse, error) {
	p, err := c.params(method, biz, extra)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.gatewayURL, strings.NewReader(p.Encode()))
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w: %w", method, errUnreachable, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: read answer: %w: %w", method, errUnreachable, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alipay: %s: %w: HTTP %d", method, errUnreachable, res.StatusCode)
	}
	return c.verifyResponse(method, body)
}

// verifyResponse finds the "<method>_response" node (or "error_response")
// and checks Alipay's signature over its raw bytes as sent: re-encoding
// would change key order and escapes and break the signature.
func (c *client) verifyResponse(method string, body []byte) (*apiResponse, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("alipay: %s: answer is not JSON: %w", method, err)
	}
	node, ok := top[strings.ReplaceAll(method, ".", "_")+"_response"]
	if !ok {
		if node, ok = top["error_response"]; !ok {
			return nil, fmt.Errorf("alipay: %s: answer has no response node", method)
		}
	}
	var r apiResponse
	if err := json.Unmarshal(node, &r); err != nil {
		return nil, fmt.Errorf("alipay: %s: response node: %w", method, err)
	}
	r.Raw = node
	var sign string
	if raw, ok := top["sign"]; ok {
		_ = json.Unmarshal(raw, &sign)
	}
	var certSN string
	if raw, ok := top["alipay_cert_sn"]; ok {
		_ = json.Unmarshal(raw, &certSN)
	}
	if err := checkAlipayCertSN(c.certs, certSN); err != nil {
		return nil, fmt.Errorf("alipay: %s: %w", method, err)
	}
	switch {
	case sign != "":
		if err := verifyRSA2(c.alipayKey, node, sign); err != nil {
			return nil, fmt.Errorf("alipay: %s: answer signature does not verify with the Alipay public key: %w", method, err)
		}
		r.Signed = true
	case !unsignedCodes[r.Code]:
		return nil, fmt.Errorf("alipay: %s: answer %s is not signed", method, r.Code)
	}
	return &r, nil
}

// marshalNoEscape encodes JSON without HTML escaping, as Alipay's SDKs do.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
