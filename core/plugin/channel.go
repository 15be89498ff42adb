package plugin

import (
	"context"
	"slices"

	"github.com/kassahq/kassa/core/notify"
	"github.com/kassahq/kassa/plugins/sdk/host"
	sdknotify "github.com/kassahq/kassa/plugins/sdk/notify"
)

// channelAdapter makes a notification plugin process satisfy
// notify.Channel.
type channelAdapter struct {
	inst *instance
	caps []string
}

var _ notify.Channel = (*channelAdapter)(nil)

var notifySentinels = domainSentinels{unknown: notify.ErrOutcomeUnknown}

// ID implements notify.Channel.
func (c *channelAdapter) ID() string { return c.inst.id }

// Supports implements notify.Channel.
func (c *channelAdapter) Supports(capability string) bool { return slices.Contains(c.caps, capability) }

// Send implements notify.Channel.
func (c *channelAdapter) Send(ctx context.Context, msg notify.Message) (notify.Delivery, error) {
	var out notify.Delivery
	err := c.inst.call(ctx, "NotificationChannel.Send", notifySentinels, func(ctx context.Context, p *host.Plugin) error {
		ch, err := p.Channel()
		if err != nil {
			return err
		}
		d, err := ch.Send(ctx, sdknotify.Message{
			ID: msg.ID, TemplateID: msg.TemplateID, Locale: msg.Locale, StoreID: msg.StoreID,
			Recipient: sdknotify.Recipient{Email: msg.Recipient.Email, Phone: msg.Recipient.Phone, URL: msg.Recipient.URL, Name: msg.Recipient.Name},
			Data:      msg.Data, SecretData: msg.SecretData,
		})
		if err != nil {
			return err
		}
		st := notify.DeliveryUnknown
		switch d.Status {
		case sdknotify.DeliverySent:
			st = notify.DeliverySent
		case sdknotify.DeliveryQueued:
			st = notify.DeliveryQueued
		case sdknotify.DeliveryFailed:
			st = notify.DeliveryFailed
		}
		out = notify.Delivery{ID: d.ID, Status: st, Retryable: d.Retryable, ErrorCode: d.ErrorCode, ErrorMessage: d.ErrorMessage}
		return nil
	})
	return out, err
}
