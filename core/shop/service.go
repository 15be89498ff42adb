package shop

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// DefaultCacheFor is how long Settings answers from memory when
// Options.CacheFor is zero.
const DefaultCacheFor = 10 * time.Second

// Options configure NewService. Authz and Outbox are required; the other
// fields default when zero.
type Options struct {
	// Authz is asked before Update (settings write) and by
	// CanReadPrivate. Required.
	Authz authz.Authorizer
	// Outbox records kassa.shop.settings_updated in the transaction of
	// the update. Required.
	Outbox Outbox
	// Clock stamps updates and times the cache; nil is the system clock.
	Clock clock.Clock
	// DefaultCurrency is the only currency of a shop whose staff never
	// chose its currencies: the catalog's default currency. Zero is USD.
	DefaultCurrency money.Currency
	// CacheFor is how long Settings answers from memory before it reads
	// the row again. An update through this Service is seen at once; one
	// made by another instance sharing the database within CacheFor.
	// Zero is DefaultCacheFor; negative reads the row every time.
	CacheFor time.Duration
}

// Service holds the shop's settings.
//
// Settings asks no permission: everything in the settings is shown to
// buyers somewhere (the currencies, the payment deadline, whether prices
// include tax) or is harmless (the reminder lead), and the cart and the
// order read them on the buyer's behalf on every request. That makes
// Service its own reader for other domains' ports (ADR 0006): holding it
// grants reading the settings, which everybody may, and writing still
// asks for settings write. GraphQL hides the staff-only fields behind
// CanReadPrivate.
type Service struct {
	db       *store.DB
	store    *shopStore
	authz    authz.Authorizer
	outbox   Outbox
	clock    clock.Clock
	defaults Settings
	cacheFor time.Duration

	mu       sync.Mutex
	cached   *Settings
	cachedAt time.Time
	// gen counts invalidations, so a read that started before an update
	// committed never puts the old settings back in the cache.
	gen uint64
}

// NewService returns the shop settings service over db. It fails when a
// required option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("shop: no database")
	case opts.Authz == nil:
		return nil, errors.New("shop: Options.Authz is required")
	case opts.Outbox == nil:
		return nil, errors.New("shop: Options.Outbox is required")
	}
	s := &Service{db: db, store: newShopStore(db), authz: opts.Authz, outbox: opts.Outbox,
		clock: opts.Clock, cacheFor: opts.CacheFor}
	if s.clock == nil {
		s.clock = clock.System
	}
	if s.cacheFor == 0 {
		s.cacheFor = DefaultCacheFor
	}
	cur := opts.DefaultCurrency
	if cur.IsZero() {
		cur = money.USD
	}
	s.defaults = Settings{
		Currencies:        []money.Currency{cur},
		PaymentDeadline:   DefaultPaymentDeadline,
		ReminderLead:      DefaultReminderLead,
		OrderNumberPrefix: DefaultOrderNumberPrefix,
		LineQuantityLimit: DefaultLineQuantityLimit,

		UnpaidOrdersPerBuyer: DefaultUnpaidOrdersPerBuyer,
		PaymentCaptureMode:   CaptureAutomatic,
	}
	return s, nil
}

// Settings returns the shop's settings: the saved ones, or the defaults
// while staff never saved any. It asks no permission (see Service) and
// answers from memory for up to Options.CacheFor. The caller owns the
// result and may change it.
func (s *Service) Settings(ctx context.Context) (*Settings, error) {
	s.mu.Lock()
	if s.cached != nil && s.clock.Now().Sub(s.cachedAt) < s.cacheFor {
		c := s.cached.clone()
		s.mu.Unlock()
		return c, nil
	}
	gen := s.gen
	s.mu.Unlock()

	set, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	// Inside a transaction the row may hold a change not committed yet:
	// answer it, but do not cache it for everyone.
	if s.cacheFor > 0 && !store.InTx(ctx) {
		s.mu.Lock()
		if s.gen == gen {
			s.cached, s.cachedAt = set.clone(), s.clock.Now()
		}
		s.mu.Unlock()
	}
	return set, nil
}

// load reads the settings row, or the defaults when there is none.
func (s *Service) load(ctx context.Context) (*Settings, error) {
	set, err := s.store.Settings(ctx)
	if errors.Is(err, errs.ErrNotFound) {
		return s.defaults.clone(), nil
	}
	return set, err
}

// Invalidate drops the cached settings, so the next Settings reads the
// row. Update calls it after its commit; an instance that learns of
// another's update (kassa.shop.settings_updated) may call it too.
func (s *Service) Invalidate() {
	s.mu.Lock()
	s.cached = nil
	s.gen++
	s.mu.Unlock()
}

// CanReadPrivate returns nil when the caller may see the settings that
// only staff need (settings read), and the authorizer's error otherwise.
// GraphQL shows buyers the currencies and whether prices include tax, and
// asks it for the rest: the payment deadline and reminder lead, the order
// number prefix, the line quantity limit and when they were last saved.
func (s *Service) CanReadPrivate(ctx context.Context) error {
	return s.authz.Can(ctx, authz.Settings, authz.Read)
}

