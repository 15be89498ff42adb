package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/kit/page"
)

// maxText is the longest name, phone, company or tax id accepted.
const maxText = 200

// Registration is what a guest gives to open an account.
type Registration struct {
	Email            string
	Password         string
	FirstName        string
	LastName         string
	Kind             Kind
	CompanyName      string
	TaxID            string
	AcceptsMarketing bool
}

// Register opens a buyer account and sends an email verification token.
// It answers the same whether or not the address already has an account
// (so nobody learns who shops here): for a taken address nothing is
// created and the kassa.customer.registration_attempted event lets the
// notification plugin tell the real owner. Needs customer:register.
func (s *Service) Register(ctx context.Context, in Registration) error {
	if err := s.roles.Can(ctx, authz.Customer, authz.Register); err != nil {
		return err
	}
	var v errs.Validator
	email, err := normalizeEmail("email", in.Email)
	v.Add(asError(err))
	if in.Kind == "" {
		in.Kind = Individual
	}
	checkProfile(&v, in.FirstName, in.LastName, "", in.Kind, in.CompanyName, in.TaxID)
	// Every problem at once: a refused address still has its password
	// checked, against the address as typed.
	if err != nil {
		email = strings.TrimSpace(in.Email)
	}
	v.Add(asError(CheckPassword("password", in.Password, email)))
	if err := v.Err(); err != nil {
		return err
	}
	// Hash before looking the address up: both answers cost one argon2id.
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	now := s.now()
	c := &Customer{ID: id.New("cus"), Email: email, PasswordHash: &hash, FirstName: strings.TrimSpace(in.FirstName),
		LastName: strings.TrimSpace(in.LastName), Kind: in.Kind, CompanyName: strings.TrimSpace(in.CompanyName),
		TaxID: strings.TrimSpace(in.TaxID), AcceptsMarketing: in.AcceptsMarketing, CreatedAt: now, UpdatedAt: now}
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		existing, err := s.st.customerByEmail(ctx, email)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		if err == nil {
			return s.emit(ctx, SubjectCustomerRegistrationAttempted, CustomerEvent{CustomerID: existing.ID, Email: existing.Email, Name: existing.FirstName})
		}
		if err := s.st.insertCustomer(ctx, c); err != nil {
			if err == errEmailTaken { //nolint:errorlint // sentinel from our own store
				return nil // a concurrent registration won; same answer
			}
			return err
		}
		if err := s.emit(ctx, SubjectCustomerRegistered, CustomerEvent{CustomerID: c.ID, Email: c.Email, Name: c.FirstName}); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "customer registered", "customer", c.ID)
		return s.sendVerification(ctx, c)
	})
}

func checkProfile(v *errs.Validator, first, last, phone string, kind Kind, company, taxID string) {
	for _, f := range []struct{ field, value string }{
		{"firstName", first}, {"lastName", last}, {"phone", phone}, {"companyName", company}, {"taxId", taxID},
	} {
		v.Check(utf8.RuneCountInString(f.value) <= maxText, f.field, CodeTooLong, fmt.Sprintf("use at most %d characters", maxText))
	}
	v.Check(kind == Individual || kind == Business, "kind", CodeInvalidKind, "kind is INDIVIDUAL or BUSINESS")
	v.Check(kind != Business || strings.TrimSpace(company) != "", "companyName", CodeRequired, "a business needs a company name")
}

// sendVerification issues a fresh verification token for c (earlier ones
// stop working) and hands it on.
func (s *Service) sendVerification(ctx context.Context, c *Customer) error {
	token, exp, err := s.issueToken(ctx, PurposeVerifyEmail, c.ID, s.opts.VerifyTokenTTL)
	if err != nil {
		return err
	}
	return s.handOn(ctx, SubjectCustomerVerificationRequested, TokenVerifyEmail,
		TokenEvent{CustomerID: c.ID, Email: c.Email, Name: c.FirstName, Token: token, ExpiresAt: exp})
}

// handOn passes a single-use token to the notification consumer (through
// an event in the current transaction) and to the token sink, if any.
func (s *Service) handOn(ctx context.Context, subject string, kind TokenKind, ev TokenEvent) error {
	if err := s.emit(ctx, subject, ev); err != nil {
		return err
	}
	s.deliver(ctx, TokenMessage{Kind: kind, Email: ev.Email, Name: ev.Name, Token: ev.Token, ExpiresAt: ev.ExpiresAt})
	return nil
}

