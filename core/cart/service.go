package cart

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/tax"
)

// The ports the cart calls (ADR 0006, ADR 0008). Each is a narrow,
// unguarded view of another domain that core/app builds and hands only to
// the cart: the cart has checked its caller before it calls them. Every
// method joins the transaction in ctx.

// Catalog reads the variants in a cart: core/catalog's CheckoutReader.
type Catalog interface {
	// CheckoutVariants returns the variants with the given ids that
	// exist, priced in cur; a missing id is absent from the map.
	CheckoutVariants(ctx context.Context, ids []string, cur money.Currency) (map[string]catalog.CheckoutVariant, error)
}

// Rates prices shipping: core/shipping's Rates.
type Rates interface {
	// Quote returns the methods that ship p, cheapest first. The cart
	// prices its chosen method from the same quote.
	Quote(ctx context.Context, p shipping.Parcel) ([]shipping.Rate, error)
	// Regional reports whether a zone narrows the country to regions.
	Regional(ctx context.Context, country string) (bool, error)
}

// TaxRates looks up the tax rate of an address: core/tax's Rates.
type TaxRates interface {
	// Rate returns the rate of a country and region (a zero rate where
	// none is set).
	Rate(ctx context.Context, country, region string) (tax.Rate, error)
	// Regional reports whether a rate of the country names a region.
	Regional(ctx context.Context, country string) (bool, error)
}

// Settings reads the shop's settings: core/shop's Service.
type Settings interface {
	Settings(ctx context.Context) (*shop.Settings, error)
}

// Customers gives a signed-in buyer's email address: their cart starts
// with it. core/app adapts core/account to it.
type Customers interface {
	// Email returns the address of the buyer's account, as the buyer in
	// ctx reads it (customer read:own).
	Email(ctx context.Context, customerID string) (string, error)
}

// Placer places an order from a completed cart: core/order's Service.
// Place trusts its input (the cart priced it) and runs in the cart's
// transaction; a short variant fails it with a
// *catalog.InsufficientStockError.
type Placer interface {
	Place(ctx context.Context, in order.PlaceInput) (*order.Placed, error)
	// PlacedAgain reads back the order Place placed with orderID, for a
	// retried checkout: token is its AccessToken when it is the order's.
	PlacedAgain(ctx context.Context, orderID, token string) (*order.Placed, error)
}

// CheckoutScope is the idempotency scope of Complete's keys.
const CheckoutScope = "checkout"

// Options configure NewService. Every port but Placer is required; Clock,
// the lifetimes and PurgeBatch default when zero.
type Options struct {
	// Authz is asked before every operation (cart read:own or
	// write:own). Required.
	Authz authz.Authorizer
	// Catalog prices the lines. Required.
	Catalog Catalog
	// Rates quotes and prices shipping. Required.
	Rates Rates
	// TaxRates gives the tax rate of the shipping address. Required.
	TaxRates TaxRates
	// Settings are the shop's currencies, line quantity limit and tax
	// inclusion. Required.
	Settings Settings
	// Keys make Complete idempotent. Required. A completed cart is kept
	// as long as they keep a checkout's answer (Keys.TTL): until then a
	// checkout sent again without its key still hears CodeCartCompleted,
	// not CodeCartNotFound, and does not start another cart.
	Keys *idempotency.Keys
	// Placer places the order at checkout. Without it Complete answers
	// CodeCheckoutUnavailable and every other method works.
	Placer Placer
	// Customers give a signed-in buyer's cart their account's email
	// address, at creation and when it takes a guest cart without one
	// (Merge). Without it a buyer's cart starts without an email.
	Customers Customers
	// GuestLifetime is how long a guest's open cart lives after its last
	// change; zero is DefaultGuestLifetime, else at least MinLifetime.
	GuestLifetime time.Duration
	// BuyerLifetime is how long a signed-in buyer's open cart lives after
	// its last change; zero is DefaultBuyerLifetime, else at least
	// MinLifetime.
	BuyerLifetime time.Duration
	// PurgeBatch is how many carts one statement of Purge deletes; zero
	// is DefaultPurgeBatch.
	PurgeBatch int
	// Clock stamps carts and decides which expired; nil is the system
	// clock.
	Clock clock.Clock
}

