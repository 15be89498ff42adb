package plugin

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/notify"
)

// defaultRoles answers like the default policy for the subject's roles.
type defaultRoles struct{}

func (defaultRoles) Can(ctx context.Context, obj authz.Object, act authz.Action) error {
	s := authz.SubjectFrom(ctx)
	if s.IsSystem() {
		return nil
	}
	for _, r := range s.Roles {
		if authz.DefaultAllows(r, authz.Permission{Object: obj, Action: act}) {
			return nil
		}
	}
	return authz.Denied(s, obj, act)
}

func as(role string) context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "stf_" + role, Roles: []string{role}})
}

// TestDataAccessByRole pins who may point which plugin somewhere, with
// the default roles: the developer (plugin:write, no customer:read) may
// not configure what forwards personal data or the event feed.
func TestDataAccessByRole(t *testing.T) {
	t.Parallel()
	s := &Service{authz: defaultRoles{}}
	type scope struct {
		kind Kind
		caps []string
	}
	scopes := map[string]scope{
		"webhook": {KindNotify, []string{notify.CapMerchantEvents}},
		"email":   {KindNotify, []string{notify.CapPersonal}},
		"gateway": {KindPayment, nil},
		"invoice": {KindInvoice, nil},
		"plain":   {KindNotify, nil},
	}
	tests := []struct {
		role, scope string
		missing     string // "" when allowed; else a permission the message must name
	}{
		{"owner", "webhook", ""}, {"owner", "email", ""}, {"owner", "gateway", ""}, {"owner", "invoice", ""},
		{"developer", "webhook", "customer:read"},
		{"developer", "email", "customer:read"},
		{"developer", "gateway", "payment:write"},
		{"developer", "invoice", "customer:read"},
		{"developer", "plain", ""},
		{"manager", "webhook", "apikey:read"},
		{"manager", "email", "staff:write"},
		{"manager", "invoice", ""},
		{"finance", "gateway", ""},
		{"support", "gateway", "payment:write"},
	}
	for _, tt := range tests {
		sc := scopes[tt.scope]
		err := s.checkDataAccess(as(tt.role), "configure", "x."+tt.scope, sc.kind, sc.caps)
		if tt.missing == "" {
			if err != nil {
				t.Errorf("%s configures %s: %v, want allowed", tt.role, tt.scope, err)
			}
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) || !errors.Is(err, errs.ErrForbidden) || e.Code != "FORBIDDEN" || !strings.Contains(e.Message, tt.missing) {
			t.Errorf("%s configures %s: %v, want FORBIDDEN naming %s", tt.role, tt.scope, err, tt.missing)
		}
	}
}

// TestDeveloperCannotRedirectGateway reproduces the attack of issue 7 on
// the service: plugin:write alone no longer points a plugin that sees
// buyers and money somewhere; nothing changes; disabling stays allowed.
func TestDeveloperCannotRedirectGateway(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t, func(o *Options) { o.Authz = defaultRoles{} })
	before := e.installEnabled(t, "")
	dev := as("developer")

	_, err := e.svc.UpdateSettings(dev, testID, []byte(`{"mode":"live","callback_url":"https://attacker.example/"}`))
	if !errors.Is(err, errs.ErrForbidden) || !strings.Contains(err.Error(), "payment:write") {
		t.Fatalf("UpdateSettings as developer = %v, want FORBIDDEN naming payment:write", err)
	}
	if _, err := e.svc.Enable(dev, testID); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("Enable as developer = %v, want FORBIDDEN", err)
	}
	if _, err := e.svc.Install(dev, gatewayBinV2, InstallOptions{Replace: true}); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("Install as developer = %v, want FORBIDDEN", err)
	}
	after, err := e.svc.Get(dev, testID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Revision != before.Revision || string(after.Settings) != string(before.Settings) || after.Version != before.Version {
		t.Fatalf("plugin changed: %+v -> %+v", before, after)
	}
	if _, err := e.svc.Disable(dev, testID); err != nil {
		t.Fatalf("Disable as developer: %v", err)
	}
	if _, err := e.svc.UpdateSettings(as("owner"), testID, []byte(`{"mode":"live"}`)); err != nil {
		t.Fatalf("owner: %v", err)
	}
}

// TestDocsNameDataPermissions keeps docs/permissions.md and docs/plugins.md
// in step with the table.
func TestDocsNameDataPermissions(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"../../docs/permissions.md", "../../docs/plugins.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range DataAccessTable() {
			for _, p := range d.Needs {
				if !strings.Contains(string(b), "`"+p.String()+"`") {
					t.Errorf("%s does not name `%s` (needed for %s %s)", doc, p, d.Kind, d.Capability)
				}
			}
		}
		if !strings.Contains(string(b), "KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS") {
			t.Errorf("%s does not mention KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS", doc)
		}
	}
}
