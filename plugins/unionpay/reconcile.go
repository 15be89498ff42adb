package main

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// maxFile bounds a reconciliation file (the answer carrying it, and the
// file once inflated).
const maxFile = 64 << 20

// zmFields are the widths, in bytes, of the fields of a line of the
// merchant's transaction file (INN<yymmdd>88ZM_<merId>, 全渠道商户交易流水),
// one space apart, as UnionPay's SDK demo parses them (parseZMFile). The
// names are in [zmNames].
var zmFields = []int{3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2, 6, 2, 4, 32, 1, 21, 15, 1, 15, 32, 13, 13, 8, 32, 13, 13, 12, 2, 1, 32, 98}

// Indexes into zmFields of the fields read.
const (
	zmTraceTime = 4  // 交易传输时间 MMDDhhmmss, China time
	zmAmount    = 6  // 交易金额, fen
	zmQueryID   = 9  // 查询流水号
	zmOrderID   = 11 // 商户订单号
	zmFee       = 15 // 商户手续费: C (credited) or D (debited) and 12 digits of fen
	zmTxnType   = 19 // 交易类型: 01 consumption, 04 refund, 31 void
	zmMerID     = 27 // 商户代码
)

// zmLineMin is the length of a line up to the last field read.
var zmLineMin = func() int {
	n := 0
	for _, w := range zmFields[:zmMerID+1] {
		n += w + 1
	}
	return n - 1
}()

// settlementDays are UnionPay's settlement days: China time, closed at
// 23:00.
var settlementDays = payment.DayPager{Location: chinaTime, Cutoff: 23 * time.Hour, PageSize: 200, MaxPageSize: 1000}

// ListTransactions implements payment.Gateway from UnionPay's daily
// reconciliation files (file transfer, txnType 76, fileType 00). UnionPay
// settles at 23:00 China time, so settlement day D holds the transactions
// from 23:00 of the day before to 23:00 of D; a day's file exists from the
// next morning. The page token is "yyyy-mm-dd/offset" of the settlement
// day being read.
func (g *Gateway) ListTransactions(ctx context.Context, req payment.ListTransactionsRequest) (payment.TransactionPage, error) {
	c, err := g.configured()
	if err != nil {
		return payment.TransactionPage{}, err
	}
	// Errors of the download carry the plugin's name and the day already.
	return settlementDays.List(ctx, req, func(ctx context.Context, day time.Time) ([]payment.Transaction, error) {
		return g.settlementFile(ctx, c, day)
	})
}

// settlementFile downloads and parses one settlement day's transaction
// file; nil when UnionPay has none (yet).
func (g *Gateway) settlementFile(ctx context.Context, c *configured, day time.Time) ([]payment.Transaction, error) {
	p := c.api.fields("76", "01", "000000", "07")
	p.Del("channelType") // the file request names no channel
	p.Set("settleDate", day.Format("0102"))
	p.Set("fileType", "00")
	p.Set("txnTime", g.now().In(chinaTime).Format(txnTimeLayout))
	res, err := c.api.postTo(ctx, c.api.fileBase, pathFile, p, maxFile)
	if err != nil {
		return nil, fmt.Errorf("unionpay: reconciliation file of %s: %w", day.Format("2006-01-02"), err)
	}
	switch res.Get("respCode") {
	case "00":
	case "98": // 文件不存在: the day has no file (yet)
		return nil, nil
	default:
		return nil, fmt.Errorf("unionpay: reconciliation file of %s: %s %s", day.Format("2006-01-02"), res.Get("respCode"), res.Get("respMsg"))
	}
	archive, err := inflateFile(res.Get("fileContent"))
	if err != nil {
		return nil, fmt.Errorf("unionpay: reconciliation file %s: %w", res.Get("fileName"), err)
	}
	return g.parseArchive(archive, c.s.MerID, day)
}

