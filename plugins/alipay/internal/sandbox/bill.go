package sandbox

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// billColumns is the header row of Alipay's trade detail bill (业务明细).
var billColumns = []string{"支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称",
	"操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）",
	"商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注"}

// fee is the sandbox's service fee: 0.6%, rounded down to the fen.
func fee(fen int64) int64 { return fen * 6 / 1000 }

// billURL answers alipay.data.dataservice.bill.downloadurl.query for a
// daily trade bill: a GBK-encoded CSV in a zip, as Alipay serves it.
func (s *Server) billURL(billType, date string) map[string]any {
	day, err := time.ParseInLocation("2006-01-02", date, chinaTime)
	if billType != "trade" || err != nil {
		return fail("40004", "isv.invalid-parameter", "bill_type trade and bill_date yyyy-MM-dd are supported")
	}
	today := time.Now().In(chinaTime).Format("2006-01-02")
	if date > today || (date == today && !s.opts.BillsIncludeToday) {
		return fail("40004", "isp.bill_not_exist", "账单不存在")
	}
	zipped, err := s.bill(day)
	if err != nil {
		return fail("20000", "isp.unknown-error", err.Error())
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	s.mu.Lock()
	s.bills[token] = zipped
	s.mu.Unlock()
	return map[string]any{"bill_download_url": "http://" + s.ln.Addr().String() + "/bill/" + token}
}

func (s *Server) bill(day time.Time) ([]byte, error) {
	end := day.AddDate(0, 0, 1)
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(day) && t.Before(end) }
	f := func(t time.Time) string { return t.In(chinaTime).Format(timeLayout) }
	var rows [][]string
	s.mu.Lock()
	for _, t := range s.trades {
		row := func(kind string, amount int64, at time.Time, reqNo string, fen int64) []string {
			r := make([]string, len(billColumns))
			r[0], r[1], r[2], r[3], r[4], r[5] = t.tradeNo+"\t", t.outTradeNo+"\t", kind, t.subject, f(t.created), f(at)
			r[10] = "san***@example.com"
			r[11], r[12] = signedYuan(amount), signedYuan(amount)
			for _, i := range []int{13, 14, 15, 16, 17, 19, 20, 23} {
				r[i] = "0.00"
			}
			r[21], r[22] = reqNo, signedYuan(fen)
			return r
		}
		if in(t.paid) {
			rows = append(rows, row("交易", t.total, t.paid, "", -fee(t.total)))
		}
		for no, rf := range t.refunds {
			if in(rf.at) {
				rows = append(rows, row("退款", -rf.amount, rf.at, no, fee(rf.amount)))
			}
		}
	}
	s.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i][5]+rows[i][21] < rows[j][5]+rows[j][21] })

	var text bytes.Buffer
	text.WriteString("#支付宝业务明细查询\n#账号：[20880000000000000156]\n")
	text.WriteString("#起始日期：[" + day.Format("2006年01月02日") + " 00:00:00]   终止日期：[" + end.Format("2006年01月02日") + " 00:00:00]\n")
	text.WriteString("#-----------------------------------------业务明细列表----------------------------------------\n")
	w := csv.NewWriter(&text)
	_ = w.Write(billColumns)
	_ = w.WriteAll(rows)
	text.WriteString("#-----------------------------------------业务明细列表结束------------------------------------\n")
	text.WriteString("#导出时间：[" + time.Now().In(chinaTime).Format("2006年01月02日 15:04:05") + "]\n")
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(text.Bytes())
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	name := "20880000000000000156" + day.Format("20060102")
	for _, file := range []struct {
		name string
		body []byte
	}{{name + "_业务明细.csv", gbk}, {name + "_业务明细(汇总).csv", summary(len(rows))}} {
		fw, err := zw.Create(file.name)
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(file.body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// summary is the (summarized) file Alipay puts beside the details.
func summary(n int) []byte {
	b, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("#支付宝业务汇总查询\n门店编号,门店名称,交易订单总笔数\n,," + strconv.Itoa(n) + "\n"))
	return b
}

func signedYuan(fen int64) string {
	if fen < 0 {
		return "-" + yuan(-fen)
	}
	return yuan(fen)
}

func (s *Server) serveBill(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.URL.Path, "/bill/")
	s.mu.Lock()
	b, ok := s.bills[token]
	delete(s.bills, token) // the URL works once, as Alipay's expire within 30 seconds
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/oct-stream")
	_, _ = w.Write(b)
}
