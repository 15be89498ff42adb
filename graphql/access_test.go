package graphql_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/tax"
	"github.com/kassahq/kassa/graphql/resolver"
)

// withSettings adds to svc the shop settings, shipping, tax, order and
// cart services over db, asking az, as core/app builds them: every
// operation of the permission matrix then runs against its real service.
func withSettings(t testing.TB, db *store.DB, az authz.Authorizer, svc resolver.Services) resolver.Services {
	t.Helper()
	var err error
	if svc.Shop, err = shop.NewService(db, shop.Options{Authz: az, Outbox: &eventstest.Outbox{}, DefaultCurrency: money.USD}); err != nil {
		t.Fatal(err)
	}
	if svc.Shipping, err = shipping.NewService(db, shipping.Options{Authz: az}); err != nil {
		t.Fatal(err)
	}
	if svc.Tax, err = tax.NewService(db, tax.Options{Authz: az}); err != nil {
		t.Fatal(err)
	}
	if svc.Orders, err = order.NewService(db, order.Options{Authz: az, Outbox: &eventstest.Outbox{},
		Stock: catalog.NewReservations(db, catalog.ReservationsOptions{}), Settings: svc.Shop,
		Customers: app.OrderCustomers(svc.Accounts)}); err != nil {
		t.Fatal(err)
	}
	checkout, err := app.NewCheckout(db, app.CheckoutOptions{Authz: az, Orders: svc.Orders, Settings: &app.Settings{Shop: svc.Shop,
		ShippingRates: shipping.NewRates(db, shipping.RatesOptions{}), TaxRates: tax.NewRates(db, tax.RatesOptions{})}})
	if err != nil {
		t.Fatal(err)
	}
	svc.Carts, svc.RunInTx = checkout.Carts, db.RunInTx
	svc.Payments = newPayments(t, db, az, svc)
	return svc
}

// typeRef is an introspected type reference.
type typeRef struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	OfType *typeRef `json:"ofType"`
}

func (t *typeRef) String() string {
	switch t.Kind {
	case "NON_NULL":
		return t.OfType.String() + "!"
	case "LIST":
		return "[" + t.OfType.String() + "]"
	}
	return t.Name
}

func (t *typeRef) named() *typeRef {
	for t.OfType != nil {
		t = t.OfType
	}
	return t
}

type inputValue struct {
	Name         string   `json:"name"`
	Type         *typeRef `json:"type"`
	DefaultValue *string  `json:"defaultValue"`
}

type field struct {
	Name string       `json:"name"`
	Args []inputValue `json:"args"`
	Type *typeRef     `json:"type"`
}

type fullType struct {
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	Fields      []field      `json:"fields"`
	InputFields []inputValue `json:"inputFields"`
	EnumValues  []struct {
		Name string `json:"name"`
	} `json:"enumValues"`
}

const typeRefFragment = `kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`

// introspect returns every type of the schema by name.
func introspect(t *testing.T, e *accountsEnv) map[string]fullType {
	t.Helper()
	q := `{ __schema { types { kind name
		fields { name type { ` + typeRefFragment + ` } args { name defaultValue type { ` + typeRefFragment + ` } } }
		inputFields { name defaultValue type { ` + typeRefFragment + ` } }
		enumValues { name } } } }`
	res := e.srv.Exec(system(), graphqlRequest(q))
	if len(res.Errors) > 0 {
		t.Fatalf("introspection: %v", res.Errors[0].Message)
	}
	var data struct {
		Schema struct {
			Types []fullType `json:"types"`
		} `json:"__schema"`
	}
	if err := jsonUnmarshal(res.Data, &data); err != nil {
		t.Fatal(err)
	}
	out := map[string]fullType{}
	for _, ty := range data.Schema.Types {
		out[ty.Name] = ty
	}
	return out
}

// sample makes a value of type ref: required input fields only, dummy
// scalars. The values are valid GraphQL but meaningless to the services,
// which must refuse an unauthorized caller before looking at them.
func sample(types map[string]fullType, ref *typeRef) any {
	switch ref.Kind {
	case "NON_NULL":
		return sample(types, ref.OfType)
	case "LIST":
		return []any{sample(types, ref.OfType)}
	case "ENUM":
		return types[ref.Name].EnumValues[0].Name
	case "INPUT_OBJECT":
		obj := map[string]any{}
		for _, f := range types[ref.Name].InputFields {
			if f.Type.Kind == "NON_NULL" && f.DefaultValue == nil {
				obj[f.Name] = sample(types, f.Type)
			}
		}
		return obj
	}
	switch ref.Name {
	case "ID":
		return "zzz_01J00000000000000000000000"
	case "Int":
		return 1
	case "Float":
		return 1.5
	case "Boolean":
		return false
	case "DateTime":
		return "2024-01-01T00:00:00Z"
	case "JSON":
		return map[string]any{}
	}
	return "x"
}

