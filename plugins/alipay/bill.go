package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// maxBill bounds a downloaded bill archive.
const maxBill = 64 << 20

// billDays are Alipay's bill days: China-time calendar days.
var billDays = payment.DayPager{Location: chinaTime, PageSize: 200, MaxPageSize: 1000}

// ListTransactions implements payment.Gateway from Alipay's daily trade
// bills (对账单, alipay.data.dataservice.bill.downloadurl.query). A day's
// bill exists from the next day on; days without one list nothing. The
// page token is "yyyy-mm-dd/offset" of the China-time day being read.
func (g *Gateway) ListTransactions(ctx context.Context, req payment.ListTransactionsRequest) (payment.TransactionPage, error) {
	c, err := g.configured()
	if err != nil {
		return payment.TransactionPage{}, err
	}
	// Errors of the download carry the plugin's name and the day already.
	return billDays.List(ctx, req, func(ctx context.Context, day time.Time) ([]payment.Transaction, error) {
		return g.billDay(ctx, c, day)
	})
}

// billDay downloads and parses one day's trade bill; nil when Alipay has
// none (yet).
func (g *Gateway) billDay(ctx context.Context, c *configured, day time.Time) ([]payment.Transaction, error) {
	res, err := c.api.call(ctx, "alipay.data.dataservice.bill.downloadurl.query",
		map[string]string{"bill_type": "trade", "bill_date": day.Format("2006-01-02")}, nil)
	if err != nil {
		return nil, err
	}
	if res.SubCode == "isp.bill_not_exist" {
		return nil, nil
	}
	if !res.ok() {
		return nil, fmt.Errorf("alipay: bill %s: %s", day.Format("2006-01-02"), res)
	}
	var out struct {
		URL string `json:"bill_download_url"`
	}
	if err := json.Unmarshal(res.Raw, &out); err != nil || out.URL == "" {
		return nil, errors.New("alipay: bill answer without bill_download_url")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, out.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("alipay: bill download: %w", err)
	}
	resp, err := c.api.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("alipay: bill download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alipay: bill download: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBill+1))
	if err != nil || len(body) > maxBill {
		return nil, fmt.Errorf("alipay: bill download: too large or cut off: %v", err)
	}
	return parseBill(body)
}

// parseBill reads the trade detail CSV (GBK) out of a bill archive. The
// file names are GBK too, so the detail file is found by its header row.
func parseBill(archive []byte) ([]payment.Transaction, error) {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, fmt.Errorf("alipay: bill is not a zip: %w", err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("alipay: bill: %w", err)
		}
		raw, err := io.ReadAll(io.LimitReader(rc, maxBill))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("alipay: bill: %w", err)
		}
		text, err := simplifiedchinese.GBK.NewDecoder().Bytes(raw)
		if err != nil {
			continue
		}
		if txs, ok, err := parseDetail(text); ok || err != nil {
			return txs, err
		}
	}
	return nil, errors.New("alipay: bill has no trade detail file (业务明细)")
}

// parseDetail parses 业务明细 rows; ok false when text is another file.
func parseDetail(text []byte) (txs []payment.Transaction, ok bool, err error) {
	var lines []string
	for _, l := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") && strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	r := csv.NewReader(strings.NewReader(strings.Join(lines, "\n")))
	r.FieldsPerRecord, r.LazyQuotes = -1, true
	recs, err := r.ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, false, nil
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimSpace(h)] = i
	}
	if _, isDetail := col["支付宝交易号"]; !isDetail {
		return nil, false, nil
	}
	for _, need := range []string{"商户订单号", "业务类型", "完成时间", "订单金额（元）", "退款批次号/请求号", "服务费（元）"} {
		if _, ok := col[need]; !ok {
			return nil, true, fmt.Errorf("alipay: bill lacks column %s", need)
		}
	}
	get := func(rec []string, name string) string {
		if i := col[name]; i < len(rec) {
			return strings.Trim(rec[i], " \t\r")
		}
		return ""
	}
	for n, rec := range recs[1:] {
		amount, err1 := parseSignedYuan(get(rec, "订单金额（元）"))
		fee, err2 := parseSignedYuan(get(rec, "服务费（元）"))
		at := parseChinaTime(get(rec, "完成时间"))
		if err1 != nil || err2 != nil || at.IsZero() {
			return nil, true, fmt.Errorf("alipay: bill row %d is malformed", n+1)
		}
		tx := payment.Transaction{ID: get(rec, "支付宝交易号"), AttemptID: get(rec, "商户订单号"), GatewayRef: get(rec, "支付宝交易号"),
			OccurredAt: at, Fee: sdk.Money{Amount: abs(fee), Currency: "CNY"}}
		switch get(rec, "业务类型") {
		case "交易":
			tx.Type, tx.Amount = "charge", sdk.Money{Amount: abs(amount), Currency: "CNY"}
		case "退款":
			ref := get(rec, "退款批次号/请求号")
			tx.Type, tx.ID, tx.GatewayRefundRef = "refund", tx.ID+"/"+ref, ref
			tx.Amount = sdk.Money{Amount: -abs(amount), Currency: "CNY"}
		default:
			tx.Type, tx.Amount = "adjustment", sdk.Money{Amount: amount, Currency: "CNY"}
		}
		txs = append(txs, tx)
	}
	return txs, true, nil
}

func parseSignedYuan(s string) (int64, error) {
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		v, err := parseYuan(rest)
		return -v, err
	}
	return parseYuan(s)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