// Update changes the settings in, needing settings write. Every problem
// with in is reported at once, with its field path ("currencies.1",
// "reminderLead"), and nothing changes then. It emits
// kassa.shop.settings_updated.
func (s *Service) Update(ctx context.Context, in UpdateSettingsInput) (*Settings, error) {
	if err := s.authz.Can(ctx, authz.Settings, authz.Write); err != nil {
		return nil, err
	}
	var out *Settings
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		cur, err := s.load(ctx)
		if err != nil {
			return err
		}
		next, fields, err := apply(cur, in)
		if err != nil {
			return err
		}
		next.UpdatedAt = s.clock.Now().UTC().Truncate(time.Microsecond)
		if err := s.store.Save(ctx, next); err != nil {
			return err
		}
		if err := s.emit(ctx, SubjectSettingsUpdated, SettingsUpdatedEvent{Fields: fields}); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Now, and again once the outermost transaction committed: a reader
	// between the two would otherwise cache the old row for CacheFor.
	s.Invalidate()
	store.AfterCommit(ctx, s.Invalidate)
	return out, nil
}

// apply returns cur changed by in, and the names of the fields in set,
// or every problem with in.
func apply(cur *Settings, in UpdateSettingsInput) (*Settings, []string, error) {
	next := cur.clone()
	fields := []string{}
	var v errs.Validator
	if in.Currencies != nil {
		fields = append(fields, "currencies")
		next.Currencies = nil
		codes := *in.Currencies
		v.Check(len(codes) > 0, "currencies", CodeRequired, "the shop sells in at least one currency")
		if len(codes) > MaxCurrencies {
			// Refused as a whole: a huge list gets one problem, not one
			// per entry.
			v.Add(errs.Invalid("currencies", CodeTooMany, fmt.Sprintf("a shop sells in at most %d currencies", MaxCurrencies)))
			codes = nil
		}
		seen := map[money.Currency]bool{}
		for i, code := range codes {
			field := "currencies." + strconv.Itoa(i)
			c, err := money.ParseCurrency(strings.TrimSpace(code))
			if err != nil {
				// Not quoting the input, which may be of any length.
				v.Add(errs.Invalid(field, CodeInvalidCurrency, "the currency is an ISO 4217 code such as CNY or USD"))
				continue
			}
			if seen[c] {
				v.Add(errs.Invalid(field, CodeDuplicateCurrency, c.Code()+" is listed twice"))
				continue
			}
			seen[c] = true
			next.Currencies = append(next.Currencies, c)
		}
	}
	deadlineOK := true
	if in.PaymentDeadline != nil {
		fields = append(fields, "paymentDeadline")
		d := *in.PaymentDeadline
		switch {
		case d%time.Second != 0:
			deadlineOK = false
			v.Add(errs.Invalid("paymentDeadline", CodeInvalidDuration, "the payment deadline is a whole number of seconds"))
		case d < MinPaymentDeadline || d > MaxPaymentDeadline:
			deadlineOK = false
			v.Add(errs.Invalid("paymentDeadline", CodeOutOfRange,
				fmt.Sprintf("the payment deadline is between %s and %s", inWords(MinPaymentDeadline), inWords(MaxPaymentDeadline))))
		}
		next.PaymentDeadline = d
	}
	if in.ReminderLead != nil {
		fields = append(fields, "reminderLead")
		d := *in.ReminderLead
		switch {
		case d%time.Second != 0:
			v.Add(errs.Invalid("reminderLead", CodeInvalidDuration, "the reminder lead is a whole number of seconds"))
		case d <= 0:
			v.Add(errs.Invalid("reminderLead", CodeOutOfRange, "the reminder lead is positive"))
		}
		next.ReminderLead = d
	}
	// Checked against the deadline in force after the update; a bad new
	// deadline is reported once, on its own field.
	if deadlineOK && next.ReminderLead > 0 && next.ReminderLead >= next.PaymentDeadline {
		field := "reminderLead"
		if in.ReminderLead == nil {
			field = "paymentDeadline"
		}
		v.Add(errs.Invalid(field, CodeReminderAfterDeadline,
			fmt.Sprintf("the reminder lead (%s) must be shorter than the payment deadline (%s)", inWords(next.ReminderLead), inWords(next.PaymentDeadline))))
	}
	if in.OrderNumberPrefix != nil {
		fields = append(fields, "orderNumberPrefix")
		p := *in.OrderNumberPrefix
		switch {
		case !utf8.ValidString(p) || strings.IndexFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
			v.Add(errs.Invalid("orderNumberPrefix", CodeInvalidPrefix, "the order number prefix holds printable characters only"))
		case utf8.RuneCountInString(p) > MaxOrderNumberPrefix:
			v.Add(errs.Invalid("orderNumberPrefix", CodeTooLong,
				fmt.Sprintf("the order number prefix is at most %d characters", MaxOrderNumberPrefix)))
		}
		next.OrderNumberPrefix = p
	}
	if in.LineQuantityLimit != nil {
		fields = append(fields, "lineQuantityLimit")
		n := *in.LineQuantityLimit
		v.Check(n >= MinLineQuantityLimit && n <= MaxLineQuantityLimit, "lineQuantityLimit", CodeOutOfRange,
			fmt.Sprintf("the line quantity limit is between %d and %d", MinLineQuantityLimit, MaxLineQuantityLimit))
		next.LineQuantityLimit = n
	}
	if in.UnpaidOrdersPerBuyer != nil {
		fields = append(fields, "unpaidOrdersPerBuyer")
		n := *in.UnpaidOrdersPerBuyer
		v.Check(n >= 0 && n <= MaxUnpaidOrdersPerBuyer, "unpaidOrdersPerBuyer", CodeOutOfRange,
			fmt.Sprintf("the unpaid orders a buyer may hold are between 0 (no limit) and %d", MaxUnpaidOrdersPerBuyer))
		next.UnpaidOrdersPerBuyer = n
	}
	if in.PricesIncludeTax != nil {
		fields = append(fields, "pricesIncludeTax")
		next.PricesIncludeTax = *in.PricesIncludeTax
	}
	if in.RefundCancelledOrderPayments != nil {
		fields = append(fields, "refundCancelledOrderPayments")
		next.RefundCancelledOrderPayments = *in.RefundCancelledOrderPayments
	}
	if in.PaymentMethodOrder != nil {
		fields = append(fields, "paymentMethodOrder")
		ids := *in.PaymentMethodOrder
		next.PaymentMethodOrder = nil
		if len(ids) > MaxPaymentMethods {
			v.Add(errs.Invalid("paymentMethodOrder", CodeTooMany, fmt.Sprintf("at most %d payment methods", MaxPaymentMethods)))
			ids = nil
		}
		seen := map[string]bool{}
		for i, id := range ids {
			field := "paymentMethodOrder." + strconv.Itoa(i)
			id = strings.TrimSpace(id)
			switch {
			case id == "" || len(id) > 100 || strings.ContainsAny(id, ", ") || strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
				v.Add(errs.Invalid(field, CodeInvalidPaymentMethod, "a payment method is a plugin id such as payment.testpay"))
			case seen[id]:
				v.Add(errs.Invalid(field, CodeDuplicatePaymentMethod, id+" is listed twice"))
			default:
				seen[id] = true
				next.PaymentMethodOrder = append(next.PaymentMethodOrder, id)
			}
		}
	}
	if in.PaymentCaptureMode != nil {
		fields = append(fields, "paymentCaptureMode")
		m := *in.PaymentCaptureMode
		v.Check(m == CaptureAutomatic || m == CaptureManual, "paymentCaptureMode", CodeInvalidCaptureMode,
			"the capture mode is AUTOMATIC or MANUAL")
		next.PaymentCaptureMode = m
	}
	if in.StorefrontOrigins != nil {
		fields = append(fields, "storefrontOrigins")
		next.StorefrontOrigins = storefrontOrigins(&v, *in.StorefrontOrigins)
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	return next, fields, nil
}

// validPort reports whether port, as url.URL.Port gives it, is empty or
// a TCP port a browser could reach: 1 to 65535.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// storefrontOrigins checks the storefront origins staff entered and
// returns them as Origin writes them; its problems go to v.
func storefrontOrigins(v *errs.Validator, raw []string) []string {
	if len(raw) > MaxStorefrontOrigins {
		v.Add(errs.Invalid("storefrontOrigins", CodeTooMany, fmt.Sprintf("at most %d storefront origins", MaxStorefrontOrigins)))
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i, s := range raw {
		field := "storefrontOrigins." + strconv.Itoa(i)
		s = strings.TrimSpace(s)
		if len(s) > MaxOriginLength {
			v.Add(errs.Invalid(field, CodeTooLong, fmt.Sprintf("an origin is at most %d characters", MaxOriginLength)))
			continue
		}
		// An origin alone: a path, query or credentials would suggest a
		// narrower rule than the one applied (the whole origin).
		u, err := url.Parse(s)
		origin, ok := Origin(u)
		if err != nil || !ok || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery ||
			u.Fragment != "" || strings.ContainsAny(s, "#\\*") || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 ||
			!validPort(u.Port()) {
			v.Add(errs.Invalid(field, CodeInvalidOrigin, "an origin is http(s)://host or http(s)://host:port, such as https://shop.example.com"))
			continue
		}
		if seen[origin] {
			v.Add(errs.Invalid(field, CodeDuplicateOrigin, origin+" is listed twice"))
			continue
		}
		seen[origin] = true
		out = append(out, origin)
	}
	return out
}
