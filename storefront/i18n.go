package storefront

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// The storefront's languages; the first is the fallback.
var languages = []language.Tag{language.English, language.SimplifiedChinese}

var matcher = language.NewMatcher(languages)

// langNames are the catalogs' file names and the pages' lang attributes.
var langNames = map[language.Tag]string{language.English: "en", language.SimplifiedChinese: "zh-CN"}

// langCookie remembers a buyer's choice of language.
const langCookie = "kassa_lang"

// catalogs are the messages of each language, by key.
type catalogs map[string]map[string]string

func loadCatalogs(files fs.FS) (catalogs, error) {
	c := catalogs{}
	for _, name := range langNames {
		raw, err := fs.ReadFile(files, "i18n/"+name+".json")
		if err != nil {
			return nil, fmt.Errorf("storefront: catalog %s: %w", name, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("storefront: catalog %s: %w", name, err)
		}
		c[name] = m
	}
	return c, nil
}

// message returns key's text in lang, else in English, else the key
// (a missing message shows, it does not break the page).
func (c catalogs) message(lang, key string) string {
	if s, ok := c[lang][key]; ok {
		return s
	}
	if s, ok := c["en"][key]; ok {
		return s
	}
	return key
}

// pickLanguage chooses the page's language: ?lang=, the cookie, then
// Accept-Language. An explicit ?lang= is remembered in the cookie.
func pickLanguage(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q != "" {
		if lang, ok := parseLang(q); ok {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
			return lang
		}
	}
	if ck, err := r.Cookie(langCookie); err == nil {
		if lang, ok := parseLang(ck.Value); ok {
			return lang
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := matcher.Match(tags...)
	return langNames[languages[i]]
}

// parseLang maps what a buyer or browser sends ("zh", "zh-cn",
// "zh-Hans") to a catalog's name; ok is false for anything else.
func parseLang(s string) (string, bool) {
	if len(s) > 35 {
		return "", false
	}
	tag, err := language.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	_, i, conf := matcher.Match(tag)
	if conf < language.High {
		return "", false
	}
	return langNames[languages[i]], true
}
