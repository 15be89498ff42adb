package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// answer is a verified synchronous answer of UnionPay.
type answer = url.Values

// client signs requests with the merchant's signing key and verifies
// UnionPay's answers with the signPubKeyCert they carry.
type client struct {
	merID string
	base  string
	// fileBase is the base URL of the file transfer service
	// (fileTransRequest), a host of its own at UnionPay.
	fileBase string
	cred     *credentials
	http     *http.Client
	now      func() time.Time
}

// errUnreachable wraps transport failures (the outcome is unknown).
var errUnreachable = errors.New("unionpay gateway unreachable")

// unsignedCodes are refusals UnionPay may send without a signature: the
// request was refused before any business logic ran (signature, format,
// merchant), so nothing moved.
var unsignedCodes = map[string]bool{"11": true, "13": true, "30": true, "31": true, "32": true}

// base returns the fields every request carries.
func (c *client) fields(txnType, txnSubType, bizType, channelType string) url.Values {
	p := url.Values{}
	p.Set("version", "5.1.0")
	p.Set("encoding", "UTF-8")
	p.Set("signMethod", "01")
	p.Set("txnType", txnType)
	p.Set("txnSubType", txnSubType)
	p.Set("bizType", bizType)
	p.Set("channelType", channelType)
	p.Set("accessType", "0")
	p.Set("merId", c.merID)
	return p
}

// sign sets certId and signature. Empty fields are dropped first: they
// are not sent, so they must not be signed either.
func (c *client) sign(p url.Values) error {
	for k, v := range p {
		if len(v) == 0 || v[0] == "" {
			delete(p, k)
		}
	}
	p.Set("certId", c.cred.certID)
	p.Del("signature")
	sig, err := signContent(c.cred.key, canonical(p))
	if err != nil {
		return err
	}
	p.Set("signature", sig)
	return nil
}

// post sends a signed back-end request and returns the verified answer. A
// transport failure or an unverifiable answer is an error; UnionPay's
// refusals are in the answer's respCode.
func (c *client) post(ctx context.Context, path string, p url.Values) (answer, error) {
	return c.postTo(ctx, c.base, path, p, 1<<20)
}

// postTo is post to another base URL with a bound on the answer's size
// (a reconciliation file travels inside the answer).
func (c *client) postTo(ctx context.Context, base, path string, p url.Values, limit int64) (answer, error) {
	if err := c.sign(p); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(p.Encode()))
	if err != nil {
		return nil, fmt.Errorf("unionpay: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("unionpay: %s: %w: %w", path, errUnreachable, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("unionpay: %s: read answer: %w: %w", path, errUnreachable, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("unionpay: %s: answer larger than %d bytes", path, limit)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("unionpay: %s: %w: HTTP %d", path, errUnreachable, res.StatusCode)
	}
	a, err := parseAnswer(string(body))
	if err != nil {
		return nil, fmt.Errorf("unionpay: %s: %w", path, err)
	}
	if a.Get("signature") == "" {
		if unsignedCodes[a.Get("respCode")] {
			return a, nil
		}
		return nil, fmt.Errorf("unionpay: %s: answer %s is not signed", path, a.Get("respCode"))
	}
	if err := c.cred.verifyMessage(a, canonical(a), c.now()); err != nil {
		return nil, fmt.Errorf("unionpay: %s: answer: %w", path, err)
	}
	if m := a.Get("merId"); m != "" && m != c.merID {
		return nil, fmt.Errorf("unionpay: %s: answer for merId %s, not %s", path, m, c.merID)
	}
	return a, nil
}

// query is queryTrans.do for one order (orderId and its txnTime).
func (c *client) query(ctx context.Context, orderID, txnTime string) (answer, error) {
	p := c.fields("00", "00", "000000", "07")
	p.Set("orderId", orderID)
	p.Set("txnTime", txnTime)
	return c.post(ctx, pathQuery, p)
}

// frontForm returns the signed fields of a front consumption
// (frontTransReq.do) the buyer's browser posts.
func (c *client) frontForm(a attempt, attemptID, frontURL string, payTimeout time.Time) (url.Values, error) {
	channel := "07"
	if a.Method == MethodWap {
		channel = "08"
	}
	p := c.fields("01", "01", "000201", channel)
	p.Set("orderId", a.OrderID)
	p.Set("txnTime", a.TxnTime)
	p.Set("txnAmt", fmt.Sprint(a.Amount))
	p.Set("currencyCode", "156")
	p.Set("frontUrl", frontURL)
	p.Set("backUrl", a.BackURL)
	p.Set("payTimeout", payTimeout.In(chinaTime).Format(txnTimeLayout))
	p.Set("reqReserved", attemptID)
	if err := c.sign(p); err != nil {
		return nil, err
	}
	return p, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