// Service holds carts and checks them out. Every method asks the
// authorizer first (cart read:own or write:own: every buyer and guest
// holds them) and then reaches the cart only as its owner: with its
// token, or as the signed-in buyer it belongs to (Ref). Another buyer's
// cart is not found.
type Service struct {
	db       *store.DB
	store    *cartStore
	authz    authz.Authorizer
	catalog  Catalog
	rates    Rates
	tax      TaxRates
	settings Settings
	keys     *idempotency.Keys
	placer   Placer
	buyers   Customers
	clock    clock.Clock
	// life and purgeBatch are Options' lifetimes and PurgeBatch, with
	// their defaults.
	life       lifetimes
	purgeBatch int
}

// NewService returns the cart service over db. It fails when a required
// option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("cart: no database")
	case opts.Authz == nil:
		return nil, errors.New("cart: Options.Authz is required")
	case opts.Catalog == nil:
		return nil, errors.New("cart: Options.Catalog is required")
	case opts.Rates == nil:
		return nil, errors.New("cart: Options.Rates is required")
	case opts.TaxRates == nil:
		return nil, errors.New("cart: Options.TaxRates is required")
	case opts.Settings == nil:
		return nil, errors.New("cart: Options.Settings is required")
	case opts.Keys == nil:
		return nil, errors.New("cart: Options.Keys is required")
	case opts.PurgeBatch < 0:
		return nil, errors.New("cart: Options.PurgeBatch must not be negative")
	}
	life := lifetimes{guest: cmp.Or(opts.GuestLifetime, DefaultGuestLifetime), buyer: cmp.Or(opts.BuyerLifetime, DefaultBuyerLifetime),
		retired: opts.Keys.TTL()}
	if life.guest < MinLifetime || life.buyer < MinLifetime {
		return nil, fmt.Errorf("cart: cart lifetimes (%s for guests, %s for buyers) must be at least %s", life.guest, life.buyer, MinLifetime)
	}
	s := &Service{db: db, store: newCartStore(db, life), authz: opts.Authz, catalog: opts.Catalog, rates: opts.Rates,
		tax: opts.TaxRates, settings: opts.Settings, keys: opts.Keys, placer: opts.Placer, buyers: opts.Customers, clock: opts.Clock,
		life: life, purgeBatch: opts.PurgeBatch}
	if s.clock == nil {
		s.clock = clock.System
	}
	if s.purgeBatch == 0 {
		s.purgeBatch = DefaultPurgeBatch
	}
	return s, nil
}

// buyerEmail returns the email address of the buyer's account, in the
// form SetEmail keeps; "" without a Customers port or when the account's
// address is not one SetEmail would take.
func (s *Service) buyerEmail(ctx context.Context, customerID string) (string, error) {
	if s.buyers == nil {
		return "", nil
	}
	email, err := s.buyers.Email(ctx, customerID)
	if err != nil {
		return "", fmt.Errorf("cart: read the buyer's email: %w", err)
	}
	if e, err := normalizeEmail("email", email); err == nil {
		return e, nil
	}
	return "", nil
}

