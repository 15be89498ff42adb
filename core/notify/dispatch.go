package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/events"
)

// ChannelSource lists the enabled notification channels (core/plugin's
// Service).
type ChannelSource interface {
	Channels(ctx context.Context) ([]Channel, error)
}

// Store is what messages say about the shop.
type Store struct {
	Name         string `json:"name"`
	URL          string `json:"url"`
	SupportEmail string `json:"support_email,omitempty"`
}

// Dispatcher turns events into messages for the enabled notification
// channels: account events (Handle) for the channels that deliver to
// people, shop events (Forward) for the channels that deliver to the
// merchant's own systems. It is an event consumer: run Handle from a
// durable subscription to Subjects, so a message is retried until a
// channel took it, and deduplicated by the channel through the message id
// (derived from the event id) when the bus delivers an event twice.
type Dispatcher struct {
	channels ChannelSource
	store    Store
	log      *slog.Logger
	devLog   bool
	// orders reads what order emails say (WithOrders); nil sends none.
	orders Orders
	// payments reads what payment emails say (WithPayments); nil sends
	// none.
	payments Payments
}

// DispatcherOption tunes a Dispatcher.
type DispatcherOption func(*Dispatcher)

// WithDevelopmentLog makes the dispatcher log the link of an account
// message that no channel delivered, so a developer without a mail server
// can click through registration and password reset. Never in production:
// the link is a credential.
func WithDevelopmentLog() DispatcherOption { return func(d *Dispatcher) { d.devLog = true } }

// NewDispatcher returns a dispatcher sending through channels.
func NewDispatcher(channels ChannelSource, store Store, log *slog.Logger, opts ...DispatcherOption) *Dispatcher {
	if log == nil {
		log = slog.Default()
	}
	d := &Dispatcher{channels: channels, store: store, log: log.With("component", "notify")}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Account event subjects the dispatcher turns into messages, with the
// template and the page (under the shop's URL) their link opens.
var accountMessages = map[string]struct {
	template string
	path     string
}{
	"kassa.customer.verification_requested":   {TemplateAccountVerifyEmail, "/account/verify-email"},
	"kassa.customer.password_reset_requested": {TemplateAccountPasswordReset, "/account/reset-password"},
	"kassa.staff.password_reset_requested":    {TemplateAccountPasswordReset, "/admin/reset-password"},
	"kassa.staff.invited":                     {TemplateStaffInvitation, "/admin/accept-invitation"},
}

// Subjects are the event filters Handle consumes, in groups: one durable
// consumer per group, receiving the events matching any filter of its
// group (events.WithFilters). The groups stay in their order, since
// existing streams know each consumer by its group's index (the first
// took kassa.customer.>, the second kassa.staff.>): each filters only
// the subjects Handle acts on, so the consumers are not delivered the
// other customer and staff events.
func (d *Dispatcher) Subjects() [][]string {
	var customer, staff []string
	for s := range accountMessages {
		if strings.HasPrefix(s, "kassa.customer.") {
			customer = append(customer, s)
		} else {
			staff = append(staff, s)
		}
	}
	slices.Sort(customer)
	slices.Sort(staff)
	return [][]string{customer, staff}
}

// tokenEvent is the part of an account event's payload a message needs.
type tokenEvent struct {
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	Locale    string    `json:"locale"`
}

// Handle sends the message an event calls for, if any. It returns an
// error (so the bus redelivers later) when a channel could not take the
// message for a reason that may pass: unreachable plugin, unknown outcome,
// a retryable refusal. A permanent refusal is logged and not retried.
func (d *Dispatcher) Handle(ctx context.Context, e events.Event) error {
	kind, ok := accountMessages[e.Subject]
	if !ok {
		return nil
	}
	var ev tokenEvent
	if err := e.Decode(&ev); err != nil {
		return events.Permanent(fmt.Errorf("decode %s: %w", e.Subject, err))
	}
	if ev.Email == "" || ev.Token == "" {
		return events.Permanent(fmt.Errorf("%s %s carries no recipient or token", e.Subject, e.ID))
	}
	data := map[string]any{"store": d.store, "expires_at": ev.ExpiresAt.UTC().Format(time.RFC3339)}
	if kind.template == TemplateStaffInvitation {
		data["invitation"] = map[string]any{"role": strings.Join(ev.Roles, ", "), "inviter_name": d.store.Name}
	}
	link := strings.TrimRight(d.store.URL, "/") + kind.path + "?token=" + url.QueryEscape(ev.Token)
	secret, _ := json.Marshal(map[string]string{"link": link})
	dataJSON, _ := json.Marshal(data)
	locale := ev.Locale
	if locale == "" {
		locale = "en"
	}

	sent, err := d.deliver(ctx, e, CapPersonal, func(ch Channel) Message {
		return Message{
			// One id per event and channel: a redelivered event is the
			// same message, which the channel sends once.
			ID:         e.ID + "." + ch.ID(),
			TemplateID: kind.template,
			Locale:     locale,
			Recipient:  Recipient{Email: ev.Email, Name: ev.Name},
			Data:       dataJSON,
			SecretData: secret,
		}
	})
	if err == nil && sent == 0 {
		if d.devLog {
			// The one log line that holds a secret, in development only.
			d.log.InfoContext(ctx, "development mode: no email channel delivered this account link (not logged in production)",
				"template", kind.template, "link", link)
		} else {
			// A warning: a buyer's password reset or a staff invitation
			// went nowhere, and the operator learns of it only here.
			d.log.WarnContext(ctx, "no channel delivers account messages: this one reached nobody; enable notify.email", "template", kind.template, "event", e.ID)
		}
	}
	return err
}

// merchantEvents are the event types forwarded to the merchant's own
// systems, by prefix. An allowlist, so an event that carries a secret
// (sign-in links) or is internal is never forwarded by accident.
var merchantEvents = []string{
	"customer.registered", "customer.updated", "customer.email_verified", "customer.erased",
	"staff.joined", "staff.disabled", "staff.enabled", "staff.roles_changed",
	"apikey.created", "apikey.revoked",
	"product.", "inventory.", "collection.",
	"order.", "payment.", "refund.", "return.", "invoice.",
}

// MerchantSubjects are the event filters Forward consumes, one group
// (see Subjects): the merchant events, so the consumer is not delivered
// the events never forwarded.
func (d *Dispatcher) MerchantSubjects() [][]string {
	fs := make([]string, 0, len(merchantEvents))
	for _, p := range merchantEvents {
		if strings.HasSuffix(p, ".") {
			fs = append(fs, "kassa."+p+">")
		} else {
			fs = append(fs, "kassa."+p)
		}
	}
	return [][]string{fs}
}

// Forward hands a shop event to the channels that deliver to the
// merchant's own systems (notify.webhook): the message's template id is
// the event type ("customer.registered") and its data the event payload.
// Errors mean "retry later", as for Handle.
func (d *Dispatcher) Forward(ctx context.Context, e events.Event) error {
	if !merchantEvent(e.Subject) {
		return nil
	}
	typ := strings.TrimPrefix(e.Subject, "kassa.")
	_, err := d.deliver(ctx, e, CapMerchantEvents, func(ch Channel) Message {
		return Message{ID: e.ID + "." + ch.ID(), TemplateID: typ, Data: e.Payload}
	})
	return err
}

// hasChannel reports whether an enabled channel declares capability; true
// when the channels cannot be listed, so the handler runs and retries.
// The plugin service serves the list from memory (core/plugin's enabled
// cache), so asking on every event costs no query.
func (d *Dispatcher) hasChannel(ctx context.Context, capability string) bool {
	channels, err := d.channels.Channels(ctx)
	if err != nil {
		return true
	}
	for _, ch := range channels {
		if ch.Supports(capability) {
			return true
		}
	}
	return false
}

// Wants reports whether Handle may act on e: an account event that is a
// message. Without a channel Handle still acts in development (it logs
// the link), so the channels are not asked. For delivery.OnlyWanted.
func (d *Dispatcher) Wants(_ context.Context, e events.Event) bool {
	_, ok := accountMessages[e.Subject]
	return ok
}

// WantsForward reports whether Forward may act on e: a shop event the
// merchant's systems get, while a channel forwards shop events. For
// delivery.OnlyWanted: a shop without notify.webhook journals nothing.
func (d *Dispatcher) WantsForward(ctx context.Context, e events.Event) bool {
	return merchantEvent(e.Subject) && d.hasChannel(ctx, CapMerchantEvents)
}

// merchantEvent reports whether subject is forwarded to the merchant.
func merchantEvent(subject string) bool {
	typ := strings.TrimPrefix(subject, "kassa.")
	for _, p := range merchantEvents {
		if typ == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(typ, p)) {
			return true
		}
	}
	return false
}

