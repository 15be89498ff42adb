package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/notify"
)

// DataAccess is a kind of shop data a plugin receives because of its kind
// or one of its capabilities, and the permissions a staff member needs to
// decide where it goes.
type DataAccess struct {
	// Kind is the plugin kind this applies to; empty for any kind.
	Kind Kind
	// Capability is the capability this applies to; empty for the whole
	// kind.
	Capability string
	// Carries says what the plugin receives, for messages and docs.
	Carries string
	// Needs are the permissions needed, beyond plugin:write, to install,
	// enable or configure such a plugin.
	Needs []authz.Permission
}

func need(obj authz.Object, act authz.Action) authz.Permission {
	return authz.Permission{Object: obj, Action: act}
}

// dataAccess is the one table of what each plugin kind and capability
// forwards. Whoever points a plugin somewhere (settings are where its data
// goes) must be allowed to see what it forwards: otherwise plugin:write
// alone would read customers through a webhook URL of one's own.
// docs/permissions.md and docs/plugins.md describe it; a test keeps them
// in step.
var dataAccess = []DataAccess{
	{Kind: KindPayment, Carries: "orders, buyers' names and addresses, and the shop's payments (its settings decide where money goes)",
		Needs: []authz.Permission{need(authz.Order, authz.Read), need(authz.Customer, authz.Read), need(authz.Payment, authz.Write)}},
	{Kind: KindInvoice, Carries: "orders and buyers' names, addresses and tax ids",
		Needs: []authz.Permission{need(authz.Order, authz.Read), need(authz.Customer, authz.Read)}},
	// Account messages hold sign-in links (password resets, invitations)
	// of buyers and staff: whoever controls the channel can use them.
	{Kind: KindNotify, Capability: notify.CapPersonal, Carries: "buyers' and staff members' email addresses, names and sign-in links",
		Needs: []authz.Permission{need(authz.Customer, authz.Read), need(authz.Customer, authz.Write), need(authz.Staff, authz.Read), need(authz.Staff, authz.Write)}},
	// The objects of every event type notify.Dispatcher forwards.
	{Kind: KindNotify, Capability: notify.CapMerchantEvents, Carries: "the shop's event feed: customers, staff, API keys, catalog, orders, payments, refunds, returns and invoices",
		Needs: []authz.Permission{
			need(authz.Customer, authz.Read), need(authz.Staff, authz.Read), need(authz.APIKey, authz.Read),
			need(authz.Product, authz.Read), need(authz.Collection, authz.Read), need(authz.Inventory, authz.Read),
			need(authz.Order, authz.Read), need(authz.Payment, authz.Read), need(authz.Refund, authz.Read), need(authz.Return, authz.Read),
		}},
}

// DataAccessTable returns the table of what plugins forward and the
// permissions that takes, for documentation and the admin.
func DataAccessTable() []DataAccess {
	out := slices.Clone(dataAccess)
	for i := range out {
		out[i].Needs = slices.Clone(out[i].Needs)
	}
	return out
}

// RequiredPermissions returns the permissions, beyond plugin:write, needed
// to install, enable or configure a plugin of kind with caps, in table
// order without duplicates.
func RequiredPermissions(kind Kind, caps []string) []authz.Permission {
	var out []authz.Permission
	for _, d := range applicable(kind, caps) {
		for _, p := range d.Needs {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func applicable(kind Kind, caps []string) []DataAccess {
	var out []DataAccess
	for _, d := range dataAccess {
		if (d.Kind == "" || d.Kind == kind) && (d.Capability == "" || slices.Contains(caps, d.Capability)) {
			out = append(out, d)
		}
	}
	return out
}

// checkDataAccess refuses, with FORBIDDEN naming every missing permission,
// a caller who may not see what the plugin forwards. verb says what the
// caller tried ("configure").
func (s *Service) checkDataAccess(ctx context.Context, verb, id string, kind Kind, caps []string) error {
	var missing []string
	for _, p := range RequiredPermissions(kind, caps) {
		err := s.authz.Can(ctx, p.Object, p.Action)
		switch {
		case err == nil:
		case errors.Is(err, errs.ErrForbidden):
			missing = append(missing, p.String())
		default:
			return err
		}
	}
	if missing == nil {
		return nil
	}
	var carries []string
	for _, d := range applicable(kind, caps) {
		carries = append(carries, d.Carries)
	}
	return errs.Forbidden("FORBIDDEN", fmt.Sprintf(
		"not allowed to %s plugin %s: it receives %s, so it also needs %s, which you do not hold",
		verb, id, strings.Join(carries, "; "), strings.Join(missing, ", ")))
}