// operationDoc builds a document calling one root field with sample
// arguments.
func operationDoc(types map[string]fullType, op string, f field) (string, map[string]any) {
	var decl, args []string
	vals := map[string]any{}
	for _, a := range f.Args {
		if a.Type.Kind != "NON_NULL" || a.DefaultValue != nil {
			continue
		}
		decl = append(decl, fmt.Sprintf("$%s: %s", a.Name, a.Type))
		args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
		vals[a.Name] = sample(types, a.Type)
	}
	doc := strings.ToLower(op)
	if len(decl) > 0 {
		doc += "(" + strings.Join(decl, ", ") + ")"
	}
	doc += " { " + f.Name
	if len(args) > 0 {
		doc += "(" + strings.Join(args, ", ") + ")"
	}
	switch types[f.Type.named().Name].Kind {
	case "OBJECT", "INTERFACE", "UNION":
		doc += " { __typename }"
	}
	return doc + " }", vals
}

// expectAllowed applies the matrix: public operations are open to every
// role; "act:own" operations are allowed to a role holding act or act:own.
func expectAllowed(t *testing.T, e *accountsEnv, role string, p resolver.Permission) bool {
	t.Helper()
	if p == (resolver.Permission{}) {
		return true
	}
	ok, err := e.enf.RoleAllows(role, authz.DefaultStore, p.Object, p.Action)
	if err != nil {
		t.Fatal(err)
	}
	if !ok && authz.IsOwn(p.Action) {
		ok, _ = e.enf.RoleAllows(role, authz.DefaultStore, p.Object, authz.Base(p.Action))
	}
	return ok
}

// roleSubjects makes one real caller per built-in role: a guest, a
// registered buyer, a staff member per staff role.
func roleSubjects(t *testing.T, e *accountsEnv) map[string]authz.Subject {
	t.Helper()
	ctx := system()
	subs := map[string]authz.Subject{authz.RoleAnonymous: authz.AnonymousSubject()}
	if err := e.acc.Register(ctx, account.Registration{Email: "buyer@example.com", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	c, _, err := e.acc.Login(ctx, "buyer@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	subs[authz.RoleCustomer] = authz.Subject{Kind: authz.KindCustomer, ID: c.ID, Roles: []string{authz.RoleCustomer}, Store: authz.DefaultStore}
	for _, role := range authz.StaffRoles() {
		email := role + "@staff.example.com"
		m, err := e.acc.CreateOwner(ctx, account.NewStaff{Email: email, Name: role, Password: "staff password " + role})
		if err != nil {
			t.Fatal(err)
		}
		roles := []string{role}
		if _, err := e.acc.UpdateStaff(ctx, m.ID, account.StaffUpdate{Roles: &roles}); err != nil {
			t.Fatalf("give %s its role: %v", role, err)
		}
		subs[role] = authz.Subject{Kind: authz.KindStaff, ID: m.ID, Roles: e.enf.RolesOf(m.ID, authz.DefaultStore), Store: authz.DefaultStore}
	}
	return subs
}

// TestEveryOperationAgainstEveryRole runs every Query, Mutation and Subscription field of
// the schema as every built-in role and compares the outcome with the
// permission matrix: an operation missing from resolver.Operations()
// fails, and so does one whose service lets a role through that the
// matrix denies, or refuses one it allows.
func TestEveryOperationAgainstEveryRole(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		types := introspect(t, e)
		ops := resolver.Operations()
		subs := roleSubjects(t, e)

		seen := map[string]bool{}
		type call struct {
			name string
			doc  string
			vars map[string]any
			perm resolver.Permission
		}
		var calls []call
		for _, root := range []string{"Query", "Mutation", "Subscription"} {
			for _, f := range types[root].Fields {
				name := root + "." + f.Name
				seen[name] = true
				perm, ok := ops[name]
				if !ok {
					t.Errorf("%s is not in resolver.Operations(): name the permission it needs", name)
					continue
				}
				doc, v := operationDoc(types, root, f)
				calls = append(calls, call{name, doc, v, perm})
			}
		}
		for name := range ops {
			if !seen[name] {
				t.Errorf("resolver.Operations() lists %s, which the schema does not have", name)
			}
		}
		sort.Slice(calls, func(i, j int) bool { return calls[i].name < calls[j].name })

		for _, role := range authz.BuiltinRoles() {
			sub := subs[role]
			for _, c := range calls {
				res := e.execOrSubscribe(sub, c.doc, c.vars)
				want := expectAllowed(t, e, role, c.perm)
				denied := res.has("FORBIDDEN") || res.has("UNAUTHENTICATED")
				switch {
				case want && denied:
					t.Errorf("%s as %s: refused (%v), the matrix allows it (%s:%s)", c.name, role, res.codes(), c.perm.Object, c.perm.Action)
				case !want && !denied:
					t.Errorf("%s as %s: allowed (codes %v), the matrix denies it (%s:%s)", c.name, role, res.codes(), c.perm.Object, c.perm.Action)
				case !want && role == authz.RoleAnonymous && !res.has("UNAUTHENTICATED"):
					t.Errorf("%s as a guest: %v, want UNAUTHENTICATED", c.name, res.codes())
				case !want && role != authz.RoleAnonymous && !res.has("FORBIDDEN"):
					t.Errorf("%s as %s: %v, want FORBIDDEN", c.name, role, res.codes())
				}
			}
		}
	})
}

// TestSensitiveFields checks the staff-only fields of Customer: the buyer
// reads their own profile but not the shop's note, tags and groups.
func TestSensitiveFields(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		subs := roleSubjects(t, e)
		buyer := subs[authz.RoleCustomer]
		for _, f := range []string{"note", "tags", "groups { id }"} {
			q := fmt.Sprintf(`query($id: ID!) { customer(id: $id) { id %s } }`, f)
			if res := e.exec(buyer, q, vars("id", buyer.ID)); !res.has("FORBIDDEN") {
				t.Errorf("buyer reads own %s: %v", f, res.codes())
			}
			if res := e.exec(subs[authz.RoleSupport], q, vars("id", buyer.ID)); len(res.codes()) > 0 || res.str("customer", "id") != buyer.ID {
				t.Errorf("support reads %s: %v", f, res.codes())
			}
		}
		if res := e.exec(buyer, `{ me { id email } }`, nil); res.str("me", "id") != buyer.ID {
			t.Errorf("buyer reads own profile: %v %v", res.codes(), res.Data)
		}
		// Another buyer's record does not exist for a buyer.
		if res := e.exec(buyer, `query($id: ID!) { customer(id: $id) { id } }`, vars("id", "cus_01J00000000000000000000000")); res.get("customer") != nil || len(res.codes()) > 0 {
			t.Errorf("buyer reads someone else: %v %v", res.codes(), res.Data)
		}
	})
}