// issueToken stores a new single-use token (hashed) and revokes the
// principal's earlier unused tokens of the same purpose.
func (s *Service) issueToken(ctx context.Context, purpose TokenPurpose, principalID string, ttl time.Duration) (string, time.Time, error) {
	now := s.now()
	token := newToken(accountTokenPrefix)
	t := &accountToken{ID: id.New("tok"), TokenHash: hashToken(token), Purpose: purpose, PrincipalID: principalID,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.st.revokeTokens(ctx, purpose, principalID, now); err != nil {
			return err
		}
		return s.st.insertToken(ctx, t)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, t.ExpiresAt, nil
}

// RequestEmailVerification sends a new verification token to email when
// an unverified account has it. It answers nil in every case.
func (s *Service) RequestEmailVerification(ctx context.Context, email string) error {
	e, err := normalizeEmail("email", email)
	if err != nil {
		return err
	}
	if ok, err := s.mayMail(ctx, PrincipalCustomer, e); err != nil || !ok {
		return err
	}
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		c, err := s.st.customerByEmail(ctx, e)
		if errors.Is(err, errs.ErrNotFound) {
			return nil // the same answer for an unknown address
		}
		if err != nil || c.EmailVerifiedAt != nil {
			return err
		}
		return s.sendVerification(ctx, c)
	})
}

// VerifyEmail redeems an email verification token, for the buyer signed
// in to the account it verifies; anyone else gets SIGN_IN_TO_VERIFY and
// the token stays open. Whoever registered an address chose the account's
// password without proving the address: were the link enough, the owner
// of the address clicking it would verify an account a stranger signs in
// to, and hand them the guest orders of that address to claim (an outside
// review did so). The owner who did not register signs in by resetting
// the password instead, which proves the address, ends every session and
// verifies it (ResetPassword).
func (s *Service) VerifyEmail(ctx context.Context, token string) (*Customer, error) {
	var c *Customer
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		t, err := s.openToken(ctx, PurposeVerifyEmail, token, s.now())
		if err != nil {
			return err
		}
		if sub := authz.SubjectFrom(ctx); sub.Kind != authz.KindCustomer || sub.ID != t.PrincipalID {
			return errs.Invalid("token", CodeSignInToVerify, "sign in to the account this link verifies, then open it again")
		}
		if t, err = s.useOpenToken(ctx, PurposeVerifyEmail, token); err != nil {
			return err
		}
		c, err = s.st.customerByID(ctx, t.PrincipalID)
		if err != nil {
			return invalidToken("token")
		}
		if c.EmailVerifiedAt == nil {
			now := s.now()
			c.EmailVerifiedAt, c.UpdatedAt = &now, now
			if err := s.st.updateCustomer(ctx, c, "email_verified_at", "updated_at"); err != nil {
				return err
			}
			return s.emit(ctx, SubjectCustomerEmailVerified, CustomerEvent{CustomerID: c.ID})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// useOpenToken finds an open token and marks it used, once.
func (s *Service) useOpenToken(ctx context.Context, purpose TokenPurpose, token string) (*accountToken, error) {
	now := s.now()
	t, err := s.openToken(ctx, purpose, token, now)
	if err != nil {
		return nil, err
	}
	ok, err := s.st.useToken(ctx, t.ID, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidToken("token")
	}
	return t, nil
}

// openToken finds the open token of purpose, answering INVALID_TOKEN
// when there is none: one answer for unknown, used and expired.
func (s *Service) openToken(ctx context.Context, purpose TokenPurpose, token string, now time.Time) (*accountToken, error) {
	t, err := s.st.openToken(ctx, purpose, hashToken(token), now)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, invalidToken("token")
	}
	return t, err
}

// Login signs a buyer in with email and password and starts a session.
// Unknown address and wrong password give the same error, after the same
// argon2id work; repeated failures are throttled (see ThrottlePolicy).
func (s *Service) Login(ctx context.Context, email, password string) (*Customer, *NewSession, error) {
	e, err := normalizeEmail("email", email)
	if err != nil {
		s.hasher.VerifyDummy(ctx, password)
		return nil, nil, invalidCredentials()
	}
	keys := s.throttleKeys(ctx, PrincipalCustomer, e)
	if err := s.checkThrottle(ctx, keys); err != nil {
		return nil, nil, err
	}
	c, err := s.st.customerByEmail(ctx, e)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return nil, nil, err
	}
	ok := false
	if c == nil || c.PasswordHash == nil {
		s.hasher.VerifyDummy(ctx, password)
	} else {
		var rehash bool
		ok, rehash, err = s.hasher.Verify(ctx, password, *c.PasswordHash)
		if err != nil {
			return nil, nil, fmt.Errorf("verify password of %s: %w", c.ID, err)
		}
		if ok && rehash {
			s.rehashCustomer(ctx, c, password)
		}
	}
	if !ok {
		if err := s.recordFailures(ctx, keys); err != nil {
			return nil, nil, err
		}
		return nil, nil, invalidCredentials()
	}
	if err := s.st.clearThrottle(ctx, keys[0].key); err != nil {
		return nil, nil, err
	}
	sess, err := s.startSession(ctx, PrincipalCustomer, c.ID)
	if err != nil {
		return nil, nil, err
	}
	s.log.InfoContext(ctx, "customer signed in", "customer", c.ID, "session", sess.Session.ID)
	return c, sess, nil
}

