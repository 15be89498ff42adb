package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/httpauth"
)

// TestAttacks replays every attack of issue 7 (security hardening) the
// way the outside reviewer ran it: against a whole Kassa served over
// HTTP, on SQLite and on PostgreSQL. Each row asserts the defended
// outcome and that the attack changed nothing. The focused tests named in
// the rows cover the variants; this table keeps the original attacks.
func TestAttacks(t *testing.T) {
	webhookBin := buildNotifyWebhook(t)
	attacks := []struct {
		name string
		run  func(t *testing.T, ta *testkit.TestApp)
	}{
		// Item 1: a cross-site link runs a mutation through GET.
		{"1 GET block string smuggles a mutation", attackGETMutation},
		// Item 2: staffEnable re-enables anyone.
		{"2 staff:write re-enables a removed co-owner", attackStaffEnable},
		// Item 3: plugin settings reach data and addresses the role may not.
		{"3 plugin settings exfiltration and SSRF", func(t *testing.T, ta *testkit.TestApp) { attackPluginSettings(t, ta, webhookBin) }},
		// Item 4: anonymous cost amplification.
		{"4 anonymous batch of 2850 product pages", attackCostBatch},
		{"4 repeated expensive anonymous requests", attackRateLimit},
		// Item 5: NUL bytes.
		{"5 NUL bytes in anonymous input", attackNUL},
		// Item 6: two `kassa serve` on one data directory.
		{"6 second lock on one data directory", attackDataDirLock},
		// Item 7: API keys outlive their creator.
		{"7 API keys of a disabled developer", attackAPIKeys},
		// Item 8 (low).
		{"8 security headers on /graphql", attackSecurityHeaders},
		// Item 8, "Did you mean" in production: testkit builds development
		// apps, so TestNoSuggestionsInProduction (limits_test.go) replays it.
		{"8 list literal to a String argument", attackListLiteral},
		{"8 erased buyer's email in the outbox", attackEraseOutbox},
		{"8 stock past the bound", attackStockBound},
		{"8 kassa.db readable by others", attackDBFileMode},
		{"8 plugin page on the shop's origin", attackPluginPage},
		// Issue 9: the staff's settings, shipping zones and tax rates.
		{"9 settings refused to other roles, guests and GET", attackSettingsAccess},
		{"9 settings input with control characters, huge values and lists", attackSettingsInput},
		// Issue 9: orders.
		{"9 orders refused to other roles, other buyers, guests and GET", attackOrderAccess},
		{"9 order input with control characters, huge values and lists", attackOrderInput},
		// Issue 9: carts and checkout (cart_test.go).
		{"9 carts refused to other buyers, guests, GET and cookie POSTs without CSRF", attackCartAccess},
		{"9 cart input with control characters, huge quantities, lists and keys", attackCartInput},
		// Review of 2026-12-07: nodes(ids:) priced as one field.
		{"review nodes fan-out priced per id", attackNodesFanOut},
	}
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		for _, a := range attacks {
			t.Run(a.name, func(t *testing.T) { a.run(t, ta) })
		}
	})
}

// onApp points the accounts helpers (secStaff, browser, api, client.do)
// at a whole app served over HTTP: a client reads only e.http.URL, and
// staff are created through the app's own accounts service.
func onApp(t *testing.T, ta *testkit.TestApp) *accountsEnv {
	return &accountsEnv{t: t, db: ta.DB, enf: ta.Accounts.Enforcer, acc: ta.Accounts.Service, srv: ta.GraphQL,
		http: &httptest.Server{URL: ta.URL}}
}

// fromAddress is an anonymous HTTP client whose connections leave from
// the loopback address ip: one outsider with a rate-limit bucket of its
// own, whatever the other rows spent.
func fromAddress(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// postRaw sends a JSON body to /graphql with the CSRF header and returns
// the answer as sent.
func postRaw(t *testing.T, c *http.Client, ta *testkit.TestApp, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ta.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpauth.CSRFHeader, "1")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func buildNotifyWebhook(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "notify-webhook")
	cmd := exec.Command("go", "build", "-o", bin, "../plugins/notify-webhook")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build notify-webhook: %v\n%s", err, out)
	}
	return bin
}

// Item 1 (TestGETCannotRunAMutation): with an owner's cookie, the
// reviewer's GET ran staffInvite(roles: ["owner"]).
func attackGETMutation(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga1@shop.example", authz.RoleOwner)
	u := ta.URL + "/graphql?" + url.Values{"query": {attackGET}, "operationName": {"M"}}.Encode()
	resp, err := owner.http.Get(u) // the cookie travels, no CSRF header: a link
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET ran: status %d %s", resp.StatusCode, body)
	}
	res := must(t, owner.do(`{ staffInvitations { email roles } }`, nil))
	if list, _ := res.get("staffInvitations").([]any); len(list) != 0 {
		t.Fatalf("a GET invited someone: %v", list)
	}
}

// Item 2 (TestStaffAccessNeedsEveryRoleOfTheMember): a custom role with
// staff:write brought a removed co-owner back.
func attackStaffEnable(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga2@shop.example", authz.RoleOwner)
	coOwnerID, _ := secStaff(t, e, "oskar2@shop.example", authz.RoleOwner)
	must(t, owner.do(`mutation($input: RoleCreateInput!) { roleCreate(input: $input) { role { name } userErrors { code } } }`,
		in("name", "staffadmin", "permissions", []string{"staff:read", "staff:write"})))
	_, admin := secStaff(t, e, "hana2@shop.example", "staffadmin")
	must(t, owner.do(secDisable, in("id", coOwnerID)))

	if res := admin.do(secEnable, in("id", coOwnerID)); !res.has("ROLE_NOT_HELD") {
		t.Fatalf("staffadmin enables a disabled owner: %v", res.codes())
	}
	if s := must(t, owner.do(secStatus, vars("id", coOwnerID))).str("staffMember", "status"); s != "DISABLED" {
		t.Fatalf("co-owner is %s", s)
	}
	if res := e.browser().do(secStaffLogin, in("email", "oskar2@shop.example", "password", "passphrase of oskar2@shop.example")); !res.has("INVALID_CREDENTIALS") {
		t.Fatalf("removed co-owner signs in: %v", res.codes())
	}
}