// deliver sends the message build makes to every enabled channel with the
// capability and counts the deliveries made. It returns an error (so the
// bus redelivers later) when a channel could not take the message for a
// reason that may pass: unreachable plugin, unknown outcome, a retryable
// refusal, or a channel that queued it and is still trying (QUEUED: the
// redelivery sends the same message again, which the channel answers with
// where it stands, never sending twice). A permanent refusal (FAILED, not
// retryable: the channel gave up or the recipient refused) is a permanent
// error, the journal's dead letter, not a delivery.
func (d *Dispatcher) deliver(ctx context.Context, e events.Event, capability string, build func(Channel) Message) (int, error) {
	channels, err := d.channels.Channels(ctx)
	if err != nil {
		return 0, fmt.Errorf("list notification channels: %w", err)
	}
	var retry, refused []error
	sent := 0
	for _, ch := range channels {
		if !ch.Supports(capability) {
			continue
		}
		msg := build(ch)
		res, err := ch.Send(ctx, msg)
		switch {
		case err != nil:
			retry = append(retry, fmt.Errorf("%s: %w", ch.ID(), err))
		case res.Status == DeliveryFailed && res.Retryable:
			retry = append(retry, fmt.Errorf("%s refused for now: %s %s", ch.ID(), res.ErrorCode, res.ErrorMessage))
		case res.Status == DeliveryFailed:
			d.log.WarnContext(ctx, "notification refused", "channel", ch.ID(), "template", msg.TemplateID, "event", e.ID, "code", res.ErrorCode, "reason", res.ErrorMessage)
			refused = append(refused, fmt.Errorf("%s refused: %s %s", ch.ID(), res.ErrorCode, res.ErrorMessage))
		case res.Status == DeliveryQueued:
			retry = append(retry, fmt.Errorf("%s is still trying: %s", ch.ID(), cmp.Or(res.ErrorMessage, "queued")))
		default:
			sent++
			d.log.InfoContext(ctx, "notification sent", "channel", ch.ID(), "template", msg.TemplateID, "event", e.ID, "delivery", res.ID, "status", res.Status)
		}
	}
	if len(retry) > 0 {
		return sent, errors.Join(append(retry, refused...)...)
	}
	if len(refused) > 0 {
		return sent, events.Permanent(errors.Join(refused...))
	}
	return sent, nil
}