// now is the time of a write, cut to the microsecond PostgreSQL keeps.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Create starts a cart in currency (an ISO 4217 code the shop sells in;
// "" is the shop's default). A signed-in buyer's cart is theirs, and a
// buyer has one open cart at a time (CodeCartExists); anyone else gets a
// guest cart and, once, its token. A buyer's open cart in a currency the
// shop no longer sells in is replaced: its lines and addresses join the
// new cart, as Merge takes a guest cart's.
func (s *Service) Create(ctx context.Context, currency string) (*Created, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Cart, authz.Own(authz.Write)); err != nil {
		return nil, err
	}
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	cur := set.DefaultCurrency()
	if code := strings.TrimSpace(currency); code != "" {
		if cur, err = money.ParseCurrency(code); err != nil {
			return nil, errs.Invalid("currency", CodeInvalidCurrency, "not an ISO 4217 currency code (three letters, such as CNY)")
		}
	}
	if !set.Sells(cur) {
		return nil, errs.Invalid("currency", CodeCurrencyNotSupported, "the shop does not sell in "+cur.Code())
	}
	now := s.now()
	c := &Cart{ID: id.New(Prefix), Currency: cur, CreatedAt: now, UpdatedAt: now, TouchedAt: now}
	out := &Created{Cart: c}
	if buyer := customerOf(ctx); buyer != "" {
		c.CustomerID = &buyer
		// The order's messages go to the account's address unless the
		// buyer enters another (SetEmail).
		if c.Email, err = s.buyerEmail(ctx, buyer); err != nil {
			return nil, err
		}
	} else {
		token, hash, err := newToken()
		if err != nil {
			return nil, err
		}
		c.TokenHash, out.Token = &hash, token
	}
	if c.CustomerID == nil {
		// A guest's cart is one row: no transaction needed.
		if err := s.store.Insert(ctx, c); err != nil {
			return nil, err
		}
		if _, err := s.price(ctx, c); err != nil {
			return nil, err
		}
		return out, nil
	}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		// The unique index settles a race; this check answers the
		// common case without a failed statement.
		open, err := s.store.OpenByCustomer(ctx, *c.CustomerID, false, now)
		switch {
		case err == nil && set.Sells(open.Currency):
			return cartExists()
		case err == nil:
			// A cart in a currency the shop no longer sells in can never
			// check out, and its currency is fixed: the new cart takes
			// its place, lines and addresses, as at sign-in (Merge).
			if err := s.retire(ctx, c); err != nil {
				return err
			}
		case !errors.Is(err, errs.ErrNotFound):
			return err
		default:
			// An expired cart not purged yet still holds the buyer's
			// place among open carts (the unique index).
			if err := s.store.DeleteExpiredOpen(ctx, *c.CustomerID, now); err != nil {
				return err
			}
			if err := s.store.Insert(ctx, c); err != nil {
				return err
			}
		}
		_, err = s.price(ctx, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// retire replaces the buyer's open cart with c, a new cart of theirs: the
// old one is marked merged into c (reached no more) and its lines and
// addresses join c as Merge takes a guest cart's.
func (s *Service) retire(ctx context.Context, c *Cart) error {
	old, err := s.lock(ctx, Ref{})
	if err != nil {
		return err
	}
	ok, err := s.store.MarkMerged(ctx, old.ID, c.ID, s.now())
	if err != nil {
		return err
	}
	if !ok {
		return cartExists() // checked out meanwhile
	}
	if err := s.store.Insert(ctx, c); err != nil {
		return err
	}
	if err := s.mergeInto(ctx, c, old); err != nil {
		return err
	}
	c.Lines, err = s.store.Lines(ctx, c.ID)
	return err
}

// Get returns a cart, priced.
func (s *Service) Get(ctx context.Context, ref Ref) (*Cart, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Cart, authz.Own(authz.Read)); err != nil {
		return nil, err
	}
	c, err := s.reach(ctx, ref, true)
	if err != nil {
		return nil, err
	}
	if _, err := s.price(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// customerOf returns the signed-in buyer of ctx, or "".
func customerOf(ctx context.Context) string {
	if sub := authz.SubjectFrom(ctx); sub.Kind == authz.KindCustomer {
		return sub.ID
	}
	return ""
}

// reach reads the cart ref names when the caller may reach it, or
// CodeCartNotFound: by its token (with ID, if given, naming the same
// cart), or as the signed-in buyer's own, by ID or as their open cart. An
// expired cart is not found. With lines, the cart's lines are read with
// it, in the same statement.
func (s *Service) reach(ctx context.Context, ref Ref, lines bool) (*Cart, error) {
	now := s.now()
	if ref.Token != "" {
		c, err := s.store.ByTokenHash(ctx, hashToken(ref.Token), lines, now)
		if err != nil {
			return nil, err
		}
		if ref.ID != "" && ref.ID != c.ID {
			return nil, cartNotFound()
		}
		return c, nil
	}
	buyer := customerOf(ctx)
	if buyer == "" {
		return nil, cartNotFound()
	}
	if ref.ID == "" {
		return s.store.OpenByCustomer(ctx, buyer, lines, now)
	}
	c, err := s.store.ByID(ctx, ref.ID, lines, now)
	if err != nil {
		return nil, err
	}
	if c.CustomerID == nil || *c.CustomerID != buyer {
		return nil, cartNotFound()
	}
	return c, nil
}

// key is the condition that names the cart ref reaches, as reach
// reaches it, or false when ref reaches no cart of the caller's.
func (s *Service) key(ctx context.Context, ref Ref) (cartKey, bool) {
	if ref.Token != "" {
		if ref.ID != "" {
			return cartKey{where: "token_hash = ? AND id = ?", args: []any{hashToken(ref.Token), ref.ID}}, true
		}
		return cartKey{where: "token_hash = ?", args: []any{hashToken(ref.Token)}}, true
	}
	buyer := customerOf(ctx)
	switch {
	case buyer == "":
		return cartKey{}, false
	case ref.ID == "":
		return cartKey{where: "customer_id = ?", args: []any{buyer}}, true
	}
	return cartKey{where: "id = ? AND customer_id = ?", args: []any{ref.ID, buyer}}, true
}

// lock reaches the cart ref names and takes it for the transaction in
// ctx (see cartStore.Take), with its lines read after the lock. A
// completed cart is CodeCartCompleted.
func (s *Service) lock(ctx context.Context, ref Ref) (*Cart, error) {
	return s.take(ctx, ref, &Cart{UpdatedAt: s.now()})
}

// take is lock writing columns of c with the lock: c carries their new
// values and UpdatedAt, and is then filled with the cart as stored, its
// lines included (cartStore.TakeWithLines: one statement on PostgreSQL
// when nothing races it, two otherwise).
func (s *Service) take(ctx context.Context, ref Ref, c *Cart, columns ...string) (*Cart, error) {
	key, ok := s.key(ctx, ref)
	if !ok {
		return nil, cartNotFound()
	}
	ok, err := s.store.TakeWithLines(ctx, c, key, columns...)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Say why: no such cart of the caller's, or no longer open.
		got, err := s.reach(ctx, ref, false)
		if err != nil {
			return nil, err
		}
		if got.Completed() {
			return nil, cartCompleted()
		}
		return nil, cartNotFound()
	}
	return c, nil
}

// mayWrite asks for cart write:own. Methods ask it before they look at
// their input: a caller without the permission is refused whatever it
// sends.
func (s *Service) mayWrite(ctx context.Context) error {
	return authz.MayOwn(ctx, s.authz, authz.Cart, authz.Own(authz.Write))
}

// write names the columns of the cart a change writes with its lock
// (see take), and sets their new values.
type write struct {
	columns []string
	set     func(c *Cart)
}

// change runs fn on the cart ref names, locked, in one transaction, and
// returns the cart priced after the change. It needs cart write:own. w's
// columns are written with the lock; fn gets the cart with its lines and
// the catalog's variants of those lines and of extra (the variants it
// adds), read in one statement. fn writes what it changes and leaves
// c.Lines as they are then: the cart is priced from memory, not read
// again.
//
// Without fn the change is w's write alone: the statement that writes
// it and reads the lines is the transaction (store.RunWrite), and the
// variants are read after it, as a read after the change would read them.
func (s *Service) change(ctx context.Context, ref Ref, w write, extra []string,
	fn func(ctx context.Context, c *Cart, vs map[string]catalog.CheckoutVariant) error) (*Cart, error) {
	if err := s.mayWrite(ctx); err != nil {
		return nil, err
	}
	c := &Cart{UpdatedAt: s.now()}
	if w.set != nil {
		w.set(c)
	}
	if fn == nil {
		err := s.db.RunWrite(ctx, func(ctx context.Context) error {
			var err error
			c, err = s.take(ctx, ref, c, w.columns...)
			return err
		})
		if err != nil {
			return nil, err
		}
		if _, err := s.price(ctx, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	var out *Cart
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		c, err := s.take(ctx, ref, c, w.columns...)
		if err != nil {
			return err
		}
		vs, err := s.variants(ctx, c, extra)
		if err != nil {
			return err
		}
		if err := fn(ctx, c, vs); err != nil {
			return err
		}
		if _, err := s.priceWith(ctx, c, vs); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// variants reads the catalog's view of the variants of c's lines and of
// extra, in one statement.
func (s *Service) variants(ctx context.Context, c *Cart, extra []string) (map[string]catalog.CheckoutVariant, error) {
	ids := make([]string, 0, len(c.Lines)+len(extra))
	for _, l := range c.Lines {
		ids = append(ids, l.VariantID)
	}
	for _, id := range extra {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return s.catalog.CheckoutVariants(ctx, ids, c.Currency)
}

// newToken returns a new cart token (32 random bytes, base64url) and the
// hash the cart keeps.
func newToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("cart: token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token), nil
}

// hashToken is the SHA-256 of a token, in hex: what a cart stores and is
// found by. A token is 256 random bits, so an unsalted hash is enough.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