// Item 3 (graphql/resolver.TestPluginSettingsAttack): the developer
// pointed notify-webhook at its own URL and received buyers' data; loopback
// and link-local addresses were accepted. Validation only: nothing is ever
// sent to these addresses.
func attackPluginSettings(t *testing.T, ta *testkit.TestApp, bin string) {
	if _, err := ta.Plugins.Install(system(), bin, plugin.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga3@shop.example", authz.RoleOwner)
	_, dev := secStaff(t, e, "dora3@shop.example", authz.RoleDeveloper)
	const update = `mutation($s: JSON!) { pluginSettingsUpdate(input: {id: "notify.webhook", settings: $s}) {
		plugin { settings } userErrors { field code } } }`
	settings := func(url string) map[string]any {
		return vars("s", vars(
			"endpoints", []any{vars("name", "mine", "url", url)},
			"signing_secrets", vars("mine", "whsec_attacker_0123456789")))
	}
	unchanged := func() {
		t.Helper()
		p, err := ta.Plugins.Get(system(), "notify.webhook")
		if err != nil {
			t.Fatal(err)
		}
		if string(p.Settings) != "{}" || p.Enabled {
			t.Fatalf("the plugin changed: settings %s enabled %v", p.Settings, p.Enabled)
		}
	}

	if res := dev.do(update, settings("https://attacker.example/collect")); !res.has("FORBIDDEN") || res.get("pluginSettingsUpdate") != nil {
		t.Fatalf("developer points the webhook at itself: %v %v", res.codes(), res.Data)
	}
	unchanged()
	for _, u := range []string{"http://127.0.0.1:1/", "http://169.254.169.254/"} {
		res := owner.do(update, settings(u))
		field, _ := res.get("pluginSettingsUpdate", "userErrors", "0", "field").([]any)
		if !res.has(plugin.CodePrivateNetwork) || res.get("pluginSettingsUpdate", "plugin") != nil || len(field) == 0 {
			t.Fatalf("owner points the webhook at %s: %v %v", u, res.codes(), res.Data)
		}
		unchanged()
	}
}

// Item 4 (TestCostBudget): one 258 KB anonymous POST, 10 documents of
// 285 aliases of products(first: 100), took 28 s and answered 38 MB.
func attackCostBatch(t *testing.T, ta *testkit.TestApp) {
	batch := make([]graphql.Request, 10)
	for i := range batch {
		batch[i] = graphql.Request{Query: attackDocument(i)}
	}
	resp, body := postRaw(t, fromAddress(t, "127.0.0.2"), ta, []byte(testkit.EncodeJSON(t, batch)))
	var out []struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out) != 10 {
		t.Fatalf("status %d, %d answers, %.300s: %v", resp.StatusCode, len(out), body, err)
	}
	for _, r := range out {
		if r.Data != nil || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "QUERY_TOO_COMPLEX" ||
			!strings.Contains(r.Errors[0].Message, "exceeds the budget of") {
			t.Fatalf("answer %+v", r)
		}
	}
	if len(body) > 4096 {
		t.Fatalf("the refusal takes %d bytes", len(body))
	}
}

// Item 4 (TestRateLimit): three such POSTs at once slowed everyone down.
// Documents just under the per-document budget (16 x 601 = 9616 points),
// with fresh alias names each time as the reviewer's were (a cached answer
// costs nothing), against the default bucket (graphql.DefaultRateLimit:
// two such documents at once): the third is refused unless the bucket
// refilled between requests; more tries only make the refusal surer.
func attackRateLimit(t *testing.T, ta *testkit.TestApp) {
	doc := func(salt int) []byte {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < 16; i++ {
			fmt.Fprintf(&b, " r%dp%d: %s", salt, i, productsAlias)
		}
		b.WriteString(" }")
		return []byte(testkit.EncodeJSON(t, graphql.Request{Query: b.String()}))
	}
	c := fromAddress(t, "127.0.0.3")
	if resp, out := postRaw(t, c, ta, doc(0)); resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) {
		t.Fatalf("first expensive request: %d %.300s", resp.StatusCode, out)
	}
	for i := 1; i <= 10; i++ {
		resp, out := postRaw(t, c, ta, doc(i))
		if resp.StatusCode == http.StatusOK {
			continue
		}
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !bytes.Contains(out, []byte(`"code":"TOO_MANY_REQUESTS"`)) {
			t.Fatalf("status %d Retry-After %q %.300s", resp.StatusCode, resp.Header.Get("Retry-After"), out)
		}
		return
	}
	t.Fatal("eleven expensive anonymous requests in a row were all served")
}

// Item 5 (TestControlCharactersRefused, TestNULEmailSameAnswerForTakenAndFree):
// NULs reached the database: INTERNAL, an ERROR log line, and a different
// registration answer for a taken and a free address.
func attackNUL(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	guest := e.browser()
	noInternal := func(what string, res gqlResult) {
		t.Helper()
		if !res.has(graphql.CodeInvalidCharacters) || res.has("INTERNAL") {
			t.Fatalf("%s: %v %v", what, res.codes(), res.Data)
		}
	}
	noInternal("products search", guest.do(`{ products(query: "\u0000") { nodes { id } } }`, nil))
	noInternal("product handle", guest.do(`{ product(handle: "a\u0000") { id } }`, nil))

	must(t, guest.do(registerOp, in("email", "taken5@example.com", "password", "taken person passphrase")))
	taken := guest.do(registerOp, in("email", "taken5\x00@example.com", "password", "someone's long passphrase"))
	free := guest.do(registerOp, in("email", "free5\x00@example.com", "password", "someone's long passphrase"))
	noInternal("register a taken address", taken)
	noInternal("register a free address", free)
	if a, b := testkit.EncodeJSON(t, taken.Data)+testkit.EncodeJSON(t, taken.Errors), testkit.EncodeJSON(t, free.Data)+testkit.EncodeJSON(t, free.Errors); a != b || taken.status != free.status {
		t.Fatalf("taken and free answer differently:\n%s\n%s", a, b)
	}
	n, err := ta.DB.NewSelect().Table("customers").Where("email LIKE ?", "%free5%").Count(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("refused registration stored %d customers (%v)", n, err)
	}
}

