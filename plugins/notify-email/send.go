package main

import (
	"context"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/notify"
)

var (
	catalogOnce sync.Once
	templates   catalog
	catalogErr  error
)

// loadedCatalog parses the embedded templates once.
func loadedCatalog() (catalog, error) {
	catalogOnce.Do(func() { templates, catalogErr = loadCatalog() })
	return templates, catalogErr
}

// Send renders the message's template in the recipient's locale and hands
// it to the SMTP server.
//
// It is idempotent by Message.ID: a message already sent (in this process,
// or before a restart: the journal in KASSA_PLUGIN_DATA_DIR) is not sent
// again and the first delivery is returned; concurrent calls with one id
// wait for each other. Failures are data: DeliveryFailed with an error
// code (invalid_recipient, template_missing, invalid_data,
// recipient_rejected, auth_failed, ...) and Retryable. A failed message
// is not remembered, so Kassa's retry tries again.
func (c *Channel) Send(ctx context.Context, msg notify.Message) (notify.Delivery, error) {
	if id, ok := c.journal.lookup(msg.ID); ok {
		return notify.Delivery{ID: id, Status: notify.DeliverySent}, nil
	}
	release := c.claim(msg.ID)
	defer release()
	if id, ok := c.journal.lookup(msg.ID); ok { // sent while we waited
		return notify.Delivery{ID: id, Status: notify.DeliverySent}, nil
	}
	d := c.send(ctx, msg)
	log := logger().With("message_id", msg.ID, "template", msg.TemplateID)
	if d.Status != notify.DeliverySent {
		log.Warn("email not sent", "code", d.ErrorCode, "retryable", d.Retryable)
		return d, nil
	}
	if err := c.journal.record(sentEntry{ID: msg.ID, DeliveryID: d.ID, At: time.Now().UTC()}); err != nil {
		// Sent all the same; only a retry after a restart could repeat it.
		log.Error("cannot record the sent email", "err", err)
	}
	log.Info("email sent", "delivery_id", d.ID)
	return d, nil
}

// claim waits until no other Send of the same id runs and marks this one
// running; the returned func ends it.
func (c *Channel) claim(id string) func() {
	for {
		c.flightMu.Lock()
		ch, busy := c.inFlight[id]
		if !busy {
			done := make(chan struct{})
			c.inFlight[id] = done
			c.flightMu.Unlock()
			return func() {
				c.flightMu.Lock()
				delete(c.inFlight, id)
				c.flightMu.Unlock()
				close(done)
			}
		}
		c.flightMu.Unlock()
		<-ch
	}
}

func failed(code, message string, retryable bool) notify.Delivery {
	return notify.Delivery{Status: notify.DeliveryFailed, ErrorCode: code, ErrorMessage: message, Retryable: retryable}
}

// send does the work of Send for a message not sent before.
func (c *Channel) send(ctx context.Context, msg notify.Message) notify.Delivery {
	cfg := c.cfg.Load()
	if cfg == nil {
		return failed(CodeNotConfigured, "the email plugin has no settings yet", true)
	}
	to, err := mail.ParseAddress(msg.Recipient.Email)
	if err != nil || to.Address != strings.TrimSpace(msg.Recipient.Email) || strings.ContainsAny(to.Address, "\r\n") {
		return failed(CodeInvalidRecipient, "the recipient has no valid email address", false)
	}
	cat, err := loadedCatalog()
	if err != nil {
		return failed(CodeTemplateMissing, "the plugin's templates are broken: "+err.Error(), false)
	}
	id := msg.TemplateID
	if alias, ok := templateAliases[id]; ok {
		id = alias
	}
	locale := matchLocale(msg.Locale)
	set := cat[locale][id]
	if set == nil {
		return failed(CodeTemplateMissing, "no email template for "+msg.TemplateID, false)
	}
	v, err := prepare(id, msg)
	if err != nil {
		return failed(CodeInvalidData, err.Error(), false)
	}
	v.Locale = locale
	if v.Store.Name == "" {
		v.Store.Name = cfg.FromName
	}
	content, err := set.render(v)
	if err != nil {
		return failed(CodeInvalidData, "rendering "+id+": "+err.Error(), false)
	}
	m := &mimeMessage{
		From:      mail.Address{Name: cfg.FromName, Address: cfg.FromAddress},
		To:        mail.Address{Name: msg.Recipient.Name, Address: to.Address},
		Subject:   content.Subject,
		MessageID: messageID(msg.ID, cfg.senderDomain()),
		Date:      time.Now(),
		Language:  locale,
		Content:   content,
	}
	if cfg.ReplyTo != "" {
		m.ReplyTo = mail.Address{Address: cfg.ReplyTo}
	}
	raw, err := m.bytes()
	if err != nil {
		return failed(CodeInvalidData, "building the message: "+err.Error(), false)
	}
	s, fail := dial(ctx, cfg)
	if fail != nil {
		return *fail
	}
	if fail := s.send(cfg.FromAddress, to.Address, raw); fail != nil {
		return *fail
	}
	return notify.Delivery{ID: m.MessageID, Status: notify.DeliverySent}
}
