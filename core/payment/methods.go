package payment

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/kassahq/kassa/core/authz"
)

// actionCap is an action capability and the action it allows.
type actionCap struct {
	cap string
	act ActionType
}

// actionCaps maps the action capabilities to the actions.
var actionCaps = []actionCap{
	{CapActionNone, ActionNone}, {CapActionRedirect, ActionRedirect}, {CapActionQRCode, ActionQRCode},
	{CapActionClientSecret, ActionClientSecret}, {CapActionInstructions, ActionInstructions},
}

// AvailableMethods lists the payment methods a buyer may choose for an
// order: the enabled gateways that can take a payment (they declare a
// buyer action), in the shop's order (shop.Settings.PaymentMethodOrder,
// then by id). A gateway named by the shop's routes is not listed by
// itself: each routed method is, once, with the first gateway it goes
// to for this order, when one matches (routing.go); its actions are
// those of every gateway it may fail over to, and it offers manual
// capture when all of them do. Needs payment write or write:own, as
// Create. The plugin
// contract does not yet let a gateway declare the currencies, countries
// or amounts it accepts, so no gateway is left out for them. A
// PARTIALLY_PAID order has them for the rest it owes. Refused as Create
// refuses: ORDER_ALREADY_PAID, ORDER_NOT_OPEN, ...
func (s *Service) AvailableMethods(ctx context.Context, orderID, accessToken string) ([]Method, error) {
	o, err := s.ownOrder(ctx, orderID, accessToken, authz.Write)
	if err != nil {
		return nil, err
	}
	if err := payable(o, s.now()); err != nil {
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
	routes, err := s.store.Routes(ctx, "")
	if err != nil {
		return nil, err
	}
	routed := map[string]bool{}
	var methods []string
	for _, r := range routes {
		routed[r.GatewayID] = true
		if !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	out := []Method{}
	for _, method := range methods {
		cands, err := s.routedGateways(ctx, method, o)
		if err != nil {
			return nil, err
		}
		m := Method{Method: method, ManualCapture: len(cands) > 0}
		for _, gw := range cands {
			m.ManualCapture = m.ManualCapture && gw.Supports(CapCaptureManual)
			for _, c := range actionCaps {
				if gw.Supports(c.cap) && !slices.Contains(m.Actions, c.act) {
					m.Actions = append(m.Actions, c.act)
				}
			}
			if m.GatewayID == "" && slices.ContainsFunc(actionCaps, func(c actionCap) bool { return gw.Supports(c.cap) }) {
				m.GatewayID = gw.ID()
			}
		}
		if m.GatewayID != "" {
			slices.SortFunc(m.Actions, func(a, b ActionType) int { return actionRank(a) - actionRank(b) })
			out = append(out, m)
		}
	}
	for _, gw := range gws {
		if routed[gw.ID()] {
			continue
		}
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
	rank := func(m Method) int {
		for _, k := range []string{m.Method, m.GatewayID} {
			if i := slices.Index(set.PaymentMethodOrder, k); k != "" && i >= 0 {
				return i
			}
		}
		return len(set.PaymentMethodOrder)
	}
	key := func(m Method) string { return cmp.Or(m.Method, m.GatewayID) }
	slices.SortStableFunc(out, func(a, b Method) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(key(a), key(b))
	})
	return out, nil
}

// actionRank orders actions as actionCaps does.
func actionRank(a ActionType) int {
	return slices.IndexFunc(actionCaps, func(c actionCap) bool { return c.act == a })
}
