package plugin

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/notify"
	"github.com/kassahq/kassa/core/payment"
)

// enabledOfKind loads plugin id and checks it is enabled and of kind k.
// An enabled plugin comes from the cached list (enabledRows): every
// webhook and payment asks for its gateway. Anything else is read from
// the database, for the precise error.
func (s *Service) enabledOfKind(ctx context.Context, id string, k Kind) (*row, error) {
	return s.ofKind(ctx, id, k, true)
}

// ofKind loads plugin id and checks it is of kind k and, when
// mustBeEnabled, enabled.
func (s *Service) ofKind(ctx context.Context, id string, k Kind, mustBeEnabled bool) (*row, error) {
	if rows, err := s.enabledRows(ctx, k); err == nil {
		for _, r := range rows {
			if r.ID == id {
				return r, nil
			}
		}
	}
	r, err := s.st.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Kind != string(k) {
		return nil, errs.Invalid("", CodeWrongKind, fmt.Sprintf("plugin %s is a %s plugin, not a %s plugin", id, r.Kind, k))
	}
	if !r.Enabled && mustBeEnabled {
		return nil, unavailable(CodeDisabled, "plugin %s is disabled", id)
	}
	return r, nil
}

func (s *Service) gateway(r *row) (*gatewayAdapter, error) {
	i, err := s.instance(r.ID)
	if err != nil {
		return nil, err
	}
	return &gatewayAdapter{
		inst: i, caps: r.capabilities(),
		baseURL: s.opts.BaseURL + "/plugins/" + r.ID,
		notify:  s.opts.BaseURL + "/webhooks/" + r.ID,
	}, nil
}

// Gateway returns the enabled payment gateway with the plugin id. It does
// not check permissions: the payment service calling it has. The plugin
// process starts on the first call, not here.
func (s *Service) Gateway(ctx context.Context, id string) (payment.Gateway, error) {
	r, err := s.enabledOfKind(ctx, id, KindPayment)
	if err != nil {
		return nil, err
	}
	return s.gateway(r)
}

// InstalledGateway returns the payment gateway with the plugin id,
// enabled or disabled (PLUGIN_NOT_FOUND once removed). Disabling a
// gateway stops new payments through it; the payments it already took
// still settle through it (notifications, reconciliation, closes,
// captures, voids, refunds), as a deactivated payment app does in
// Shopify: its process starts for those calls only (launch).
func (s *Service) InstalledGateway(ctx context.Context, id string) (payment.Gateway, error) {
	r, err := s.ofKind(ctx, id, KindPayment, false)
	if err != nil {
		return nil, err
	}
	return s.gateway(r)
}

// Gateways returns every enabled payment gateway, ordered by id, from
// memory as Channels does.
func (s *Service) Gateways(ctx context.Context) ([]payment.Gateway, error) {
	rows, err := s.enabledRows(ctx, KindPayment)
	if err != nil {
		return nil, err
	}
	out := make([]payment.Gateway, 0, len(rows))
	for _, r := range rows {
		g, err := s.gateway(r)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// Rules returns every enabled invoice rule, ordered by id, from memory as
// Channels does.
func (s *Service) Rules(ctx context.Context) ([]invoice.Rule, error) {
	rows, err := s.enabledRows(ctx, KindInvoice)
	if err != nil {
		return nil, err
	}
	out := make([]invoice.Rule, 0, len(rows))
	for _, r := range rows {
		i, err := s.instance(r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, &ruleAdapter{inst: i})
	}
	return out, nil
}

// Rule returns the enabled invoice rule with the plugin id.
func (s *Service) Rule(ctx context.Context, id string) (invoice.Rule, error) {
	r, err := s.enabledOfKind(ctx, id, KindInvoice)
	if err != nil {
		return nil, err
	}
	i, err := s.instance(r.ID)
	if err != nil {
		return nil, err
	}
	return &ruleAdapter{inst: i}, nil
}

// Channels returns every enabled notification channel, ordered by id. The
// consumers of every event ask, so the list comes from memory
// (enabledRows, enabledCacheTTL).
func (s *Service) Channels(ctx context.Context) ([]notify.Channel, error) {
	rows, err := s.enabledRows(ctx, KindNotify)
	if err != nil {
		return nil, err
	}
	out := make([]notify.Channel, 0, len(rows))
	for _, r := range rows {
		i, err := s.instance(r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, &channelAdapter{inst: i, caps: r.capabilities()})
	}
	return out, nil
}

// Channel returns the enabled notification channel with the plugin id.
func (s *Service) Channel(ctx context.Context, id string) (notify.Channel, error) {
	r, err := s.enabledOfKind(ctx, id, KindNotify)
	if err != nil {
		return nil, err
	}
	i, err := s.instance(r.ID)
	if err != nil {
		return nil, err
	}
	return &channelAdapter{inst: i, caps: r.capabilities()}, nil
}
