package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/state"
)

// ID is the plugin's id.
const ID = "payment.banktransfer"

// Version is the plugin's version.
const Version = "1.0.0"

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["account_holder", "bank_name"],
  "properties": {
    "account_holder": {
      "type": "string", "minLength": 1, "maxLength": 140,
      "title": "Account holder", "x-kassa-titles": {"zh-CN": "收款户名"}, "description": "Name on the shop's bank account, as buyers must enter it.", "x-kassa-descriptions": {"zh-CN": "店铺银行账户上的户名，买家须按此填写。"}
    },
    "iban": {
      "type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9 ]{10,36}$",
      "title": "IBAN", "x-kassa-titles": {"zh-CN": "IBAN"}, "description": "The shop's account number as an IBAN (capital letters; spaces allowed), for accounts in IBAN countries. Give it or the account number.", "x-kassa-descriptions": {"zh-CN": "店铺账号的 IBAN 写法（大写字母；可含空格），适用于使用 IBAN 的国家的账户。与“银行账号”二选一。"}
    },
    "account_number": {
      "type": "string", "pattern": "^[0-9][0-9 -]{4,38}[0-9]$",
      "title": "Account number", "x-kassa-titles": {"zh-CN": "银行账号"}, "description": "The shop's account number where banks use no IBAN (a mainland China account: 16 to 19 digits; spaces and dashes allowed). Give it or the IBAN.", "x-kassa-descriptions": {"zh-CN": "不使用 IBAN 的银行账号（中国大陆账户为 16 至 19 位数字；可含空格和连字符）。与 IBAN 二选一。"}
    },
    "branch": {
      "type": "string", "maxLength": 140,
      "title": "Branch", "x-kassa-titles": {"zh-CN": "开户行"}, "description": "The branch that holds the account (e.g. 招商银行杭州分行西湖支行), shown beside the bank for a domestic transfer. Optional.", "x-kassa-descriptions": {"zh-CN": "账户所在的开户网点（如“招商银行杭州分行西湖支行”），国内转账时与银行一同显示。选填。"}
    },
    "bic": {
      "type": "string", "pattern": "^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$",
      "title": "BIC", "x-kassa-titles": {"zh-CN": "BIC"}, "description": "The bank's BIC (SWIFT code). Optional.", "x-kassa-descriptions": {"zh-CN": "银行的 BIC（SWIFT 代码）。选填。"}
    },
    "bank_name": {
      "type": "string", "minLength": 1, "maxLength": 140,
      "title": "Bank name", "x-kassa-titles": {"zh-CN": "银行名称"}, "description": "Name of the shop's bank.", "x-kassa-descriptions": {"zh-CN": "店铺开户银行的名称。"}
    },
    "note": {
      "type": "string", "maxLength": 500,
      "title": "Note to buyers", "x-kassa-titles": {"zh-CN": "给买家的说明"}, "description": "Extra text shown with the instructions, e.g. how long the order is kept. Optional.", "x-kassa-descriptions": {"zh-CN": "随付款说明一起显示的附加文字，例如订单保留多久。选填。"}
    }
  }
}`)

type settings struct {
	AccountHolder string `json:"account_holder"`
	IBAN          string `json:"iban"`
	AccountNumber string `json:"account_number"`
	Branch        string `json:"branch"`
	BIC           string `json:"bic"`
	BankName      string `json:"bank_name"`
	Note          string `json:"note"`
}

// transfer is an expected incoming transfer.
type transfer struct {
	AttemptID string `json:"attempt_id"`
	// Key is the idempotency key of the CreatePayment that made it.
	Key       string               `json:"key,omitempty"`
	Ref       string               `json:"ref"`
	Reference string               `json:"reference"`
	Amount    int64                `json:"amount"`
	Currency  string               `json:"currency"`
	Status    string               `json:"status"` // PENDING or CANCELED
	CreatedAt time.Time            `json:"created_at"`
	Created   payment.CreateResult `json:"created"`
}

// manualRefund is a refund staff must carry out.
type manualRefund struct {
	ID        string               `json:"id"`
	AttemptID string               `json:"attempt_id"`
	Result    payment.RefundResult `json:"result"`
}

// Gateway is the bank transfer plugin.
type Gateway struct {
	payment.UnimplementedGateway

	cfg atomic.Pointer[settings]

	// transfers and refunds survive restarts (state.go). mu serializes
	// the check-then-create of CreatePayment and Refund and guards keys.
	transfers *state.Store[transfer]
	refunds   *state.Store[manualRefund]
	mu        sync.Mutex
	keys      map[string]string // CreatePayment idempotency key -> attempt id
}

// New returns a gateway with the transfers and refunds found in dataDir
// ("" for memory only).
func New(dataDir string) (*Gateway, error) {
	transfers, refunds, err := openState(dataDir)
	if err != nil {
		return nil, err
	}
	g := &Gateway{transfers: transfers, refunds: refunds, keys: map[string]string{}}
	transfers.Range(func(id string, t transfer) bool {
		if t.Key != "" {
			g.keys[t.Key] = id
		}
		return true
	})
	return g, nil
}

// Describe implements sdk.Plugin.
func (g *Gateway) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID:           ID,
		Kind:         sdk.KindPayment,
		Version:      Version,
		DisplayName:  "Bank transfer",
		Description:  "Pay by bank transfer to the shop's account with the order number as the reference; the shop confirms receipt.",
		DisplayNames: map[string]string{"zh-CN": "银行转账"},
		Descriptions: map[string]string{"zh-CN": "以订单号为附言，将款项转入店铺账户；店铺确认到账。"},
		Capabilities: []string{
			payment.CapActionInstructions, payment.CapCancel, payment.CapRefundManual, payment.CapManualConfirmation,
		},
		ConfigSchema: schema.String(),
	}, nil
}

// Configure implements sdk.Plugin.
func (g *Gateway) Configure(_ context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	s.IBAN = strings.ReplaceAll(s.IBAN, " ", "")
	s.AccountNumber = strings.NewReplacer(" ", "", "-", "").Replace(s.AccountNumber)
	switch {
	case s.IBAN == "" && s.AccountNumber == "":
		return sdk.ConfigureResult{Errors: []sdk.ConfigError{{Field: "/account_number", Code: "required",
			Message: "give the IBAN or, where banks use none (mainland China), the account number"}}}, nil
	case s.IBAN != "" && s.AccountNumber != "":
		return sdk.ConfigureResult{Errors: []sdk.ConfigError{{Field: "/account_number", Code: "one_of",
			Message: "give the IBAN or the account number, not both: buyers would not know which to pay to"}}}, nil
	case s.IBAN != "" && !validIBAN(s.IBAN):
		return sdk.ConfigureResult{Errors: []sdk.ConfigError{{Field: "/iban", Code: "checksum", Message: "the IBAN's check digits are wrong"}}}, nil
	}
	g.cfg.Store(&s)
	return sdk.ConfigureResult{}, nil
}

// validIBAN checks the ISO 13616 mod-97 check digits.
func validIBAN(iban string) bool {
	if len(iban) < 15 || len(iban) > 34 {
		return false
	}
	r := iban[4:] + iban[:4]
	mod := 0
	for _, c := range r {
		switch {
		case c >= '0' && c <= '9':
			mod = (mod*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			v := int(c-'A') + 10
			mod = (mod*100 + v) % 97
		default:
			return false
		}
	}
	return mod == 1
}

// Health implements sdk.Plugin.
func (g *Gateway) Health(context.Context) (sdk.Health, error) {
	if g.cfg.Load() == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "bank account not configured"}, nil
	}
	return sdk.Health{Status: sdk.HealthServing}, nil
}

// CreatePayment implements payment.Gateway: PENDING with transfer
// instructions; the reference is the order number.
func (g *Gateway) CreatePayment(_ context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return payment.CreateResult{}, fmt.Errorf("banktransfer is not configured")
	}
	key := req.IdempotencyKey
	if key == "" {
		key = "attempt:" + req.AttemptID
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if id, ok := g.keys[key]; ok {
		if t, ok := g.transfers.Get(id); ok {
			return t.Created, nil
		}
	}
	if t, ok := g.transfers.Get(req.AttemptID); ok {
		return t.Created, nil
	}
	if req.Amount.Amount <= 0 || len(req.Amount.Currency) != 3 {
		return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: payment.DeclineInvalidAmount,
			BuyerMessage: "This amount cannot be paid by bank transfer.", MerchantMessage: "invalid amount"}, nil
	}
	reference := req.OrderNumber
	if reference == "" {
		reference = req.OrderID
	}
	amount := formatAmount(req.Amount.Amount, req.Amount.Currency)
	t := transfer{AttemptID: req.AttemptID, Key: key, Ref: "bt_" + req.AttemptID, Reference: reference, Amount: req.Amount.Amount,
		Currency: req.Amount.Currency, Status: payment.StatusPending.String(), CreatedAt: time.Now().UTC()}
	details := map[string]string{
		"account_holder": cfg.AccountHolder, "bank_name": cfg.BankName,
		"reference": reference, "amount": amount, "currency": req.Amount.Currency,
	}
	for k, v := range map[string]string{"iban": cfg.IBAN, "account_number": cfg.AccountNumber, "branch": cfg.Branch, "bic": cfg.BIC} {
		if v != "" {
			details[k] = v
		}
	}
	t.Created = payment.CreateResult{
		Status:     payment.StatusPending,
		GatewayRef: t.Ref,
		Amount:     req.Amount,
		Action: payment.Action{
			Type: payment.ActionInstructions, Instructions: instructions(req.Locale, cfg, amount, reference),
			ExpiresAt: req.ExpiresAt, Details: details,
		},
		MerchantMessage: "awaiting bank transfer with reference " + reference,
	}
	// On disk before the buyer sees the instructions: a retry after a
	// restart gets the same ones.
	if err := g.transfers.Put(t.AttemptID, t); err != nil {
		return payment.CreateResult{}, fmt.Errorf("banktransfer: record transfer %s: %w", t.AttemptID, err)
	}
	g.keys[key] = t.AttemptID
	return t.Created, nil
}

func instructions(locale string, cfg *settings, amount, reference string) string {
	zh := strings.HasPrefix(strings.ToLower(locale), "zh")
	label := func(en, chinese string) string {
		if zh {
			return chinese
		}
		return en
	}
	// The account: an IBAN (with the BIC), or a domestic account number
	// (with its branch beside the bank), in groups of four as printed on
	// statements.
	account := label("IBAN: ", "IBAN：") + groupIBAN(cfg.IBAN)
	if cfg.AccountNumber != "" {
		account = label("Account number: ", "账号：") + groupIBAN(cfg.AccountNumber)
	}
	if cfg.BIC != "" {
		account += "\n" + label("BIC: ", "BIC：") + cfg.BIC
	}
	bank := strings.TrimSpace(cfg.BankName + " " + cfg.Branch)
	var sb strings.Builder
	if zh {
		// Yuan as ¥139.00, as the checkout beside the instructions shows it.
		if n, ok := strings.CutSuffix(amount, " CNY"); ok {
			amount = "¥" + n
		}
		fmt.Fprintf(&sb, "请将 %s 转账至：\n收款人：%s\n%s\n开户银行：%s\n转账附言请填写：%s\n收到款项后我们将尽快处理您的订单。",
			amount, cfg.AccountHolder, account, bank, reference)
	} else {
		fmt.Fprintf(&sb, "Please transfer %s to:\nAccount holder: %s\n%s\nBank: %s\nReference: %s\nWe ship your order as soon as the money has arrived.",
			amount, cfg.AccountHolder, account, bank, reference)
	}
	if cfg.Note != "" {
		sb.WriteString("\n\n" + cfg.Note)
	}
	return sb.String()
}

// groupIBAN writes an IBAN or an account number in groups of four, as
// printed on statements.
func groupIBAN(iban string) string {
	var parts []string
	for len(iban) > 4 {
		parts = append(parts, iban[:4])
		iban = iban[4:]
	}
	return strings.Join(append(parts, iban), " ")
}

func formatAmount(amount int64, currency string) string {
	digits := 2
	switch currency {
	case "JPY", "KRW", "VND", "CLP", "ISK", "XOF", "XAF", "UGX":
		digits = 0
	case "BHD", "KWD", "OMR", "JOD", "TND":
		digits = 3
	}
	if digits == 0 {
		return fmt.Sprintf("%d %s", amount, currency)
	}
	div := int64(1)
	for range digits {
		div *= 10
	}
	return fmt.Sprintf("%d.%0*d %s", amount/div, digits, amount%div, currency)
}

// GetPayment implements payment.Gateway. A bank transfer stays PENDING: the
// plugin cannot see the shop's account; staff confirm receipt in Kassa.
func (g *Gateway) GetPayment(_ context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	t, ok := g.find(req.AttemptID, req.GatewayRef)
	if !ok {
		return payment.PaymentState{Status: payment.StatusNotFound}, nil
	}
	st := payment.PaymentState{
		Status: payment.StatusPending, GatewayRef: t.Ref, Amount: sdk.Money{Amount: t.Amount, Currency: t.Currency},
		MerchantMessage: "receipt is confirmed by staff in Kassa",
	}
	if t.Status == payment.StatusCanceled.String() {
		st.Status = payment.StatusCanceled
		st.MerchantMessage = "instructions withdrawn"
	}
	return st, nil
}

// find returns the transfer of an attempt, by its id or else by its
// reference ("bt_" and the attempt id).
func (g *Gateway) find(attemptID, ref string) (transfer, bool) {
	if t, ok := g.transfers.Get(attemptID); ok {
		return t, true
	}
	if id, ok := strings.CutPrefix(ref, "bt_"); ok {
		if t, ok := g.transfers.Get(id); ok && t.Ref == ref {
			return t, true
		}
	}
	return transfer{}, false
}

// CancelPayment implements payment.Gateway: the instructions are withdrawn.
// Kassa does not cancel an attempt staff marked received.
func (g *Gateway) CancelPayment(_ context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	t, ok := g.find(req.AttemptID, req.GatewayRef)
	if !ok {
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusNotFound}, nil
	}
	err := g.transfers.Update(t.AttemptID, func(cur *transfer, exists bool) bool {
		if !exists || cur.Status == payment.StatusCanceled.String() {
			return false
		}
		cur.Status = payment.StatusCanceled.String()
		return true
	})
	if err != nil {
		return payment.CancelResult{}, fmt.Errorf("banktransfer: cancel transfer %s: %w", t.AttemptID, err)
	}
	return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled,
		MerchantMessage: "if money for reference " + t.Reference + " still arrives, refund it"}, nil
}

// Refund implements payment.Gateway: a manual refund, PENDING with
// instructions for staff.
func (g *Gateway) Refund(_ context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r, ok := g.refunds.Get(req.RefundID); ok {
		return r.Result, nil
	}
	t, ok := g.find(req.AttemptID, req.GatewayRef)
	if !ok {
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: payment.FailurePaymentNotFound,
			MerchantMessage: "no bank transfer for this attempt"}, nil
	}
	if req.Amount.Amount <= 0 || req.Amount.Amount > t.Amount || req.Amount.Currency != t.Currency {
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: payment.FailureAmountExceedsCaptured,
			MerchantMessage: fmt.Sprintf("at most %s can be refunded", formatAmount(t.Amount, t.Currency))}, nil
	}
	amount := formatAmount(req.Amount.Amount, req.Amount.Currency)
	res := payment.RefundResult{
		Status:           payment.RefundPending,
		GatewayRefundRef: "btr_" + req.RefundID,
		Amount:           req.Amount,
		Instructions: fmt.Sprintf("Transfer %s back to the account the payment for %s came from, with the reference \"Refund %s\", then confirm the refund in Kassa.",
			amount, t.Reference, t.Reference),
		MerchantMessage: "manual refund: staff must transfer the money",
	}
	if err := g.refunds.Put(req.RefundID, manualRefund{ID: req.RefundID, AttemptID: t.AttemptID, Result: res}); err != nil {
		return payment.RefundResult{}, fmt.Errorf("banktransfer: record refund %s: %w", req.RefundID, err)
	}
	return res, nil
}

// GetRefund implements payment.Gateway: manual refunds stay PENDING until
// staff confirm them in Kassa.
func (g *Gateway) GetRefund(_ context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	if r, ok := g.refunds.Get(req.RefundID); ok {
		return r.Result, nil
	}
	return payment.RefundResult{Status: payment.RefundNotFound}, nil
}

func main() {
	g, err := New(os.Getenv(sdk.EnvDataDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	payment.Serve(g)
}
