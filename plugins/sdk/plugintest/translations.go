package plugintest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// UntranslatedSettings lists the settings of a config schema whose title
// or description has no text for lang in x-kassa-titles or
// x-kassa-descriptions, as JSON Pointers into the schema ("/properties/
// app_id title"). The admin falls back to the English text for those, so
// a plugin meant for shops of that language tests that the list is empty
// ([CheckTranslated]).
//
// A schema that is not JSON is reported as a whole ("/").
func UntranslatedSettings(schema, lang string) []string {
	var root map[string]any
	if err := json.Unmarshal([]byte(schema), &root); err != nil {
		return []string{"/"}
	}
	var missing []string
	var walk func(node map[string]any, at string)
	walk = func(node map[string]any, at string) {
		for kw, of := range map[string]string{"x-kassa-titles": "title", "x-kassa-descriptions": "description"} {
			// The root is the form, not a setting: the admin shows no title of it.
			if s, _ := node[of].(string); at == "" || strings.TrimSpace(s) == "" {
				continue
			}
			texts, _ := node[kw].(map[string]any)
			if s, _ := texts[lang].(string); strings.TrimSpace(s) == "" {
				missing = append(missing, at+" "+of)
			}
		}
		for _, kw := range []string{"properties", "$defs", "definitions"} {
			subs, _ := node[kw].(map[string]any)
			for name, sub := range subs {
				if m, ok := sub.(map[string]any); ok {
					walk(m, at+"/"+kw+"/"+strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1"))
				}
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(items, at+"/items")
		}
	}
	walk(root, "")
	slices.Sort(missing)
	return missing
}

// CheckTranslated fails t for each setting of schema that
// [UntranslatedSettings] lists for lang.
func CheckTranslated(t testing.TB, schema, lang string) {
	t.Helper()
	if missing := UntranslatedSettings(schema, lang); len(missing) > 0 {
		t.Errorf("settings without a %s text: %v", lang, missing)
	}
}
