package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/wechatpay/internal/wxsign"
)

// download fetches a bill file from download_url with a signed request.
// WeChat Pay does not sign bill files: the SHA1 from the verified bill
// answer protects them, so the caller checks it.
func (c *client) download(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: download_url: %w", err)
	}
	base, _ := url.Parse(c.base)
	if base == nil || u.Host != base.Host || u.Scheme != base.Scheme {
		return nil, fmt.Errorf("wechatpay: download_url %q is not on %s", u.Redacted(), c.base)
	}
	ts, nonce := c.now().Unix(), wxsign.Nonce()
	sig, err := wxsign.Sign(c.key, wxsign.RequestMessage(http.MethodGet, u.RequestURI(), ts, nonce, nil))
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: request: %w", err)
	}
	req.Header.Set("Authorization", wxsign.Authorization(c.mchID, c.serial, nonce, ts, sig))
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: download bill: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("wechatpay: read bill: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("wechatpay: download bill: status %d", resp.StatusCode)
	}
	return data, nil
}

// parseYuan reads a bill amount such as "12.34" or "-0.07" as fen.
func parseYuan(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, fmt.Errorf("amount %q", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("amount %q", s)
	}
	v := w*100 + f
	if neg {
		v = -v
	}
	return v, nil
}

// parseBill turns a trade bill (bill_type=ALL) into transactions:
// SUCCESS rows are charges, REFUND rows refunds (negative amounts). Fees
// are as WeChat reports them: positive on charges, negative (returned) on
// refunds.
func parseBill(content []byte) ([]payment.Transaction, error) {
	lines := strings.Split(strings.ReplaceAll(string(content), "\r\n", "\n"), "\n")
	if len(lines) < 1 || !strings.HasPrefix(lines[0], "交易时间") {
		return nil, errors.New("wechatpay: bill has no header line")
	}
	col := map[string]int{}
	for i, name := range strings.Split(lines[0], ",") {
		col[strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))] = i
	}
	for _, need := range []string{"交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "微信退款单号", "退款金额", "商户数据包", "手续费"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("wechatpay: bill lacks column %s", need)
		}
	}
	var out []payment.Transaction
	for n, line := range lines[1:] {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "总交易单数") {
			break
		}
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimPrefix(f[i], "`")
		}
		get := func(name string) string {
			if i := col[name]; i < len(f) {
				return f[i]
			}
			return ""
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05", get("交易时间"), cst)
		if err != nil {
			return nil, fmt.Errorf("wechatpay: bill line %d: time: %w", n+2, err)
		}
		fee, err := parseYuan(get("手续费"))
		if err != nil {
			return nil, fmt.Errorf("wechatpay: bill line %d: fee: %w", n+2, err)
		}
		no, attach := get("商户订单号"), get("商户数据包")
		t := payment.Transaction{GatewayRef: no, AttemptID: kassaID(no), OccurredAt: at, Fee: sdk.Money{Amount: fee, Currency: "CNY"}}
		if attach != "" && merchantNo(attach) == no {
			t.AttemptID = attach
		}
		switch get("交易状态") {
		case "SUCCESS":
			amt, err := parseYuan(get("应结订单金额"))
			if err != nil {
				return nil, fmt.Errorf("wechatpay: bill line %d: %w", n+2, err)
			}
			t.ID, t.Type, t.Amount = get("微信订单号"), "charge", sdk.Money{Amount: amt, Currency: "CNY"}
		case "REFUND":
			amt, err := parseYuan(get("退款金额"))
			if err != nil {
				return nil, fmt.Errorf("wechatpay: bill line %d: %w", n+2, err)
			}
			t.ID, t.Type, t.GatewayRefundRef, t.Amount = get("微信退款单号"), "refund", get("微信退款单号"), sdk.Money{Amount: -amt, Currency: "CNY"}
		default:
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// dayBill returns the transactions of one bill day; a day without a bill
// (nothing happened, or not published yet) is empty.
func (g *Gateway) dayBill(ctx context.Context, cfg *config, day string) ([]payment.Transaction, error) {
	var ans struct {
		HashType    string `json:"hash_type"`
		HashValue   string `json:"hash_value"`
		DownloadURL string `json:"download_url"`
	}
	_, err := cfg.api.do(ctx, http.MethodGet, "/v3/bill/tradebill?bill_date="+day+"&bill_type=ALL", nil, &ans)
	if c := codeOf(err); c == "NO_STATEMENT_EXIST" || c == "STATEMENT_CREATING" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wechatpay: trade bill %s: %w", day, err)
	}
	content, err := cfg.api.download(ctx, ans.DownloadURL)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(ans.HashType, "SHA1") {
		return nil, fmt.Errorf("wechatpay: bill hash type %q not supported", ans.HashType)
	}
	sum := sha1.Sum(content)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), ans.HashValue) {
		return nil, fmt.Errorf("wechatpay: bill %s does not match its SHA1", day)
	}
	return parseBill(content)
}

// billDays are WeChat Pay's bill days: China-time calendar days.
var billDays = payment.DayPager{Location: cst, PageSize: 100, MaxPageSize: 1000}

// ListTransactions implements payment.Gateway from the daily trade bills
// (China time days); a range without an end reads up to now. The page
// token is "YYYY-MM-DD/offset" of the day being read.
func (g *Gateway) ListTransactions(ctx context.Context, req payment.ListTransactionsRequest) (payment.TransactionPage, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return payment.TransactionPage{}, errors.New("wechatpay: not configured")
	}
	if req.To.IsZero() {
		req.To = g.now()
	}
	// Errors of the download carry the plugin's name and the day already.
	return billDays.List(ctx, req, func(ctx context.Context, day time.Time) ([]payment.Transaction, error) {
		return g.dayBill(ctx, cfg, day.Format("2006-01-02"))
	})
}
