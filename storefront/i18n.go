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

// loadCatalogs reads the messages of each language from i18n/<lang>.json
// and i18n/<area>.<lang>.json (each part of the storefront keeps its
// own); a key defined twice in one language is an error, so that one
// part cannot silently change another's text.
func loadCatalogs(files fs.FS) (catalogs, error) {
	c := catalogs{}
	entries, err := fs.ReadDir(files, "i18n")
	if err != nil {
		return nil, fmt.Errorf("storefront: catalogs: %w", err)
	}
	for _, name := range langNames {
		c[name] = map[string]string{}
	}
	for _, e := range entries {
		file := e.Name()
		base, ok := strings.CutSuffix(file, ".json")
		if !ok || e.IsDir() {
			continue
		}
		lang := base[strings.LastIndex(base, ".")+1:]
		into, known := c[lang]
		if !known {
			return nil, fmt.Errorf("storefront: catalog %s: no language %q", file, lang)
		}
		raw, err := fs.ReadFile(files, "i18n/"+file)
		if err != nil {
			return nil, fmt.Errorf("storefront: catalog %s: %w", file, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("storefront: catalog %s: %w", file, err)
		}
		for k, v := range m {
			if _, dup := into[k]; dup {
				return nil, fmt.Errorf("storefront: catalog %s: key %q is defined twice for %s", file, k, lang)
			}
			into[k] = v
		}
	}
	if len(c["en"]) == 0 {
		return nil, fmt.Errorf("storefront: no English catalog in i18n/")
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

// lookup returns key's text in lang, else in English; ok is false when
// neither catalog has it (the caller then shows something else, as the
// payment step shows a gateway's own name for a method it does not know).
func (c catalogs) lookup(lang, key string) (string, bool) {
	if s, ok := c[lang][key]; ok {
		return s, true
	}
	s, ok := c["en"][key]
	return s, ok
}

// pickLanguage chooses the page's language: ?lang=, the cookie, then
// Accept-Language. An explicit ?lang= is remembered in the cookie, Secure
// as the session's is (forms.secureFor).
func pickLanguage(w http.ResponseWriter, r *http.Request, secure bool) string {
	if q := r.URL.Query().Get("lang"); q != "" {
		if lang, ok := parseLang(q); ok {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure})
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
