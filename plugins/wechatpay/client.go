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
	"time"

	"github.com/kassahq/kassa/plugins/wechatpay/internal/wxsign"
)

// client makes signed calls to WeChat Pay API v3 and verifies the answers.
type client struct {
	base       string
	mchID      string
	serial     string
	key        *rsa.PrivateKey
	platform   *rsa.PublicKey
	platformID string
	http       *http.Client
	now        func() time.Time
}

// apiError is a verified error answer of WeChat Pay: a definite refusal.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("wechatpay: %d %s: %s", e.Status, e.Code, e.Message)
}

// do sends a signed request with the JSON of body (nil: no body) and
// decodes a 2xx answer into out. A verified error answer is an *apiError;
// anything else (transport, unsigned or forged answer) is an error whose
// outcome is unknown.
func (c *client) do(ctx context.Context, method, pathAndQuery string, body, out any) (int, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return 0, fmt.Errorf("wechatpay: encode request: %w", err)
		}
	}
	u, err := url.Parse(c.base + pathAndQuery)
	if err != nil {
		return 0, fmt.Errorf("wechatpay: request URL: %w", err)
	}
	ts, nonce := c.now().Unix(), wxsign.Nonce()
	sig, err := wxsign.Sign(c.key, wxsign.RequestMessage(method, u.RequestURI(), ts, nonce, raw))
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(raw))
	if err != nil {
		return 0, fmt.Errorf("wechatpay: request: %w", err)
	}
	req.Header.Set("Authorization", wxsign.Authorization(c.mchID, c.serial, nonce, ts, sig))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kassa-wechatpay/"+Version)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("wechatpay: %s %s: %w", method, u.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("wechatpay: read answer: %w", err)
	}
	if _, verr := wxsign.VerifyHeaders(resp.Header, data, c.platform, c.platformID, c.now()); verr != nil {
		// An unverified answer proves nothing: report what it claims for
		// diagnosis, but as an unknown outcome.
		var claimed apiError
		if resp.StatusCode >= 300 && json.Unmarshal(data, &claimed) == nil && claimed.Code != "" {
			return resp.StatusCode, fmt.Errorf("wechatpay: answer %d %s (%s) not trusted: %w", resp.StatusCode, claimed.Code, claimed.Message, verr)
		}
		return resp.StatusCode, fmt.Errorf("wechatpay: answer %d not trusted: %w", resp.StatusCode, verr)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &apiError{Status: resp.StatusCode}
		if err := json.Unmarshal(data, ae); err != nil || ae.Code == "" {
			return resp.StatusCode, fmt.Errorf("wechatpay: answer %d without an error code", resp.StatusCode)
		}
		return resp.StatusCode, ae
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("wechatpay: decode answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// codeOf returns the WeChat error code of err, or "".
func codeOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}
