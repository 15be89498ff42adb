package storefront

import (
	"net/http"
	"net/url"
	"strings"
)

// The account's address book and order history. Ids come from the path
// and are checked for form before GraphQL sees them; GraphQL decides
// whose they are, and another buyer's id reads as one that does not
// exist (404).

// addressesPage serves GET /account/addresses: the book, the default
// marked, each with edit, delete and make-default.
func (h *Handler) addressesPage(w http.ResponseWriter, r *http.Request) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	me, code := h.loadMe(r)
	if code != "" || me == nil {
		h.accountUnavailable(w, r, p)
		return
	}
	v := h.newAccountView(p, "addresses")
	v.Me, v.Notice = me, notice(p, r)
	for _, c := range flashCodes(r.URL.Query().Get("e")) {
		v.Errors = append(v.Errors, accountText(p, c))
	}
	h.renderAccount(w, r, p, http.StatusOK, "account_addresses", "account.addresses.title", v)
}

// flashCodes are the codes of ?e= after a post/redirect/get, at most a
// few, each checked by accountText when shown.
func flashCodes(raw string) []string {
	if raw == "" || len(raw) > 200 {
		return nil
	}
	codes := strings.Split(raw, ",")
	if len(codes) > 5 {
		codes = codes[:5]
	}
	return codes
}

// showAddressForm renders the form of a new address (Address.ID empty)
// or of one being changed.
func (h *Handler) showAddressForm(w http.ResponseWriter, r *http.Request, p *page, status int, v *accountView) {
	for _, code := range countries {
		v.Countries = append(v.Countries, langChoice{Code: code, Name: p.T("country." + code)})
	}
	translateFields(p, v)
	title := "account.address.new"
	if v.Address != nil && v.Address.ID != "" {
		title = "account.address.edit"
	}
	h.renderAccount(w, r, p, status, "account_address", title, v)
}

// newAddressPage serves GET /account/addresses/new.
func (h *Handler) newAddressPage(w http.ResponseWriter, r *http.Request) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "addresses")
	v.Address = &customerAddress{}
	v.Form["countryCode"] = "CN"
	h.showAddressForm(w, r, p, http.StatusOK, v)
}

// editAddressPage serves GET /account/addresses/{id}.
func (h *Handler) editAddressPage(w http.ResponseWriter, r *http.Request) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	id := r.PathValue("id")
	if !validID(id) {
		h.accountNotFound(w, r, p)
		return
	}
	me, code := h.loadMe(r)
	if code != "" || me == nil {
		h.accountUnavailable(w, r, p)
		return
	}
	var a *customerAddress
	for _, x := range me.Addresses {
		if x.ID == id {
			a = x
		}
	}
	if a == nil {
		h.accountNotFound(w, r, p)
		return
	}
	v := h.newAccountView(p, "addresses")
	v.Address = a
	for k, s := range map[string]string{"firstName": a.FirstName, "lastName": a.LastName, "company": a.Company,
		"line1": a.Line1, "line2": a.Line2, "city": a.City, "province": a.Province, "postalCode": a.PostalCode,
		"countryCode": a.CountryCode, "phone": a.Phone} {
		v.Form[k] = s
	}
	if a.Default {
		v.Form["default"] = "on"
	}
	h.showAddressForm(w, r, p, http.StatusOK, v)
}

// readAddress reads and checks the address form as the checkout does:
// printable text of at most maxFieldLen characters, line1, city and a
// listed country required.
func readAddress(r *http.Request, v *accountView) map[string]any {
	addr := map[string]any{}
	for _, f := range addressFields {
		s, code := readText(r, f, maxFieldLen)
		v.Form[f] = s
		if code != "" {
			v.FieldErrors[f] = code
			continue
		}
		if s != "" {
			addr[f] = s
		}
	}
	for _, f := range []string{"line1", "city", "countryCode"} {
		if v.Form[f] == "" && v.FieldErrors[f] == "" {
			v.FieldErrors[f] = "REQUIRED"
		}
	}
	if c := v.Form["countryCode"]; c != "" && v.FieldErrors["countryCode"] == "" && !contains(countries, c) {
		v.FieldErrors["countryCode"] = "INVALID_COUNTRY"
	}
	if r.PostForm.Get("default") == "on" {
		v.Form["default"] = "on"
	}
	return addr
}

