package storefront

import (
	"encoding/json"
	"net/http"

	"github.com/kassahq/kassa/core/kit/country"
)

// The address forms' state or province field (checkout.html,
// account_address.html) suggests the chosen country's subdivisions from
// a <datalist>, as a buyer knows it from other shops' checkouts. The
// server draws the suggestions of the country the form shows, so they
// work without JavaScript; static/province.js follows the country
// select, reading the new country's list from GET /subdivisions/{country}.
// The field stays free text: the API reads a code, an English name or,
// in China, a Chinese name or pinyin alike (country.Subdivision), and
// refuses what names no subdivision only where the shop's tax rates or
// shipping zones tell regions apart.

// provinceListID is the id of the province field's datalist, which
// province.js fills when the country changes.
const provinceListID = "f-province-list"

// fieldSuggestions are the values an input suggests: its datalist's id
// and options, and the country they are of. Options is empty for a
// country without subdivisions: the datalist is drawn anyway, for
// province.js to fill.
type fieldSuggestions struct {
	ID, Country string
	Options     []country.SubdivisionName
}

// provinceSuggestions are the suggestions of an address form's field
// name: for province, the subdivisions of the form's country named in
// the page's language (country.Subdivisions); nil for other fields.
func provinceSuggestions(p *page, form map[string]string, name string) *fieldSuggestions {
	if name != "province" {
		return nil
	}
	c := form["countryCode"]
	return &fieldSuggestions{ID: provinceListID, Country: c, Options: country.Subdivisions(c, p.Lang)}
}

// subdivisionJSON is a subdivision as GET /subdivisions/{country}
// answers it.
type subdivisionJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// subdivisionList serves GET /subdivisions/{country}?lang=: the
// country's subdivisions as the province field suggests them on a page
// in lang (en when it names none of the storefront's languages), as JSON
// [{"code":"ZJ","name":"浙江省"}, ...], [] for a country without any;
// 404 for a code no country has. The answer depends on the URL alone, so
// browsers and proxies keep it a day; the lists change only with Kassa.
func (h *Handler) subdivisionList(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("country")
	if !country.Valid(code) {
		http.NotFound(w, r)
		return
	}
	lang, ok := parseLang(r.URL.Query().Get("lang"))
	if !ok {
		lang = "en"
	}
	list := []subdivisionJSON{}
	for _, s := range country.Subdivisions(code, lang) {
		list = append(list, subdivisionJSON(s))
	}
	body, err := json.Marshal(list)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	shared(w, "max-age=86400")
	_, _ = w.Write(body)
}
