package payment

import (
	"context"
	"slices"
	"strings"

	"github.com/kassahq/kassa/core/authz"
)

// actionCaps maps the action capabilities to the actions.
var actionCaps = []struct {
	cap string
	act ActionType
}{
	{CapActionNone, ActionNone}, {CapActionRedirect, ActionRedirect}, {CapActionQRCode, ActionQRCode},
	{CapActionClientSecret, ActionClientSecret}, {CapActionInstructions, ActionInstructions},
}

// AvailableMethods lists the payment methods a buyer may choose for an
// order: the enabled gateways that can take a payment (they declare a
// buyer action), in the shop's order (shop.Settings.PaymentMethodOrder,
// then by id). Needs payment write or write:own, as Create. The plugin
// contract does not yet let a gateway declare the currencies, countries
// or amounts it accepts, so no gateway is left out for them. Refused
// as Create refuses: ORDER_ALREADY_PAID, ORDER_NOT_OPEN, ...
func (s *Service) AvailableMethods(ctx context.Context, orderID, accessToken string) ([]Method, error) {
	o, err := s.ownOrder(ctx, orderID, accessToken, authz.Write)
	if err != nil {
		return nil, err
	}
	if err := payable(o); err != nil {
		return nil, err
	}
	gws, err := s.gateways.Gateways(ctx)
	if err != nil {
		return nil, err
	}
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	out := []Method{}
	for _, gw := range gws {
		m := Method{GatewayID: gw.ID(), ManualCapture: gw.Supports(CapCaptureManual)}
		for _, c := range actionCaps {
			if gw.Supports(c.cap) {
				m.Actions = append(m.Actions, c.act)
			}
		}
		if len(m.Actions) > 0 {
			out = append(out, m)
		}
	}
	rank := func(id string) int {
		if i := slices.Index(set.PaymentMethodOrder, id); i >= 0 {
			return i
		}
		return len(set.PaymentMethodOrder)
	}
	slices.SortStableFunc(out, func(a, b Method) int {
		if d := rank(a.GatewayID) - rank(b.GatewayID); d != 0 {
			return d
		}
		return strings.Compare(a.GatewayID, b.GatewayID)
	})
	return out, nil
}
