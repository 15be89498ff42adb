package sandbox

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// billHeader is the first line of a trade bill (bill_type=ALL).
const billHeader = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"

// fee is the sandbox's fee: 0.6% of amount, rounded to the fen.
func fee(amount int64) int64 { return (amount*6 + 500) / 1000 }

func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// bill renders the trade bill of a day (China time): payments made and
// refunds completed that day, each field prefixed with a backtick as
// WeChat Pay writes them, then the totals. Unlike WeChat Pay, which
// publishes a day's bill the next morning, the sandbox serves today's too.
func (s *Server) bill(day string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type row struct {
		at   time.Time
		line string
	}
	var rows []row
	var total, refunds, fees, count int64
	field := func(v ...string) string { return "`" + strings.Join(v, ",`") }
	for _, o := range s.orders {
		if o.TransactionID == "" || o.PaidAt.In(cst).Format("2006-01-02") != day {
			continue
		}
		f := fee(o.Total)
		rows = append(rows, row{o.PaidAt, field(o.PaidAt.In(cst).Format("2006-01-02 15:04:05"), s.opts.AppID, s.opts.MchID, "0", "",
			o.TransactionID, o.OutTradeNo, o.OpenID, o.TradeType, "SUCCESS", "OTHERS", "CNY", yuan(o.Total), "0.00", "0", "0", "0.00", "0.00",
			"", "", o.Description, o.Attach, yuan(f), "0.60%", yuan(o.Total), "0.00", "")})
		total, fees, count = total+o.Total, fees+f, count+1
	}
	for _, rf := range s.refunds {
		if rf.Status != "SUCCESS" || rf.SucceededAt.In(cst).Format("2006-01-02") != day {
			continue
		}
		o := s.orders[rf.OutTradeNo]
		f := -fee(rf.Amount)
		rows = append(rows, row{rf.SucceededAt, field(rf.SucceededAt.In(cst).Format("2006-01-02 15:04:05"), s.opts.AppID, s.opts.MchID, "0", "",
			o.TransactionID, o.OutTradeNo, o.OpenID, o.TradeType, "REFUND", "OTHERS", "CNY", "0.00", "0.00", rf.RefundID, rf.OutRefundNo,
			yuan(rf.Amount), "0.00", "ORIGINAL", "SUCCESS", o.Description, o.Attach, yuan(f), "0.60%", "0.00", yuan(rf.Amount), "")})
		refunds, fees, count = refunds+rf.Amount, fees+f, count+1
	}
	if len(rows) == 0 {
		return "", false
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].at.Before(rows[j].at) })
	var b strings.Builder
	b.WriteString(billHeader + "\r\n")
	for _, r := range rows {
		b.WriteString(r.line + "\r\n")
	}
	b.WriteString("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n")
	b.WriteString(field(fmt.Sprint(count), yuan(total), yuan(refunds), "0.00", yuan(fees), yuan(total), yuan(refunds)) + "\r\n")
	return b.String(), true
}

func (s *Server) tradeBill(w http.ResponseWriter, r *http.Request) {
	day, typ := r.URL.Query().Get("bill_date"), r.URL.Query().Get("bill_type")
	if _, err := time.Parse("2006-01-02", day); err != nil || (typ != "" && typ != "ALL") {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "bill_date或bill_type参数错误")
		return
	}
	content, ok := s.bill(day)
	if !ok {
		s.fail(w, http.StatusBadRequest, "NO_STATEMENT_EXIST", "账单不存在")
		return
	}
	sum := sha1.Sum([]byte(content))
	s.reply(w, http.StatusOK, map[string]string{"hash_type": "SHA1", "hash_value": hex.EncodeToString(sum[:]),
		"download_url": s.URL() + "/v3/billdownload/file?token=" + day})
}

// download serves the bill file itself: WeChat Pay does not sign it (the
// hash from the bill request protects it).
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	content, ok := s.bill(r.URL.Query().Get("token"))
	if !ok {
		s.fail(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "文件不存在")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(content))
}