// TestShopSettingsFields checks the two halves of shopSettings: every role,
// guests included, reads the currencies and whether prices include tax;
// only roles holding settings:read read the rest, the others get the
// public half and an error naming each staff-only field.
func TestShopSettingsFields(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		subs := roleSubjects(t, e)
		read := resolver.Permission{Object: authz.Settings, Action: authz.Read}
		for _, role := range authz.BuiltinRoles() {
			sub := subs[role]
			res := e.exec(sub, `{ shopSettings { currencies defaultCurrency pricesIncludeTax } }`, nil)
			if len(res.codes()) > 0 || res.str("shopSettings", "defaultCurrency") != "USD" || res.get("shopSettings", "pricesIncludeTax") != false {
				t.Errorf("%s reads the public settings: %v %v", role, res.codes(), res.Data)
			}
			allowed := expectAllowed(t, e, role, read)
			for _, f := range []string{"paymentDeadlineSeconds", "reminderLeadSeconds", "orderNumberPrefix", "lineQuantityLimit", "unpaidOrdersPerBuyer", "updatedAt"} {
				res := e.exec(sub, `{ shopSettings { defaultCurrency `+f+` } }`, nil)
				switch {
				case allowed && len(res.codes()) > 0:
					t.Errorf("%s reads %s: %v", role, f, res.codes())
				case allowed && f != "updatedAt" && res.get("shopSettings", f) == nil:
					t.Errorf("%s reads %s as null", role, f)
				case !allowed && role == authz.RoleAnonymous && !res.has("UNAUTHENTICATED"):
					t.Errorf("a guest reads %s: %v %v", f, res.codes(), res.Data)
				case !allowed && role != authz.RoleAnonymous && !res.has("FORBIDDEN"):
					t.Errorf("%s reads %s: %v %v", role, f, res.codes(), res.Data)
				case !allowed && (res.get("shopSettings", f) != nil || res.str("shopSettings", "defaultCurrency") != "USD"):
					t.Errorf("%s refused %s gets %v", role, f, res.Data)
				}
			}
		}
	})
}
