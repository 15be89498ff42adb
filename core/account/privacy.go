package account

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
)

// DataExport is everything Kassa holds about a buyer, for the buyer's
// right of access. Later domains (orders, returns) add their part.
type DataExport struct {
	ExportedAt time.Time       `json:"exportedAt"`
	Profile    ExportProfile   `json:"profile"`
	Addresses  []ExportAddress `json:"addresses"`
	Tags       []string        `json:"tags"`
	Groups     []string        `json:"groups"`
	Sessions   []ExportSession `json:"sessions"`
}

// ExportProfile is the profile part of a DataExport.
type ExportProfile struct {
	ID               string     `json:"id"`
	Email            string     `json:"email"`
	EmailVerifiedAt  *time.Time `json:"emailVerifiedAt"`
	FirstName        string     `json:"firstName"`
	LastName         string     `json:"lastName"`
	Phone            string     `json:"phone"`
	Kind             Kind       `json:"kind"`
	CompanyName      string     `json:"companyName"`
	TaxID            string     `json:"taxId"`
	AcceptsMarketing bool       `json:"acceptsMarketing"`
	CreatedAt        time.Time  `json:"createdAt"`
	UpdatedAt        time.Time  `json:"updatedAt"`
}

// ExportAddress is one address of a DataExport.
type ExportAddress struct {
	ID              string `json:"id"`
	FirstName       string `json:"firstName"`
	LastName        string `json:"lastName"`
	Company         string `json:"company"`
	Line1           string `json:"line1"`
	Line2           string `json:"line2"`
	City            string `json:"city"`
	Province        string `json:"province"`
	PostalCode      string `json:"postalCode"`
	CountryCode     string `json:"countryCode"`
	Phone           string `json:"phone"`
	DefaultShipping bool   `json:"defaultShipping"`
	DefaultBilling  bool   `json:"defaultBilling"`
}

// ExportSession is one session of a DataExport (never its token).
type ExportSession struct {
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"userAgent"`
}

// Export gathers a buyer's data (customerID "" is the signed-in buyer).
// Needs customer:read, or customer:read:own for the buyer themselves.
func (s *Service) Export(ctx context.Context, customerID string) (*DataExport, error) {
	c, err := s.target(ctx, customerID, authz.Read)
	if err != nil {
		return nil, err
	}
	out := &DataExport{ExportedAt: s.now(), Profile: ExportProfile{
		ID: c.ID, Email: c.Email, EmailVerifiedAt: c.EmailVerifiedAt, FirstName: c.FirstName, LastName: c.LastName,
		Phone: c.Phone, Kind: c.Kind, CompanyName: c.CompanyName, TaxID: c.TaxID, AcceptsMarketing: c.AcceptsMarketing,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}, Addresses: []ExportAddress{}, Tags: []string{}, Groups: []string{}, Sessions: []ExportSession{}}
	addrs, err := s.st.addressesOf(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	is := func(p *string, id string) bool { return p != nil && *p == id }
	for _, a := range addrs {
		out.Addresses = append(out.Addresses, ExportAddress{ID: a.ID, FirstName: a.FirstName, LastName: a.LastName,
			Company: a.Company, Line1: a.Line1, Line2: a.Line2, City: a.City, Province: a.Province, PostalCode: a.PostalCode,
			CountryCode: a.CountryCode, Phone: a.Phone,
			DefaultShipping: is(c.DefaultShippingAddressID, a.ID), DefaultBilling: is(c.DefaultBillingAddressID, a.ID)})
	}
	// Tags and groups are the shop's classification of the buyer: part of
	// the buyer's data, though only staff see them elsewhere.
	if out.Tags, err = s.st.tagsOf(ctx, c.ID); err != nil {
		return nil, err
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	groups, err := s.st.groupsOf(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		out.Groups = append(out.Groups, g.Name)
	}
	sessions, err := s.sessionsOf(ctx, PrincipalCustomer, c.ID)
	if err != nil {
		return nil, err
	}
	for _, ss := range sessions {
		out.Sessions = append(out.Sessions, ExportSession{CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt,
			ExpiresAt: ss.ExpiresAt, IP: ss.IP, UserAgent: ss.UserAgent})
	}
	return out, nil
}

// Erase anonymizes a buyer for the right to erasure (customerID "" is the
// signed-in buyer, who confirms with their password). The account row
// stays, emptied, so orders keep a valid reference; addresses, tags, group
// memberships, sessions and tokens are deleted; the address becomes free
// for a new account. kassa.customer.erased tells consumers (the merchant's
// webhook) to erase their copies; orders keep what the buyer gave them, as
// the shop's records (docs/operations.md, "Erasure: what remains"). Needs customer:erase, or
// customer:erase:own for the buyer themselves.
func (s *Service) Erase(ctx context.Context, customerID, password string) (*Customer, error) {
	c, err := s.target(ctx, customerID, authz.Erase)
	if err != nil {
		return nil, err
	}
	if s.roles.Can(ctx, authz.Customer, authz.Erase) != nil {
		// The buyer themselves: confirm with the password.
		if err := s.checkCurrentPassword(ctx, c, password); err != nil {
			return nil, err
		}
	}
	now := s.now()
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.st.eraseCustomerData(ctx, c.ID); err != nil {
			return err
		}
		if err := s.redactEvents(ctx, c.ID); err != nil {
			return err
		}
		*c = Customer{ID: c.ID, Email: "erased+" + c.ID + "@erased.invalid", Kind: Individual,
			ErasedAt: &now, CreatedAt: c.CreatedAt, UpdatedAt: now}
		if err := s.st.updateCustomer(ctx, c, "email", "email_verified_at", "password_hash", "first_name", "last_name",
			"phone", "kind", "company_name", "tax_id", "accepts_marketing", "note", "default_shipping_address_id",
			"default_billing_address_id", "erased_at", "updated_at"); err != nil {
			return err
		}
		return s.emit(ctx, SubjectCustomerErased, CustomerEvent{CustomerID: c.ID})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "customer erased", "customer", c.ID, "by", authz.SubjectFrom(ctx).ID)
	return c, nil
}

// redactEvents replaces the payload of the buyer's kassa.customer.* events
// still in the outbox, in the erasure's transaction. Every such event
// names the buyer in its top-level customerId.
func (s *Service) redactEvents(ctx context.Context, customerID string) error {
	r, ok := s.outbox.(EventRedactor)
	if !ok {
		return nil
	}
	payload, err := json.Marshal(RedactedCustomerEvent{CustomerID: customerID, Redacted: "erased"})
	if err != nil {
		return fmt.Errorf("encode redacted event: %w", err)
	}
	n, err := r.Redact(ctx, events.Redaction{SubjectPrefix: "kassa.customer.", Field: "customerId", Value: customerID, Payload: payload})
	if err != nil {
		return fmt.Errorf("redact events of %s: %w", customerID, err)
	}
	s.log.InfoContext(ctx, "events of an erased customer redacted", "customer", customerID, "events", n)
	return nil
}
