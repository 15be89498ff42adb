package shop

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// rowID is the key of the one shop_settings row.
const rowID = "shop"

// shopStore is the shop's persistence, the only place with SQL. Every
// method runs on the transaction carried by ctx, if any.
type shopStore struct {
	db *store.DB
}

func newShopStore(db *store.DB) *shopStore { return &shopStore{db: db} }

// settingsRow is the shop_settings row.
type settingsRow struct {
	bun.BaseModel `bun:"table:shop_settings"`

	ID                     string    `bun:"id,pk"`
	Currencies             string    `bun:"currencies,notnull"`
	PaymentDeadlineSeconds int64     `bun:"payment_deadline_seconds,notnull"`
	ReminderLeadSeconds    int64     `bun:"reminder_lead_seconds,notnull"`
	OrderNumberPrefix      string    `bun:"order_number_prefix,notnull"`
	LineQuantityLimit      int64     `bun:"line_quantity_limit,notnull"`
	UnpaidOrdersPerBuyer   int64     `bun:"unpaid_orders_per_buyer,notnull"`
	PricesIncludeTax       bool      `bun:"prices_include_tax,notnull"`
	RefundCancelledPaid    bool      `bun:"refund_cancelled_order_payments,notnull"`
	PaymentMethodOrder     string    `bun:"payment_method_order,notnull"`
	PaymentCaptureMode     string    `bun:"payment_capture_mode,notnull"`
	StorefrontOrigins      string    `bun:"storefront_origins,notnull"`
	UpdatedAt              time.Time `bun:"updated_at,notnull"`
}

func (r *settingsRow) settings() (*Settings, error) {
	s := &Settings{
		PaymentDeadline:   time.Duration(r.PaymentDeadlineSeconds) * time.Second,
		ReminderLead:      time.Duration(r.ReminderLeadSeconds) * time.Second,
		OrderNumberPrefix: r.OrderNumberPrefix,
		LineQuantityLimit: r.LineQuantityLimit,
		PricesIncludeTax:  r.PricesIncludeTax,

		UnpaidOrdersPerBuyer: r.UnpaidOrdersPerBuyer,
		UpdatedAt:            r.UpdatedAt.UTC(),

		RefundCancelledOrderPayments: r.RefundCancelledPaid,
		PaymentCaptureMode:           CaptureMode(r.PaymentCaptureMode),
	}
	if r.PaymentMethodOrder != "" {
		s.PaymentMethodOrder = strings.Split(r.PaymentMethodOrder, ",")
	}
	if r.StorefrontOrigins != "" {
		s.StorefrontOrigins = strings.Split(r.StorefrontOrigins, ",")
	}
	for _, code := range strings.Split(r.Currencies, ",") {
		c, err := money.ParseCurrency(code)
		if err != nil {
			return nil, fmt.Errorf("shop: stored currency: %w", err)
		}
		s.Currencies = append(s.Currencies, c)
	}
	return s, nil
}

func newSettingsRow(s *Settings) *settingsRow {
	codes := make([]string, len(s.Currencies))
	for i, c := range s.Currencies {
		codes[i] = c.Code()
	}
	return &settingsRow{
		ID:                     rowID,
		Currencies:             strings.Join(codes, ","),
		PaymentDeadlineSeconds: int64(s.PaymentDeadline / time.Second),
		ReminderLeadSeconds:    int64(s.ReminderLead / time.Second),
		OrderNumberPrefix:      s.OrderNumberPrefix,
		LineQuantityLimit:      s.LineQuantityLimit,
		UnpaidOrdersPerBuyer:   s.UnpaidOrdersPerBuyer,
		PricesIncludeTax:       s.PricesIncludeTax,
		RefundCancelledPaid:    s.RefundCancelledOrderPayments,
		PaymentMethodOrder:     strings.Join(s.PaymentMethodOrder, ","),
		PaymentCaptureMode:     string(s.PaymentCaptureMode),
		StorefrontOrigins:      strings.Join(s.StorefrontOrigins, ","),
		UpdatedAt:              s.UpdatedAt,
	}
}

// Settings returns the saved settings, or an ErrNotFound error while
// staff never saved them.
func (s *shopStore) Settings(ctx context.Context) (*Settings, error) {
	var row settingsRow
	err := s.db.Conn(ctx).NewSelect().Model(&row).Where("id = ?", rowID).Scan(ctx)
	if store.IsNoRows(err) {
		return nil, errs.NotFound("SHOP_SETTINGS_NOT_SAVED", "the shop runs on its default settings")
	}
	if err != nil {
		return nil, fmt.Errorf("shop: read settings: %w", err)
	}
	return row.settings()
}

// Save writes the settings row, inserting it the first time.
func (s *shopStore) Save(ctx context.Context, set *Settings) error {
	row := newSettingsRow(set)
	_, err := s.db.Conn(ctx).NewInsert().Model(row).
		On("CONFLICT (id) DO UPDATE").
		Set("currencies = EXCLUDED.currencies").
		Set("payment_deadline_seconds = EXCLUDED.payment_deadline_seconds").
		Set("reminder_lead_seconds = EXCLUDED.reminder_lead_seconds").
		Set("order_number_prefix = EXCLUDED.order_number_prefix").
		Set("line_quantity_limit = EXCLUDED.line_quantity_limit").
		Set("unpaid_orders_per_buyer = EXCLUDED.unpaid_orders_per_buyer").
		Set("prices_include_tax = EXCLUDED.prices_include_tax").
		Set("refund_cancelled_order_payments = EXCLUDED.refund_cancelled_order_payments").
		Set("payment_method_order = EXCLUDED.payment_method_order").
		Set("payment_capture_mode = EXCLUDED.payment_capture_mode").
		Set("storefront_origins = EXCLUDED.storefront_origins").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("shop: save settings: %w", err)
	}
	return nil
}
