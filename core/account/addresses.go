package account

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/kit/country"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
)

// maxAddresses bounds a buyer's address book.
const maxAddresses = 50

// AddressInput is an address as a client gives it.
type AddressInput struct {
	FirstName   string
	LastName    string
	Company     string
	Line1       string
	Line2       string
	City        string
	Province    string
	PostalCode  string
	CountryCode string
	Phone       string
}

// Defaults says which defaults an address becomes; nil leaves a default as
// it is, false clears it when it is this address.
type Defaults struct {
	Shipping *bool
	Billing  *bool
}

func (in AddressInput) validate(v *errs.Validator) {
	for _, f := range []struct{ field, value string }{
		{"firstName", in.FirstName}, {"lastName", in.LastName}, {"company", in.Company}, {"line1", in.Line1},
		{"line2", in.Line2}, {"city", in.City}, {"province", in.Province}, {"postalCode", in.PostalCode}, {"phone", in.Phone},
	} {
		v.Check(utf8.RuneCountInString(f.value) <= maxText, "address."+f.field, CodeTooLong, fmt.Sprintf("use at most %d characters", maxText))
	}
	v.Check(strings.TrimSpace(in.Line1) != "", "address.line1", CodeRequired, "the street address is required")
	v.Check(strings.TrimSpace(in.City) != "", "address.city", CodeRequired, "the city is required")
	cc := strings.ToUpper(strings.TrimSpace(in.CountryCode))
	v.Check(country.Valid(cc), "address.countryCode", CodeInvalidCountry,
		"the country is an ISO 3166-1 alpha-2 code such as CN or US")
}

func (in AddressInput) apply(a *Address) {
	t := strings.TrimSpace
	a.FirstName, a.LastName, a.Company = t(in.FirstName), t(in.LastName), t(in.Company)
	a.Line1, a.Line2, a.City, a.Province = t(in.Line1), t(in.Line2), t(in.City), t(in.Province)
	a.PostalCode, a.CountryCode, a.Phone = t(in.PostalCode), strings.ToUpper(t(in.CountryCode)), t(in.Phone)
}

// Addresses returns a buyer's address book. Needs customer:read, or
// customer:read:own for the buyer themselves.
func (s *Service) Addresses(ctx context.Context, customerID string) ([]*Address, error) {
	if err := s.ownOrNotFound(ctx, authz.Customer, authz.Read, customerID, errCustomerNotFound); err != nil {
		return nil, err
	}
	return s.st.addressesOf(ctx, customerID)
}

// AddressesByCustomerIDs returns the address books of the given buyers,
// by customer id, oldest first, with one query for any number of buyers:
// the GraphQL loaders call it once per page. It applies the rule of
// Addresses to every id, all or nothing: staff with customer:read get
// any buyer's book; a buyer holding customer:read:own gets their own, and
// asking for anyone else's fails the whole call with the error Addresses
// gives for it. A buyer without addresses is missing from the map.
func (s *Service) AddressesByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]*Address, error) {
	if err := s.ownAllOrNotFound(ctx, authz.Customer, authz.Read, customerIDs, errCustomerNotFound); err != nil {
		return nil, err
	}
	return s.st.addressesByCustomerIDs(ctx, customerIDs)
}

// Address returns one address, under the same rule as Addresses.
func (s *Service) Address(ctx context.Context, addressID string) (*Address, error) {
	if err := authz.MayOwn(ctx, s.roles, authz.Customer, authz.Read); err != nil {
		return nil, err
	}
	a, err := s.st.addressByID(ctx, addressID)
	if err != nil {
		return nil, err
	}
	if err := s.ownOrNotFound(ctx, authz.Customer, authz.Read, a.CustomerID, errAddressNotFound); err != nil {
		return nil, err
	}
	return a, nil
}

// CreateAddress adds an address to a buyer's book (customerID "" is the
// signed-in buyer). The first address becomes both defaults.
func (s *Service) CreateAddress(ctx context.Context, customerID string, in AddressInput, d Defaults) (*Address, *Customer, error) {
	c, err := s.target(ctx, customerID, authz.Write)
	if err != nil {
		return nil, nil, err
	}
	var v errs.Validator
	in.validate(&v)
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	now := s.now()
	a := &Address{ID: id.New("adr"), CustomerID: c.ID, CreatedAt: now, UpdatedAt: now}
	in.apply(a)
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		n, err := s.st.countAddresses(ctx, c.ID)
		if err != nil {
			return err
		}
		if n >= maxAddresses {
			return errs.Invalid("", CodeTooManyAddresses, fmt.Sprintf("an address book holds at most %d addresses", maxAddresses))
		}
		if err := s.st.insertAddress(ctx, a); err != nil {
			return err
		}
		yes := true
		if c.DefaultShippingAddressID == nil && d.Shipping == nil {
			d.Shipping = &yes
		}
		if c.DefaultBillingAddressID == nil && d.Billing == nil {
			d.Billing = &yes
		}
		return s.applyDefaults(ctx, c, a.ID, d)
	})
	if err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

func (s *Service) applyDefaults(ctx context.Context, c *Customer, addressID string, d Defaults) error {
	changed := false
	set := func(dst **string, want *bool) {
		switch {
		case want == nil:
		case *want:
			id := addressID
			*dst, changed = &id, true
		case *dst != nil && **dst == addressID:
			*dst, changed = nil, true
		}
	}
	set(&c.DefaultShippingAddressID, d.Shipping)
	set(&c.DefaultBillingAddressID, d.Billing)
	if !changed {
		return nil
	}
	c.UpdatedAt = s.now()
	return s.st.updateCustomer(ctx, c, "default_shipping_address_id", "default_billing_address_id", "updated_at")
}

// ownAddress loads an address the caller may change.
func (s *Service) ownAddress(ctx context.Context, addressID string) (*Address, *Customer, error) {
	if err := authz.MayOwn(ctx, s.roles, authz.Customer, authz.Write); err != nil {
		return nil, nil, err
	}
	a, err := s.st.addressByID(ctx, addressID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.ownOrNotFound(ctx, authz.Customer, authz.Write, a.CustomerID, errAddressNotFound); err != nil {
		return nil, nil, err
	}
	c, err := s.st.customerByID(ctx, a.CustomerID)
	if err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

// UpdateAddress changes an address (in may be nil to change only the
// defaults).
func (s *Service) UpdateAddress(ctx context.Context, addressID string, in *AddressInput, d Defaults) (*Address, *Customer, error) {
	a, c, err := s.ownAddress(ctx, addressID)
	if err != nil {
		return nil, nil, err
	}
	if in != nil {
		var v errs.Validator
		in.validate(&v)
		if err := v.Err(); err != nil {
			return nil, nil, err
		}
		in.apply(a)
		a.UpdatedAt = s.now()
	}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if in != nil {
			if err := s.st.updateAddress(ctx, a); err != nil {
				return err
			}
		}
		return s.applyDefaults(ctx, c, a.ID, d)
	})
	if err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

// DeleteAddress removes an address; defaults pointing at it are cleared.
func (s *Service) DeleteAddress(ctx context.Context, addressID string) (*Customer, error) {
	a, c, err := s.ownAddress(ctx, addressID)
	if err != nil {
		return nil, err
	}
	if err := s.db.RunInTx(ctx, func(ctx context.Context) error { return s.st.deleteAddress(ctx, a) }); err != nil {
		return nil, err
	}
	return s.st.customerByID(ctx, c.ID)
}