func (s *Service) rehashCustomer(ctx context.Context, c *Customer, pw string) {
	h, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		c.PasswordHash = &h
		err = s.st.updateCustomer(ctx, c, "password_hash")
	}
	if err != nil {
		s.log.WarnContext(ctx, "upgrade password hash", "customer", c.ID, "err", err)
	}
}

// RequestPasswordReset sends a password reset token to email when a buyer
// account has it. It answers nil in every case.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	e, err := normalizeEmail("email", email)
	if err != nil {
		return err
	}
	if ok, err := s.mayMail(ctx, PrincipalCustomer, e); err != nil || !ok {
		return err
	}
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		c, err := s.st.customerByEmail(ctx, e)
		if errors.Is(err, errs.ErrNotFound) {
			return nil // the same answer for an unknown address
		}
		if err != nil {
			return err
		}
		token, exp, err := s.issueToken(ctx, PurposeResetPassword, c.ID, s.opts.ResetTokenTTL)
		if err != nil {
			return err
		}
		return s.handOn(ctx, SubjectCustomerPasswordResetRequest, TokenResetPassword,
			TokenEvent{CustomerID: c.ID, Email: c.Email, Name: c.FirstName, Token: token, ExpiresAt: exp})
	})
}

// ResetPassword redeems a password reset token: the new password replaces
// the old one, every session of the buyer ends, the address counts as
// verified (the buyer read the mail) and the sign-in throttle of the
// account is cleared. The buyer then signs in anew.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	now := s.now()
	t, err := s.openToken(ctx, PurposeResetPassword, token, now)
	if err != nil {
		return err
	}
	c, err := s.st.customerByID(ctx, t.PrincipalID)
	if err != nil {
		return invalidToken("token")
	}
	if err := CheckPassword("password", password, c.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		ok, err := s.st.useToken(ctx, t.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return invalidToken("token")
		}
		c.PasswordHash, c.UpdatedAt = &hash, now
		if c.EmailVerifiedAt == nil {
			c.EmailVerifiedAt = &now
		}
		if err := s.st.updateCustomer(ctx, c, "password_hash", "email_verified_at", "updated_at"); err != nil {
			return err
		}
		if err := s.st.deleteSessionsOf(ctx, PrincipalCustomer, c.ID, ""); err != nil {
			return err
		}
		if err := s.st.clearThrottle(ctx, accountKey(PrincipalCustomer, c.Email)); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "customer password reset", "customer", c.ID)
		return s.emit(ctx, SubjectCustomerPasswordChanged, CustomerEvent{CustomerID: c.ID, Email: c.Email, Name: c.FirstName})
	})
}

// Me returns the signed-in buyer. Every other caller (a guest, staff, an
// API key) gets CUSTOMER_NOT_FOUND, an errs.ErrNotFound.
func (s *Service) Me(ctx context.Context) (*Customer, error) {
	sub := authz.SubjectFrom(ctx)
	if sub.Kind != authz.KindCustomer {
		return nil, errCustomerNotFound
	}
	return s.Get(ctx, sub.ID)
}

// Get returns a buyer. Needs customer:read, or customer:read:own for the
// buyer themselves; to other buyers the record does not exist.
func (s *Service) Get(ctx context.Context, customerID string) (*Customer, error) {
	if err := authz.MayOwn(ctx, s.roles, authz.Customer, authz.Read); err != nil {
		return nil, err
	}
	if err := s.ownOrNotFound(ctx, authz.Customer, authz.Read, customerID, errCustomerNotFound); err != nil {
		return nil, err
	}
	return s.st.customerByID(ctx, customerID)
}