// inflateFile decodes fileContent: base64 of the zlib-deflated zip file.
func inflateFile(content string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(content)
	if err != nil {
		return nil, fmt.Errorf("fileContent is not base64: %w", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("fileContent is not deflated: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("inflate fileContent: %w", err)
	}
	if len(out) > maxFile {
		return nil, fmt.Errorf("fileContent inflates to more than %d bytes", maxFile)
	}
	return out, nil
}

// parseArchive reads the ZM transaction file of merID out of the zip; the
// archive's other files (fees, disputes) are not read.
func (g *Gateway) parseArchive(archive []byte, merID string, day time.Time) ([]payment.Transaction, error) {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, fmt.Errorf("unionpay: reconciliation file is not a zip: %w", err)
	}
	for _, f := range zr.File {
		name := f.Name[strings.LastIndex(f.Name, "/")+1:]
		if !strings.HasPrefix(name, "INN") || !strings.Contains(name, "ZM_") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("unionpay: reconciliation file %s: %w", name, err)
		}
		text, err := io.ReadAll(io.LimitReader(rc, maxFile))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("unionpay: reconciliation file %s: %w", name, err)
		}
		return g.parseZM(text, merID, day)
	}
	return nil, nil // a day without transactions has no ZM file
}

// parseZM parses the lines of a ZM file of settlement day day.
func (g *Gateway) parseZM(text []byte, merID string, day time.Time) ([]payment.Transaction, error) {
	var txs []payment.Transaction
	for n, line := range bytes.Split(text, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(line) < zmLineMin {
			return nil, fmt.Errorf("unionpay: reconciliation line %d is %d bytes, want at least %d", n+1, len(line), zmLineMin)
		}
		field := func(i int) string {
			start := 0
			for _, w := range zmFields[:i] {
				start += w + 1
			}
			return strings.TrimSpace(string(line[start : start+zmFields[i]]))
		}
		if m := field(zmMerID); m != merID {
			continue // another merchant of a group file
		}
		amount, err1 := strconv.ParseInt(field(zmAmount), 10, 64)
		fee, err2 := parseFee(field(zmFee))
		at, err3 := traceTime(field(zmTraceTime), day)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("unionpay: reconciliation line %d is malformed: %w", n+1, errors.Join(err1, err2, err3))
		}
		orderID := field(zmOrderID)
		tx := payment.Transaction{ID: field(zmQueryID), OccurredAt: at, Fee: sdk.Money{Amount: fee, Currency: "CNY"}}
		switch field(zmTxnType) {
		case "01":
			tx.Type, tx.Amount, tx.GatewayRef = "charge", sdk.Money{Amount: amount, Currency: "CNY"}, orderID
			if id, _, ok := g.attemptByOrder(orderID); ok {
				tx.AttemptID = id
			}
		case "04", "31":
			tx.Type, tx.Amount, tx.GatewayRefundRef = "refund", sdk.Money{Amount: -amount, Currency: "CNY"}, orderID
			if aid, _, ok := g.byRefundOrder(orderID); ok {
				tx.AttemptID = aid
				if a, ok := g.journal.Get(aid); ok {
					tx.GatewayRef = a.OrderID
				}
			}
		default:
			tx.Type, tx.Amount, tx.GatewayRef = "adjustment", sdk.Money{Amount: amount, Currency: "CNY"}, orderID
		}
		txs = append(txs, tx)
	}
	return txs, nil
}

// parseFee reads 商户手续费: "D" and 12 digits is a fee taken from the
// merchant (positive in Kassa), "C" a fee given back (negative); bare
// digits are read as a fee taken.
func parseFee(s string) (int64, error) {
	sign := int64(1)
	switch {
	case strings.HasPrefix(s, "C"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "D"):
		s = s[1:]
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("fee %q: %w", s, err)
	}
	return sign * int64(n), nil
}

// traceTime reads MMDDhhmmss (China time) of a transaction settled on
// day: its year is day's, or the one before when the month is after
// day's (a transaction of 31 December settled on 1 January).
func traceTime(s string, day time.Time) (time.Time, error) {
	t, err := time.ParseInLocation("0102150405", s, chinaTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("trace time %q: %w", s, err)
	}
	year := day.Year()
	if t.Month() > day.Month() {
		year--
	}
	return t.AddDate(year-t.Year(), 0, 0), nil
}
