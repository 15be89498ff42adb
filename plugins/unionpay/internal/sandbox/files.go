package sandbox

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// File transfer (文件传输类交易, txnType 76) as UnionPay's SDK demo uses
// it, written from memory of the public documentation and to be checked
// against it: a signed POST to the file service's root with settleDate
// (MMDD) and fileType 00; the signed answer carries fileName and
// fileContent, base64 of the zlib-deflated zip, which holds the merchant's
// transaction file INN<yymmdd>88ZM_<merId>: one line per transaction
// settled that day, fixed-width fields one space apart ([ZMFields]).
// A day without transactions answers 98 (文件不存在).

// ZMFields are the widths of a ZM line's fields (UnionPay SDK demo,
// parseZMFile).
var ZMFields = []int{3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2, 6, 2, 4, 32, 1, 21, 15, 1, 15, 32, 13, 13, 8, 32, 13, 13, 12, 2, 1, 32, 98}

// Fee is the sandbox's merchant fee on a transaction of amount fen: 0.6%,
// rounded half up. It is taken on a consumption and given back
// proportionally on a refund.
func Fee(amount int64) int64 { return (amount*6 + 500) / 1000 }

// transCode is the 交易代码 of a ZM line for a txnType. Only the
// 交易类型 field (txnType) is read by the plugin.
var transCode = map[string]string{"01": "S22", "04": "S30", "31": "S31"}

func (s *Server) fileTransfer(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	p := r.PostForm
	if code, msg := s.verify(p); code != "" {
		s.answer(w, p, map[string]string{"respCode": code, "respMsg": msg}, false)
		return
	}
	settle := p.Get("settleDate")
	if p.Get("txnType") != "76" || p.Get("txnSubType") != "01" || p.Get("bizType") != "000000" || p.Get("fileType") != "00" || len(settle) != 4 {
		s.answer(w, p, map[string]string{"respCode": "30", "respMsg": "报文格式错误"}, true)
		return
	}
	day, err := time.ParseInLocation("0102", settle, chinaTime)
	if err != nil {
		s.answer(w, p, map[string]string{"respCode": "30", "respMsg": "报文格式错误: settleDate"}, true)
		return
	}
	// MMDD names the latest such day not after tomorrow.
	now := time.Now().In(chinaTime)
	day = day.AddDate(now.Year()-day.Year(), 0, 0)
	if day.After(now.AddDate(0, 0, 1)) {
		day = day.AddDate(-1, 0, 0)
	}
	s.mu.Lock()
	var lines []string
	var txns []*txn
	for _, t := range s.txns {
		if t.status == "00" && t.settleDate == settle {
			txns = append(txns, t)
		}
	}
	sort.Slice(txns, func(i, j int) bool { return txns[i].traceTime.Before(txns[j].traceTime) })
	for _, t := range txns {
		lines = append(lines, s.zmLine(t))
	}
	s.mu.Unlock()
	if len(lines) == 0 {
		s.answer(w, p, map[string]string{"respCode": "98", "respMsg": "文件不存在"}, true)
		return
	}
	name := fmt.Sprintf("INN%s88ZM_%s", day.Format("060102"), s.opts.MerID)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	f, _ := zw.Create(name)
	_, _ = f.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
	_ = zw.Close()
	var dbuf bytes.Buffer
	dw := zlib.NewWriter(&dbuf)
	_, _ = dw.Write(zbuf.Bytes())
	_ = dw.Close()
	s.answer(w, p, map[string]string{"respCode": "00", "respMsg": "成功[0000000]", "settleDate": settle, "fileType": "00",
		"fileName": day.Format("20060102") + "_" + s.opts.MerID + ".zip", "fileContent": base64.StdEncoding.EncodeToString(dbuf.Bytes())}, true)
}

// zmLine is t's line of the ZM file; the caller holds s.mu.
func (s *Server) zmLine(t *txn) string {
	f := make([]string, len(ZMFields))
	fee := "D" + fmt.Sprintf("%012d", Fee(t.amount))
	if t.txnType != "01" {
		fee = "C" + fmt.Sprintf("%012d", Fee(t.amount))
	}
	f[0] = transCode[t.txnType]
	f[4] = t.traceTime.In(chinaTime).Format("0102150405")
	f[5] = "6216********0018"
	f[6] = fmt.Sprintf("%012d", t.amount)
	f[9] = t.queryID
	f[11] = t.orderID
	f[15] = fee
	f[16] = fmt.Sprintf("%013d", t.amount)
	f[19] = t.txnType
	if t.txnType == "01" {
		f[20] = "01"
	} else {
		f[20] = "00"
	}
	f[21] = "000201"
	f[26] = t.origQryID
	f[27] = s.opts.MerID
	var b strings.Builder
	for i, w := range ZMFields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fmt.Sprintf("%-*s", w, f[i][:min(len(f[i]), w)]))
	}
	return b.String()
}