// target resolves the buyer a self-service call is about: the given id,
// or the signed-in buyer when none is given. It checks act with the
// ownership rule.
func (s *Service) target(ctx context.Context, customerID string, act authz.Action) (*Customer, error) {
	if err := authz.MayOwn(ctx, s.roles, authz.Customer, act); err != nil {
		return nil, err
	}
	sub := authz.SubjectFrom(ctx)
	if customerID == "" {
		if sub.Kind != authz.KindCustomer {
			return nil, errs.Invalid("customerId", CodeRequired, "name the customer")
		}
		customerID = sub.ID
	}
	if err := s.ownOrNotFound(ctx, authz.Customer, act, customerID, errCustomerNotFound); err != nil {
		return nil, err
	}
	c, err := s.st.customerByID(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if c.Erased() {
		return nil, errCustomerNotFound
	}
	return c, nil
}

// ProfileUpdate changes a buyer's profile; nil fields stay as they are.
type ProfileUpdate struct {
	FirstName        *string
	LastName         *string
	Phone            *string
	Kind             *Kind
	CompanyName      *string
	TaxID            *string
	AcceptsMarketing *bool
	// Note is the staff's internal note: needs customer:write.
	Note *string
}

// Update changes a buyer's profile: the signed-in buyer's own (customerID
// "") or, with customer:write, anyone's.
func (s *Service) Update(ctx context.Context, customerID string, in ProfileUpdate) (*Customer, error) {
	c, err := s.target(ctx, customerID, authz.Write)
	if err != nil {
		return nil, err
	}
	if in.Note != nil {
		if err := s.roles.Can(ctx, authz.Customer, authz.Write); err != nil {
			return nil, err
		}
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.FirstName, in.FirstName)
	set(&c.LastName, in.LastName)
	set(&c.Phone, in.Phone)
	set(&c.CompanyName, in.CompanyName)
	set(&c.TaxID, in.TaxID)
	set(&c.Note, in.Note)
	if in.Kind != nil {
		c.Kind = *in.Kind
	}
	if in.AcceptsMarketing != nil {
		c.AcceptsMarketing = *in.AcceptsMarketing
	}
	var v errs.Validator
	checkProfile(&v, c.FirstName, c.LastName, c.Phone, c.Kind, c.CompanyName, c.TaxID)
	v.Check(utf8.RuneCountInString(c.Note) <= 5000, "note", CodeTooLong, "use at most 5000 characters")
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.UpdatedAt = s.now()
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.st.updateCustomer(ctx, c, "first_name", "last_name", "phone", "kind", "company_name", "tax_id",
			"accepts_marketing", "note", "updated_at"); err != nil {
			return err
		}
		return s.emit(ctx, SubjectCustomerUpdated, CustomerEvent{CustomerID: c.ID})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ChangePassword changes the signed-in buyer's password after checking
// the current one; their other sessions end.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	sub := authz.SubjectFrom(ctx)
	if err := authz.MayOwn(ctx, s.roles, authz.Customer, authz.Write); err != nil {
		return err
	}
	if sub.Kind != authz.KindCustomer {
		return errs.Invalid("", CodeNotACustomer, "only a signed-in buyer changes their password here")
	}
	c, err := s.target(ctx, sub.ID, authz.Write)
	if err != nil {
		return err
	}
	if err := s.checkCurrentPassword(ctx, c, current); err != nil {
		return err
	}
	if err := CheckPassword("newPassword", next, c.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	c.PasswordHash, c.UpdatedAt = &hash, s.now()
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.st.updateCustomer(ctx, c, "password_hash", "updated_at"); err != nil {
			return err
		}
		if err := s.st.deleteSessionsOf(ctx, PrincipalCustomer, c.ID, sub.Session); err != nil {
			return err
		}
		return s.emit(ctx, SubjectCustomerPasswordChanged, CustomerEvent{CustomerID: c.ID, Email: c.Email, Name: c.FirstName})
	})
}

func (s *Service) checkCurrentPassword(ctx context.Context, c *Customer, pw string) error {
	if c.PasswordHash == nil {
		return wrongCurrentPassword()
	}
	ok, _, err := s.hasher.Verify(ctx, pw, *c.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password of %s: %w", c.ID, err)
	}
	if !ok {
		return wrongCurrentPassword()
	}
	return nil
}

// CustomerFilter narrows a customer listing.
type CustomerFilter struct {
	// Query matches email, names and company, case-insensitively.
	Query string
	// Tag keeps customers carrying the tag.
	Tag string
	// GroupID keeps members of the group.
	GroupID string
}

// List pages through the buyers, newest first. Needs customer:read.
func (s *Service) List(ctx context.Context, f CustomerFilter, req page.Request) (page.Page[*Customer], error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return page.Page[*Customer]{}, err
	}
	return s.st.listCustomers(ctx, f, req)
}
