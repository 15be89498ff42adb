package shop

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
)

// SubjectSettingsUpdated: staff saved the shop's settings
// (SettingsUpdatedEvent).
const SubjectSettingsUpdated = "kassa.shop.settings_updated"

// CacheSubjects are the subject filters after which what anybody may read
// of the settings (the currencies, whether prices include tax) may have
// changed: the response cache of public reads forgets its answers on
// them, and so does every instance's Service (Invalidate).
func CacheSubjects() []string { return []string{"kassa.shop.>"} }

// Outbox records events in the caller's transaction; they leave for the
// bus once it committed. core/events' Outbox implements it.
type Outbox interface {
	Add(ctx context.Context, e events.Event) error
}

// SettingsUpdatedEvent is the payload of kassa.shop.settings_updated: the
// names of the settings the update set (as in UpdateSettingsInput, in
// lower camel case), not their values; consumers read the settings.
type SettingsUpdatedEvent struct {
	Fields []string `json:"fields"`
}

// emit adds an event to the outbox in ctx's transaction.
func (s *Service) emit(ctx context.Context, subject string, payload any) error {
	e, err := events.New(subject, payload)
	if err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	sub := authz.SubjectFrom(ctx)
	e.Actor = sub.ID
	if e.Actor == "" {
		e.Actor = string(sub.Kind)
	}
	return s.outbox.Add(ctx, e)
}