// saveAddress serves POST /account/addresses/new and
// POST /account/addresses/{id}: adds or changes an address, and makes it
// the default (shipping and billing) when the box is ticked.
func (h *Handler) saveAddress(w http.ResponseWriter, r *http.Request) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "addresses")
	id := r.PathValue("id")
	if id != "" && !validID(id) {
		h.accountNotFound(w, r, p)
		return
	}
	v.Address = &customerAddress{ID: id}
	addr := readAddress(r, v)
	if len(v.FieldErrors) > 0 {
		h.showAddressForm(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	in := map[string]any{"address": addr}
	if v.Form["default"] == "on" {
		in["defaultShipping"], in["defaultBilling"] = true, true
	}
	var errs []userError
	var code string
	if id == "" {
		var data struct {
			CustomerAddressCreate struct{ UserErrors []userError }
		}
		code = h.runOp(r, "StorefrontAccountAddressCreate", accountAddrAddOp, map[string]any{"input": in}, &data)
		errs = data.CustomerAddressCreate.UserErrors
	} else {
		in["id"] = id
		var data struct {
			CustomerAddressUpdate struct{ UserErrors []userError }
		}
		code = h.runOp(r, "StorefrontAccountAddressUpdate", accountAddrSetOp, map[string]any{"input": in}, &data)
		errs = data.CustomerAddressUpdate.UserErrors
	}
	if code != "" {
		v.Errors = []string{accountText(p, code)}
		h.showAddressForm(w, r, p, statusOf(code), v)
		return
	}
	if hasCode(errs, "ADDRESS_NOT_FOUND") {
		h.accountNotFound(w, r, p)
		return
	}
	if len(errs) > 0 {
		placeAccountErrors(p, v, errs, addressFields...)
		h.showAddressForm(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	http.Redirect(w, r, "/account/addresses?n=saved", http.StatusSeeOther)
}

func hasCode(errs []userError, code string) bool {
	for _, e := range errs {
		if e.Code == code {
			return true
		}
	}
	return false
}

// deleteAddress serves POST /account/addresses/{id}/delete.
func (h *Handler) deleteAddress(w http.ResponseWriter, r *http.Request) {
	h.addressAction(w, r, "StorefrontAccountAddressDelete", accountAddrDelOp, "customerAddressDelete", nil, "deleted")
}

// defaultAddress serves POST /account/addresses/{id}/default: the
// address becomes the default for shipping and billing.
func (h *Handler) defaultAddress(w http.ResponseWriter, r *http.Request) {
	h.addressAction(w, r, "StorefrontAccountAddressUpdate", accountAddrSetOp, "customerAddressUpdate",
		map[string]any{"defaultShipping": true, "defaultBilling": true}, "defaultSet")
}

// addressAction runs a one-button mutation on an address of the book and
// goes back to it.
func (h *Handler) addressAction(w http.ResponseWriter, r *http.Request, name, op, field string, extra map[string]any, done string) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	id := r.PathValue("id")
	if !validID(id) {
		h.accountNotFound(w, r, p)
		return
	}
	in := map[string]any{"id": id}
	for k, x := range extra {
		in[k] = x
	}
	var data map[string]struct{ UserErrors []userError }
	if code := h.runOp(r, name, op, map[string]any{"input": in}, &data); code != "" {
		http.Redirect(w, r, "/account/addresses?e="+url.QueryEscape(code), http.StatusSeeOther)
		return
	}
	errs := data[field].UserErrors
	switch {
	case hasCode(errs, "ADDRESS_NOT_FOUND"):
		h.accountNotFound(w, r, p)
	case len(errs) > 0:
		http.Redirect(w, r, "/account/addresses?e="+url.QueryEscape(errs[0].Code), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/account/addresses?n="+done, http.StatusSeeOther)
	}
}

// ordersPage serves GET /account/orders[?after=]: the buyer's orders,
// newest first, a page at a time.
func (h *Handler) ordersPage(w http.ResponseWriter, r *http.Request) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	after := r.URL.Query().Get("after")
	if after != "" && !validCursor(after) {
		v := h.newAccountView(p, "orders")
		v.Errors = []string{p.T("error.badRequest.text")}
		h.renderAccount(w, r, p, http.StatusBadRequest, "account_orders", "account.orders.title", v)
		return
	}
	var data struct {
		MyOrders struct {
			Nodes    []*orderSummary
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
	code := h.runOp(r, "StorefrontAccountOrders", accountOrdersOp, map[string]any{"first": ordersPerPage, "after": nullable(after)}, &data)
	if code == "INVALID_CURSOR" || code == "BAD_USER_INPUT" || code == "INVALID_ARGUMENT" {
		v := h.newAccountView(p, "orders")
		v.Errors = []string{p.T("error.badRequest.text")}
		h.renderAccount(w, r, p, http.StatusBadRequest, "account_orders", "account.orders.title", v)
		return
	}
	if code != "" {
		h.accountUnavailable(w, r, p)
		return
	}
	v := h.newAccountView(p, "orders")
	v.Orders = data.MyOrders.Nodes
	if pi := data.MyOrders.PageInfo; pi.HasNextPage && pi.EndCursor != nil {
		v.NextURL = "/account/orders?after=" + url.QueryEscape(*pi.EndCursor)
	}
	if after != "" {
		v.FirstURL = "/account/orders"
	}
	h.renderAccount(w, r, p, http.StatusOK, "account_orders", "account.orders.title", v)
}

// loadAccountOrder reads one of the buyer's orders; nil (and "") when
// it is not theirs or does not exist.
func (h *Handler) loadAccountOrder(r *http.Request, id string) (*accountOrder, string) {
	var data struct{ Order *accountOrder }
	code := h.runOp(r, "StorefrontAccountOrder", accountOrderOp, map[string]any{"id": id}, &data)
	switch code {
	case "":
	case "ORDER_NOT_FOUND", "NOT_FOUND", "INVALID_ID", "BAD_USER_INPUT", "INVALID_ARGUMENT":
		return nil, ""
	default:
		return nil, code
	}
	if data.Order == nil || data.Order.ID != id {
		return nil, ""
	}
	// Only a path on this server is linked: the API writes
	// /orders/{id}/invoices/{doc}.pdf.
	for i := range data.Order.Invoices {
		if d := data.Order.Invoices[i].DownloadURL; !strings.HasPrefix(d, "/orders/") || strings.HasPrefix(d, "//") {
			data.Order.Invoices[i].DownloadURL = ""
		}
	}
	return data.Order, ""
}

// orderPage serves GET /account/orders/{id}: the order's lines, sums,
// address, shipments, payments, refunds and invoices.
func (h *Handler) orderPage(w http.ResponseWriter, r *http.Request) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	id := r.PathValue("id")
	if !validID(id) {
		h.accountNotFound(w, r, p)
		return
	}
	o, code := h.loadAccountOrder(r, id)
	if code != "" {
		h.accountUnavailable(w, r, p)
		return
	}
	if o == nil {
		h.accountNotFound(w, r, p)
		return
	}
	v := h.newAccountView(p, "orders")
	v.Order, v.Notice = o, notice(p, r)
	for _, c := range flashCodes(r.URL.Query().Get("e")) {
		v.Errors = append(v.Errors, accountText(p, c))
	}
	h.renderAccountTitled(w, r, p, http.StatusOK, "account_order", p.T("order.title", o.Number), v)
}

// cancelOrder serves POST /account/orders/{id}/cancel: the buyer
// cancels their unpaid order (orderCancel decides whether it still may).
func (h *Handler) cancelOrder(w http.ResponseWriter, r *http.Request) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	id := r.PathValue("id")
	if !validID(id) {
		h.accountNotFound(w, r, p)
		return
	}
	var data struct {
		OrderCancel struct{ UserErrors []userError }
	}
	code := h.runOp(r, "StorefrontAccountOrderCancel", accountCancelOp, map[string]any{"input": map[string]any{"id": id}}, &data)
	errs := data.OrderCancel.UserErrors
	switch {
	case code == "ORDER_NOT_FOUND" || code == "NOT_FOUND" || code == "INVALID_ID" || hasCode(errs, "ORDER_NOT_FOUND"):
		h.accountNotFound(w, r, p)
	case code != "":
		http.Redirect(w, r, "/account/orders/"+id+"?e="+url.QueryEscape(code), http.StatusSeeOther)
	case len(errs) > 0:
		http.Redirect(w, r, "/account/orders/"+id+"?e="+url.QueryEscape(errs[0].Code), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/account/orders/"+id+"?n=cancelled", http.StatusSeeOther)
	}
}