// Item 6 (e2e/datadir_lock_test.go runs two real processes): the lock a
// serving process holds on its data directory refuses a second holder at
// once, naming the first.
func attackDataDirLock(t *testing.T, _ *testkit.TestApp) {
	path := filepath.Join(t.TempDir(), "kassa.lock")
	unlock, err := store.TryLock(path, "pid 1111, http 127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = store.TryLock(path, "pid 2222, http 127.0.0.1:8081")
	var locked *store.LockedError
	if !errors.Is(err, store.ErrLocked) || !errors.As(err, &locked) || !strings.Contains(err.Error(), "pid 1111") {
		t.Fatalf("second TryLock = %v, want ErrLocked naming pid 1111", err)
	}
}

// Item 7 (TestAPIKeysAnswerToTheirStaffMember): a disabled developer's key
// kept working and minted keys.
func attackAPIKeys(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga7@shop.example", authz.RoleOwner)
	devID, dev := secStaff(t, e, "dora7@shop.example", authz.RoleDeveloper)
	secret := must(t, dev.do(secKeyCreate, in("name", "sync", "role", authz.RoleDeveloper))).str("apiKeyCreate", "secret")
	key := e.api(secret)
	keys := func() int {
		t.Helper()
		list, _ := must(t, owner.do(`{ apiKeys { nodes { id } } }`, nil)).get("apiKeys", "nodes").([]any)
		return len(list)
	}
	before := keys()
	if res := key.do(secKeyCreate, in("name", "escalate", "role", authz.RoleOwner)); !res.has("ROLE_NOT_HELD") || res.str("apiKeyCreate", "secret") != "" {
		t.Fatalf("developer key makes an owner key: %v", res.codes())
	}
	if keys() != before {
		t.Fatal("a refused key was created")
	}
	must(t, owner.do(secDisable, in("id", devID)))
	if res := key.do(`{ viewer { kind } }`, nil); res.status != http.StatusUnauthorized || !res.has("UNAUTHENTICATED") {
		t.Fatalf("key of a disabled developer: %d %v", res.status, res.codes())
	}
}

// Item 8 (core/app.TestSecurityHeaders): no security headers.
func attackSecurityHeaders(t *testing.T, ta *testkit.TestApp) {
	resp, body := postRaw(t, http.DefaultClient, ta, []byte(`{"query":"{ serverVersion }"}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
		"X-Frame-Options":        "DENY",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q allows framing", csp)
	}
}

// Item 8 (TestValueShapes): a list literal to a String argument answered
// a 16 KB Go value dump for a 2 KB document.
func attackListLiteral(t *testing.T, ta *testkit.TestApp) {
	nested := strings.Repeat("[", 60) + strings.Repeat("]", 60)
	doc := `{ product(handle: [` + strings.TrimSuffix(strings.Repeat(nested+",", 16), ",") + `]) { id } }`
	_, body := postRaw(t, http.DefaultClient, ta, []byte(testkit.EncodeJSON(t, graphql.Request{Query: doc})))
	if len(body) >= 512 || !bytes.Contains(body, []byte("GRAPHQL_VALIDATION_FAILED")) || bytes.Contains(body, []byte("interface")) {
		t.Fatalf("answer of %d bytes to a document of %d: %s", len(body), len(doc), body)
	}
}

// Item 8 (TestEraseRedactsTheOutbox): after customerErase the buyer's
// email stayed in outbox_events.
func attackEraseOutbox(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	buyer := e.browser()
	const email, password = "zoe8.secret@example.com", "zoe's long passphrase"
	must(t, buyer.do(registerOp, in("email", email, "password", password, "firstName", "Zoezoe")))
	must(t, buyer.do(loginOp, in("email", email, "password", password)))
	outbox := func() []outboxText {
		t.Helper()
		var rows []outboxText
		if err := ta.DB.NewSelect().Table("outbox_events").Column("id", "subject", "payload", "headers", "actor", "sent_at", "last_error").
			Scan(context.Background(), &rows); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	// The email is there before the erasure: the check below means something.
	mentions := 0
	for _, r := range outbox() {
		if strings.Contains(r.text(), email) {
			mentions++
		}
	}
	if mentions == 0 {
		t.Fatal("the buyer's email is not in the outbox before the erasure")
	}
	must(t, buyer.do(`mutation($input: CustomerEraseInput!) { customerErase(input: $input) { userErrors { code } } }`, in("password", password)))
	for _, r := range outbox() {
		if strings.Contains(r.text(), email) {
			t.Fatalf("the erased buyer's email is in %s (%s)", r.ID, r.Subject)
		}
	}
}

// Item 8 (core/catalog.TestStockOnHandIsBounded): stock grew past 2^31-1
// in the database while GraphQL clamped it.
func attackStockBound(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga8@shop.example", authz.RoleOwner)
	res := must(t, owner.do(`mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { variants { id } } userErrors { code } } }`,
		in("title", "Bottomless tea")))
	variant := res.str("productCreate", "product", "variants", "0", "id")
	const adjust = `mutation($input: InventoryAdjustInput!) { inventoryAdjust(input: $input) { inventory { onHand } userErrors { field code } } }`
	onHand := func() any {
		t.Helper()
		return must(t, owner.do(`query($id: ID!) { node(id: $id) { ... on ProductVariant { inventory { onHand } } } }`, vars("id", variant))).get("node", "inventory", "onHand")
	}
	must(t, owner.do(adjust, in("variantId", variant, "delta", 1_000_000_000, "reason", "RECEIVED")))
	if got := onHand(); got != float64(1_000_000_000) {
		t.Fatalf("on hand %v after stocking to the bound", got)
	}
	for _, delta := range []int{1, 2_000_000_000} {
		if res := owner.do(adjust, in("variantId", variant, "delta", delta, "reason", "RECEIVED")); !res.has("INVALID_QUANTITY") {
			t.Fatalf("delta %d past the bound: %v %v", delta, res.codes(), res.Data)
		}
	}
	if got := onHand(); got != float64(1_000_000_000) {
		t.Fatalf("on hand %v after refused adjustments", got)
	}
}

// Item 8 (core/store.TestSQLiteFilesArePrivate): kassa.db was created
// 0644. The test app's SQLite file lives outside its data directory, so
// the file is created here the way `kassa serve` creates it.
func attackDBFileMode(t *testing.T, _ *testkit.TestApp) {
	path := filepath.Join(t.TempDir(), "kassa.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE mode_probe (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Fatalf("kassa.db has mode %v, want 0600", m)
	}
}

// Item 8: plugin pages ran on the shop's origin. Only an enabled plugin
// that serves pages answers under /plugins/ (none here: the installed
// notify-webhook is disabled); the sandboxing CSP is covered by
// core/plugin.TestHTTPHandler. Here: a page of a plugin that is not
// serving is not found, and carries the security headers all the same.
func attackPluginPage(t *testing.T, ta *testkit.TestApp) {
	resp, err := http.Get(ta.URL + "/plugins/notify.webhook/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
}

// settingsOps are the settings mutations with inputs that would succeed
// for the owner, and the settings reads.
var settingsOps = []struct {
	name, doc string
	vars      map[string]any
}{
	{"shopSettingsUpdate", `mutation($input: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $input) { shopSettings { lineQuantityLimit } userErrors { code } } }`,
		in("lineQuantityLimit", 1, "currencies", []string{"EUR"}, "paymentCaptureMode", "MANUAL", "storefrontOrigins", []string{"https://evil.example"})},
	{"shippingZoneCreate", `mutation($input: ShippingZoneCreateInput!) { shippingZoneCreate(input: $input) { shippingZone { id } userErrors { code } } }`,
		in("name", "Mallory's zone", "countries", []string{"CN"})},
	{"shippingZoneUpdate", `mutation($input: ShippingZoneUpdateInput!) { shippingZoneUpdate(input: $input) { shippingZone { id } userErrors { code } } }`,
		in("id", "ZONE", "name", "Renamed")},
	{"shippingZoneDelete", `mutation($input: ShippingZoneDeleteInput!) { shippingZoneDelete(input: $input) { deletedShippingZoneId userErrors { code } } }`,
		in("id", "ZONE")},
	{"shippingMethodCreate", `mutation($input: ShippingMethodCreateInput!) { shippingMethodCreate(input: $input) { shippingMethod { id } userErrors { code } } }`,
		in("zoneId", "ZONE", "name", "Free", "kind", "FLAT", "prices", []any{vars("currencyCode", "CNY", "amount", "0")})},
	{"shippingMethodUpdate", `mutation($input: ShippingMethodUpdateInput!) { shippingMethodUpdate(input: $input) { shippingMethod { id } userErrors { code } } }`,
		in("id", "METHOD", "prices", []any{vars("currencyCode", "CNY", "amount", "0")})},
	{"shippingMethodDelete", `mutation($input: ShippingMethodDeleteInput!) { shippingMethodDelete(input: $input) { deletedShippingMethodId userErrors { code } } }`,
		in("id", "METHOD")},
	{"taxRateCreate", `mutation($input: TaxRateCreateInput!) { taxRateCreate(input: $input) { taxRate { id } userErrors { code } } }`,
		in("country", "US", "name", "None", "basisPoints", 0)},
	{"taxRateUpdate", `mutation($input: TaxRateUpdateInput!) { taxRateUpdate(input: $input) { taxRate { id } userErrors { code } } }`,
		in("id", "RATE", "basisPoints", 0)},
	{"taxRateDelete", `mutation($input: TaxRateDeleteInput!) { taxRateDelete(input: $input) { deletedTaxRateId userErrors { code } } }`,
		in("id", "RATE")},
	{"shippingZones", `{ shippingZones { id name methods { id name prices { amount { amount } } } } }`, nil},
	{"taxRates", `{ taxRates { id basisPoints } }`, nil},
	{"shopSettings", `{ shopSettings { orderNumberPrefix paymentDeadlineSeconds paymentCaptureMode storefrontOrigins } }`, nil},
}

// withIDs puts the ids of real records where a settingsOps input says
// ZONE, METHOD or RATE.
func withIDs(v map[string]any, ids map[string]string) map[string]any {
	if v == nil {
		return nil
	}
	input := map[string]any{}
	for k, x := range v["input"].(map[string]any) {
		if s, ok := x.(string); ok && ids[s] != "" {
			x = ids[s]
		}
		input[k] = x
	}
	return vars("input", input)
}

// settingsState is what the owner reads of the settings, zones and rates.
func settingsState(t *testing.T, owner *client) string {
	t.Helper()
	res := must(t, owner.do(`{ shopSettings { currencies lineQuantityLimit orderNumberPrefix paymentCaptureMode storefrontOrigins updatedAt }
		shippingZones { id name countries regions methods { id name kind active prices { currencyCode amount { amount } } } }
		taxRates { id country region name basisPoints } }`, nil))
	return testkit.EncodeJSON(t, res.Data)
}

// Issue 9: staff's settings are reachable only with settings permissions.
// A fulfillment clerk, a developer (settings read only), a buyer and a
// guest try every settings mutation with input the owner could use, and
// the staff-only reads; an owner's browser is lured into a GET mutation.
// Each is refused with FORBIDDEN, UNAUTHENTICATED or 405, and nothing
// changes.
func attackSettingsAccess(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga9@shop.example", authz.RoleOwner)
	_, clerk := secStaff(t, e, "finn9@shop.example", authz.RoleFulfillment)
	_, dev := secStaff(t, e, "dora9@shop.example", authz.RoleDeveloper)
	buyer := e.browser()
	must(t, buyer.do(registerOp, in("email", "bob9@example.com", "password", "bob's long passphrase")))
	must(t, buyer.do(loginOp, in("email", "bob9@example.com", "password", "bob's long passphrase")))
	guest := e.browser()

	ids := map[string]string{}
	ids["ZONE"] = must(t, owner.do(settingsOps[1].doc, in("name", "China", "countries", []string{"CN"}))).str("shippingZoneCreate", "shippingZone", "id")
	ids["METHOD"] = must(t, owner.do(settingsOps[4].doc, withIDs(in("zoneId", "ZONE", "name", "Post", "kind", "FLAT",
		"prices", []any{vars("currencyCode", "CNY", "amount", "10")}), ids))).str("shippingMethodCreate", "shippingMethod", "id")
	ids["RATE"] = must(t, owner.do(settingsOps[7].doc, in("country", "CN", "name", "VAT", "basisPoints", 1300))).str("taxRateCreate", "taxRate", "id")
	before := settingsState(t, owner)

	for who, c := range map[string]*client{"fulfillment": clerk, "developer": dev, "buyer": buyer, "guest": guest} {
		for _, op := range settingsOps {
			res := c.do(op.doc, withIDs(op.vars, ids))
			isRead := !strings.HasPrefix(op.doc, "mutation")
			if isRead && who == "developer" { // settings:read
				if len(res.codes()) > 0 {
					t.Errorf("developer reads %s: %v", op.name, res.codes())
				}
				continue
			}
			want := "FORBIDDEN"
			if who == "guest" {
				want = "UNAUTHENTICATED"
			}
			if !res.has(want) || (op.name != "shopSettings" && res.get(op.name) != nil) {
				t.Errorf("%s %s: %v %v, want %s", who, op.name, res.codes(), res.Data, want)
			}
		}
	}
	if after := settingsState(t, owner); after != before {
		t.Fatalf("refused callers changed the settings:\n%s\n%s", before, after)
	}

	// A link or image on another site: the owner's cookie travels, the
	// CSRF header does not, and GET runs queries only.
	q := `mutation M { shopSettingsUpdate(input: {lineQuantityLimit: 1}) { userErrors { code } } ` +
		`taxRateDelete(input: {id: "` + ids["RATE"] + `"}) { deletedTaxRateId } }`
	resp, err := owner.http.Get(ta.URL + "/graphql?" + url.Values{"query": {q}, "operationName": {"M"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET ran a settings mutation: status %d %s", resp.StatusCode, body)
	}
	if after := settingsState(t, owner); after != before {
		t.Fatalf("a GET changed the settings:\n%s\n%s", before, after)
	}
}

// Issue 9: the owner's own input is checked too. Control characters are
// refused before anything runs; values past their bounds and lists past
// theirs get one userError with a code and a short answer; nothing
// changes.
func attackSettingsInput(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga9b@shop.example", authz.RoleOwner)
	zone := must(t, owner.do(settingsOps[1].doc, in("name", "China", "countries", []string{"CN"}))).str("shippingZoneCreate", "shippingZone", "id")
	before := settingsState(t, owner)
	many := func(s string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	band := func(maxGrams int, amount string) map[string]any { return vars("maxGrams", maxGrams, "amount", amount) }
	bands := make([]any, 5000)
	for i := range bands {
		bands[i] = band(i+1, "1")
	}
	prices := make([]any, 5000)
	for i := range prices {
		prices[i] = vars("currencyCode", "CNY", "amount", "1")
	}
	for _, c := range []struct {
		name string
		op   int // index in settingsOps
		vars map[string]any
		want string
	}{
		{"NUL in a zone name", 1, in("name", "China\x00", "countries", []string{"CN"}), graphql.CodeInvalidCharacters},
		{"escape in the order prefix", 0, in("orderNumberPrefix", "#\x1b[2J"), graphql.CodeInvalidCharacters},
		{"bell in a tax name", 7, in("country", "CN", "region", "GD", "name", "VAT\a", "basisPoints", 1), graphql.CodeInvalidCharacters},
		{"C1 control in a country", 1, in("name", "Z", "countries", []string{"C\u0085N"}), graphql.CodeInvalidCharacters},
		{"basis points past 100 %", 7, in("country", "CN", "region", "GD", "name", "VAT", "basisPoints", 2_000_000_000), "OUT_OF_RANGE"},
		{"basis points past 32 bits", 7, in("country", "CN", "region", "GD", "name", "VAT", "basisPoints", 1<<40), "GRAPHQL_VALIDATION_FAILED"},
		{"payment deadline of 68 years", 0, in("paymentDeadlineSeconds", 2_147_483_647), "OUT_OF_RANGE"},
		{"negative reminder", 0, in("reminderLeadSeconds", -2_147_483_648), "OUT_OF_RANGE"},
		{"line limit past the bound", 0, in("lineQuantityLimit", 2_000_000_000), "OUT_OF_RANGE"},
		{"amount past int64", 4, in("zoneId", zone, "name", "X", "kind", "FLAT", "prices", []any{vars("currencyCode", "CNY", "amount", strings.Repeat("9", 5000))}), "INVALID_AMOUNT"},
		{"band past the bound", 4, in("zoneId", zone, "name", "X", "kind", "WEIGHT_BANDS", "prices", []any{vars("currencyCode", "CNY",
			"bands", []any{band(2_000_000_000, "1")})}), "INVALID_BANDS"},
		{"a name of 100 000 characters", 1, in("name", strings.Repeat("n", 100_000), "countries", []string{"CN"}), "TOO_LONG"},
		{"a currency of 100 000 characters", 0, in("currencies", []string{strings.Repeat("X", 100_000)}), "INVALID_CURRENCY"},
		{"10 000 countries", 1, in("name", "Z", "countries", many("CN", 10_000)), "TOO_MANY"},
		{"10 000 regions", 1, in("name", "Z", "countries", []string{"CN"}, "regions", many("GD", 10_000)), "TOO_MANY"},
		{"10 000 currencies", 0, in("currencies", many("USD", 10_000)), "TOO_MANY"},
		{"5000 prices", 4, in("zoneId", zone, "name", "X", "kind", "FLAT", "prices", prices), "TOO_MANY"},
		{"5000 weight bands", 4, in("zoneId", zone, "name", "X", "kind", "WEIGHT_BANDS", "prices", []any{vars("currencyCode", "CNY", "bands", bands)}), "TOO_MANY"},
	} {
		res := owner.do(settingsOps[c.op].doc, c.vars)
		answer := testkit.EncodeJSON(t, res.Data) + testkit.EncodeJSON(t, res.Errors)
		if codes := res.codes(); !res.has(c.want) || res.has("INTERNAL") || len(codes) != 1 {
			t.Errorf("%s: %d codes %v, want one %s", c.name, len(codes), codes[:min(len(codes), 5)], c.want)
		}
		if len(answer) > 2048 {
			t.Errorf("%s: an answer of %d bytes", c.name, len(answer))
		}
	}
	if after := settingsState(t, owner); after != before {
		t.Fatalf("refused input changed the settings:\n%s\n%s", before, after)
	}
}

// attackOrders are two orders of a whole app for the order attacks: a
// signed-in buyer's (buyer, line) and a guest's (guest, opened by token).
type attackOrders struct {
	buyer, line, guest, token string
}

// placeAttackOrders places, as checkout does, an order of one unit of a
// new product for the buyer and one for a guest.
func placeAttackOrders(t *testing.T, ta *testkit.TestApp, tag, buyerID, buyerEmail string) attackOrders {
	t.Helper()
	p, err := ta.Catalog.CreateProduct(system(), catalog.CreateProductInput{Title: "Attack tea " + tag, Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "ATK-" + tag, InventoryQuantity: 10, Prices: []catalog.PriceInput{{Currency: "USD", Amount: "5.00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ta.Catalog.VariantsByProductIDs(system(), []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	usd := func(n int64) money.Money { return money.New(n, money.USD) }
	place := func(by authz.Subject, customerID, email string) *order.Placed {
		placed, err := ta.Orders.Place(authz.WithSubject(context.Background(), by), order.PlaceInput{
			CartID: "cart_" + tag + email, CustomerID: customerID, Email: email, Currency: money.USD,
			ShippingAddress: order.Address{FirstName: "Ada", Line1: "1 Main St", City: "Springfield", CountryCode: "US"},
			Lines: []order.PlaceLine{{VariantID: vs[p.ID][0].ID, ProductID: p.ID, SKU: "ATK-" + tag, ProductTitle: p.Title, Quantity: 1,
				UnitPrice: usd(500), Subtotal: usd(500), Discount: usd(0), Tax: usd(0), Total: usd(500)}},
			Totals: pricing.Totals{Subtotal: usd(500), DiscountTotal: usd(0), Shipping: usd(0), Tax: usd(0), Total: usd(500)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return placed
	}
	mine := place(authz.Subject{Kind: authz.KindCustomer, ID: buyerID, Roles: []string{authz.RoleCustomer}}, buyerID, buyerEmail)
	guest := place(authz.AnonymousSubject(), "", "guest-"+tag+"@example.com")
	return attackOrders{buyer: mine.Order.ID, line: mine.Lines[0].ID, guest: guest.Order.ID, token: guest.AccessToken}
}

// orderBuyer registers and signs in a buyer and returns their browser
// and id.
func orderBuyer(t *testing.T, e *accountsEnv, email string) (*client, string) {
	t.Helper()
	c := e.browser()
	must(t, c.do(registerOp, in("email", email, "password", "a long passphrase of "+email)))
	must(t, c.do(loginOp, in("email", email, "password", "a long passphrase of "+email)))
	return c, must(t, c.do(`{ me { id } }`, nil)).str("me", "id")
}

// orderState is everything the owner reads of the orders, and how many
// order events the outbox holds.
func orderState(t *testing.T, ta *testkit.TestApp, owner *client, ids ...string) string {
	t.Helper()
	var b strings.Builder
	for _, id := range ids {
		res := must(t, owner.do(`query($id: ID!) { order(id: $id) { status paymentStatus fulfillmentStatus customerId updatedAt
			lines { quantityShipped } shipments { id } timeline { kind to reason } notes { body } } }`, vars("id", id)))
		b.WriteString(testkit.EncodeJSON(t, res.Data))
	}
	n, err := ta.DB.NewSelect().Table("outbox_events").Where("subject LIKE ?", "kassa.order.%").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, " %d order events", n)
	return b.String()
}

// Issue 9: orders answer only to whom they belong and to staff with the
// permission. Another buyer and a guest try every staff operation and
// every buyer operation on a buyer's order and a guest's; a finance clerk
// (order read) tries every change; a buyer's and the owner's browsers are
// lured into GET mutations. Each is refused with FORBIDDEN,
// UNAUTHENTICATED, ORDER_NOT_FOUND (a buyer learns nothing of another's
// order), null or 405, and nothing changes.
func attackOrderAccess(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga9o@shop.example", authz.RoleOwner)
	_, finance := secStaff(t, e, "fina9o@shop.example", authz.RoleFinance)
	alice, aliceID := orderBuyer(t, e, "alice9o@example.com")
	bob, _ := orderBuyer(t, e, "bob9o@example.com")
	guest := e.browser()
	o := placeAttackOrders(t, ta, "9o", aliceID, "alice9o@example.com")
	before := orderState(t, ta, owner, o.buyer, o.guest)

	staffOps := []struct {
		name, doc string
		vars      map[string]any
	}{
		{"orderShip", orderShipDoc, in("orderId", o.buyer, "lines", []any{vars("lineId", o.line, "quantity", 1)})},
		{"orderMarkDelivered", orderDeliveredDoc, in("id", o.buyer)},
		{"orderComplete", orderCompleteDoc, in("id", o.buyer)},
		{"orderNoteAdd", orderNoteDoc, in("orderId", o.buyer, "body", "refund me twice")},
		{"orderCancel", orderCancelDoc, in("id", o.buyer, "reason", "because")},
		{"ordersBulkCancel", ordersBulkCancelDoc, in("ids", []any{o.buyer, o.guest}, "reason", "because", "idempotencyKey", "atk-1")},
		{"ordersBulkShip", ordersBulkShipDoc, in("filter", vars("status", "OPEN"), "idempotencyKey", "atk-2")},
		{"ordersBulkNoteAdd", ordersBulkNoteDoc, in("ids", []any{o.buyer}, "body", "refund me twice", "idempotencyKey", "atk-3")},
		{"orders", ordersDoc, nil},
	}
	for who, c := range map[string]*client{"finance": finance, "another buyer": bob, "guest": guest} {
		for _, op := range staffOps {
			if who == "finance" && op.name == "orders" {
				if res := c.do(op.doc, op.vars); len(res.codes()) > 0 {
					t.Errorf("finance lists orders: %v", res.codes())
				}
				continue
			}
			want := "FORBIDDEN"
			switch {
			case who != "finance" && op.name == "orderCancel":
				// A buyer's cancel: someone else's order does not exist.
				want = order.CodeOrderNotFound
			case who == "guest":
				want = "UNAUTHENTICATED"
			}
			res := c.do(op.doc, op.vars)
			if !res.has(want) || len(res.codes()) != 1 || res.get(op.name, "order") != nil {
				t.Errorf("%s %s: %v %v, want %s", who, op.name, res.codes(), res.Data, want)
			}
		}
	}
	// The guest's token with its last character changed.
	guessed := o.token[:len(o.token)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(o.token, "A")]
	for who, c := range map[string]*client{"another buyer": bob, "guest": guest} {
		for _, id := range []string{o.buyer, o.guest} {
			for _, doc := range []string{orderDoc, nodeOrderDoc} {
				res := c.do(doc, vars("id", id))
				if len(res.codes()) > 0 || res.get("order") != nil || res.get("node") != nil {
					t.Errorf("%s reads %s: %v %v", who, id, res.codes(), res.Data)
				}
			}
		}
		if res := c.do(orderByTokenDoc, vars("token", guessed)); len(res.codes()) > 0 || res.get("orderByToken") != nil {
			t.Errorf("%s guesses a token: %v %v", who, res.codes(), res.Data)
		}
		if res := c.do(orderCancelDoc, in("id", o.guest, "token", "guessed")); !res.has(order.CodeOrderNotFound) {
			t.Errorf("%s cancels the guest's order with a guessed token: %v", who, res.codes())
		}
		if res := c.do(myOrdersDoc, nil); len(res.codes()) > 0 || strings.Contains(testkit.EncodeJSON(t, res.Data), "#") {
			t.Errorf("%s's orders: %v %v", who, res.codes(), res.Data)
		}
	}
	// Alice herself may not act for the shop, nor reach the guest's order.
	for _, op := range staffOps[:4] {
		if res := alice.do(op.doc, op.vars); !res.has("FORBIDDEN") {
			t.Errorf("the buyer %s her own order: %v", op.name, res.codes())
		}
	}
	if res := alice.do(orderCancelDoc, in("id", o.guest)); !res.has(order.CodeOrderNotFound) {
		t.Errorf("the buyer cancels a guest's order: %v", res.codes())
	}
	if after := orderState(t, ta, owner, o.buyer, o.guest); after != before {
		t.Fatalf("refused callers changed the orders:\n%s\n%s", before, after)
	}

	// A link or image on another site: cookies travel, the CSRF header
	// does not, and GET runs queries only.
	for who, c := range map[string]*client{"buyer": alice, "owner": owner} {
		q := `mutation M { orderCancel(input: {id: "` + o.buyer + `", reason: "link"}) { userErrors { code } } ` +
			`orderNoteAdd(input: {orderId: "` + o.buyer + `", body: "link"}) { userErrors { code } } }`
		resp, err := c.http.Get(ta.URL + "/graphql?" + url.Values{"query": {q}, "operationName": {"M"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET ran an order mutation for the %s: status %d %s", who, resp.StatusCode, body)
		}
	}
	if after := orderState(t, ta, owner, o.buyer, o.guest); after != before {
		t.Fatalf("a GET changed the orders:\n%s\n%s", before, after)
	}
}

// Issue 9: order input from staff and buyers is checked like every
// other: control characters are refused before anything runs, values and
// lists past their bounds get one error with a code and a short answer,
// page sizes past the largest page are refused, and nothing changes.
func attackOrderInput(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	_, owner := secStaff(t, e, "olga9p@shop.example", authz.RoleOwner)
	alice, aliceID := orderBuyer(t, e, "alice9p@example.com")
	o := placeAttackOrders(t, ta, "9p", aliceID, "alice9p@example.com")
	before := orderState(t, ta, owner, o.buyer, o.guest)

	ship := func(lines []any, kv ...any) map[string]any {
		return in(append([]any{"orderId", o.buyer, "lines", lines}, kv...)...)
	}
	one := func(q any) []any { return []any{vars("lineId", o.line, "quantity", q)} }
	many := make([]any, 1000)
	for i := range many {
		many[i] = vars("lineId", o.line, "quantity", 1)
	}
	long := strings.Repeat("n", 100_000)
	bulkIDs := make([]any, order.MaxBulk+1)
	for i := range bulkIDs {
		bulkIDs[i] = o.buyer
	}
	for _, c := range []struct {
		name string
		as   *client
		doc  string
		vars map[string]any
		want string
	}{
		{"NUL in a note", owner, orderNoteDoc, in("orderId", o.buyer, "body", "hi\x00"), graphql.CodeInvalidCharacters},
		{"escape in a carrier", owner, orderShipDoc, ship(one(1), "carrier", "UPS\x1b[2J"), graphql.CodeInvalidCharacters},
		{"C1 control in a tracking number", owner, orderShipDoc, ship(one(1), "trackingNumber", "1Z\u0085"), graphql.CodeInvalidCharacters},
		{"bell in a buyer's reason", alice, orderCancelDoc, in("id", o.buyer, "reason", "no\a"), graphql.CodeInvalidCharacters},
		{"NUL in a token", alice, orderByTokenDoc, vars("token", o.token+"\x00"), graphql.CodeInvalidCharacters},
		{"NUL in the search", owner, ordersDoc, vars("filter", vars("query", "#1\x00")), graphql.CodeInvalidCharacters},
		{"quantity past the line", owner, orderShipDoc, ship(one(2_000_000_000)), order.CodeInvalidQuantity},
		{"negative quantity", owner, orderShipDoc, ship(one(-2_147_483_648)), order.CodeInvalidQuantity},
		{"quantity past 32 bits", owner, orderShipDoc, ship(one(1 << 40)), "GRAPHQL_VALIDATION_FAILED"},
		{"1000 lines in a parcel", owner, orderShipDoc, ship(many), order.CodeTooMany},
		{"a carrier of 100 000 characters", owner, orderShipDoc, ship(one(1), "carrier", long), order.CodeTooLong},
		{"a note of 100 000 characters", owner, orderNoteDoc, in("orderId", o.buyer, "body", long), order.CodeTooLong},
		{"a reason of 100 000 characters", owner, orderCancelDoc, in("id", o.buyer, "reason", long), order.CodeTooLong},
		{"a buyer's reason of 100 000 characters", alice, orderCancelDoc, in("id", o.buyer, "reason", long), order.CodeTooLong},
		{"first: 100 000", owner, ordersDoc, vars("first", 100_000), "INVALID_PAGE_SIZE"},
		{"first past 32 bits", owner, ordersDoc, vars("first", 1<<40), "GRAPHQL_VALIDATION_FAILED"},
		{"negative first", alice, `query($first: Int) { myOrders(first: $first) { nodes { number } } }`, vars("first", -1), "INVALID_PAGE_SIZE"},
		{"an unknown status", owner, ordersDoc, vars("filter", vars("status", "SHIPPED")), "GRAPHQL_VALIDATION_FAILED"},
		{"NUL in a bulk reason", owner, ordersBulkCancelDoc, in("ids", []any{o.buyer}, "reason", "x\x00", "idempotencyKey", "atk-4"), graphql.CodeInvalidCharacters},
		{"escape in an idempotency key", owner, ordersBulkNoteDoc, in("ids", []any{o.buyer}, "body", "x", "idempotencyKey", "k\x1b[2J"), graphql.CodeInvalidCharacters},
		{"1001 orders in one bulk action", owner, ordersBulkCancelDoc, in("ids", bulkIDs, "reason", "x", "idempotencyKey", "atk-5"), order.CodeTooMany},
		{"a bulk reason of 100 000 characters", owner, ordersBulkCancelDoc, in("ids", []any{o.buyer}, "reason", long, "idempotencyKey", "atk-6"), order.CodeTooLong},
		{"an idempotency key of 100 000 characters", owner, ordersBulkNoteDoc, in("ids", []any{o.buyer}, "body", "x", "idempotencyKey", long), idempotency.CodeInvalidKey},
		{"a bulk filter with an unknown status", owner, ordersBulkShipDoc, in("filter", vars("status", "SHIPPED"), "idempotencyKey", "atk-7"), "GRAPHQL_VALIDATION_FAILED"},
	} {
		res := c.as.do(c.doc, c.vars)
		answer := testkit.EncodeJSON(t, res.Data) + testkit.EncodeJSON(t, res.Errors)
		if codes := res.codes(); !res.has(c.want) || res.has("INTERNAL") || len(codes) != 1 {
			t.Errorf("%s: %d codes %v, want one %s", c.name, len(codes), codes[:min(len(codes), 5)], c.want)
		}
		if len(answer) > 2048 {
			t.Errorf("%s: an answer of %d bytes", c.name, len(answer))
		}
	}
	// Huge text where nothing bounds it finds nothing, without an error.
	for name, res := range map[string]gqlResult{
		"a search of 100 000 characters": owner.do(ordersDoc, vars("filter", vars("query", long))),
		"a token of 100 000 characters":  alice.do(orderByTokenDoc, vars("token", long)),
	} {
		if len(res.codes()) > 0 || strings.Contains(testkit.EncodeJSON(t, res.Data), "#") {
			t.Errorf("%s: %v %v", name, res.codes(), res.Data)
		}
	}
	if after := orderState(t, ta, owner, o.buyer, o.guest); after != before {
		t.Fatalf("refused input changed the orders:\n%s\n%s", before, after)
	}
}

// Review of 2026-12-07: nodes(ids:) was priced as one field, so 150
// aliases of it with 54 product ids each (8,100 products, 3.5 MB) fitted
// a guest's budget. Each id now counts as a read of its own, whether the
// ids come as a literal or a variable; a few ids still pass.
func attackNodesFanOut(t *testing.T, ta *testkit.TestApp) {
	ids := make([]string, 54)
	for i := range ids {
		ids[i] = fmt.Sprintf("%q", fmt.Sprintf("prd_%026d", i))
	}
	const sel = `{ id ... on Product { title variants { id sku price { amount } availableQuantity } } }`
	var lit, vars strings.Builder
	lit.WriteString("{")
	vars.WriteString("query($ids: [ID!]!) {")
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&lit, " n%d: nodes(ids: [%s]) %s", i, strings.Join(ids, ", "), sel)
		fmt.Fprintf(&vars, " n%d: nodes(ids: $ids) %s", i, sel)
	}
	lit.WriteString(" }")
	vars.WriteString(" }")
	idList := make([]any, len(ids))
	for i, id := range ids {
		idList[i] = strings.Trim(id, `"`)
	}
	c := fromAddress(t, "127.0.0.4")
	for _, req := range []graphql.Request{{Query: lit.String()}, {Query: vars.String(), Variables: map[string]any{"ids": idList}}} {
		resp, body := postRaw(t, c, ta, []byte(testkit.EncodeJSON(t, req)))
		var out struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(body, &out); err != nil || out.Data != nil || len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "QUERY_TOO_COMPLEX" {
			t.Fatalf("150 x nodes(54 ids): status %d, %.300s", resp.StatusCode, body)
		}
	}
	few := graphql.Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) ` + sel + ` }`, Variables: map[string]any{"ids": idList[:3]}}
	if resp, body := postRaw(t, c, ta, []byte(testkit.EncodeJSON(t, few))); resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
		t.Fatalf("nodes of 3 ids: %d %.300s", resp.StatusCode, body)
	}
}
