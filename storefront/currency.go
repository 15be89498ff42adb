package storefront

import (
	"net/http"
	"slices"
	"strings"
)

// currencyCookie remembers a buyer's choice of currency, like langCookie
// remembers the language.
const currencyCookie = "kassa_currency"

// pickCurrency chooses the currency prices are shown in: ?currency=, then
// the cookie, then the shop's default. Only a currency the shop sells in
// counts; an explicit valid ?currency= is remembered in the cookie, Secure
// as the session's is (forms.secureFor).
func pickCurrency(w http.ResponseWriter, r *http.Request, shop shopInfo, secure bool) string {
	if q := r.URL.Query().Get("currency"); q != "" {
		if c, ok := shop.sells(q); ok {
			http.SetCookie(w, &http.Cookie{Name: currencyCookie, Value: c, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure})
			return c
		}
	}
	if ck, err := r.Cookie(currencyCookie); err == nil {
		if c, ok := shop.sells(ck.Value); ok {
			return c
		}
	}
	return shop.DefaultCurrency
}

// sells reports whether the shop sells in code (any case), and returns
// the code as the shop spells it.
func (s shopInfo) sells(code string) (string, bool) {
	if len(code) != 3 {
		return "", false
	}
	up := strings.ToUpper(code)
	if slices.Contains(s.Currencies, up) {
		return up, true
	}
	return "", false
}
