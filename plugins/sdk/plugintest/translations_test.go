package plugintest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUntranslatedSettings(t *testing.T) {
	t.Parallel()
	schema := `{"type":"object","title":"Root, not a setting's","properties":{
		"done":{"type":"string","title":"Key","x-kassa-titles":{"zh-CN":"密钥"},"description":"Signs.","x-kassa-descriptions":{"zh-CN":"用于签名。"}},
		"no_text":{"type":"boolean"},
		"other_lang":{"type":"string","title":"URL","x-kassa-titles":{"de":"Adresse"}},
		"blank":{"type":"string","title":"Name","x-kassa-titles":{"zh-CN":"名称"},"description":"Who.","x-kassa-descriptions":{"zh-CN":" "}},
		"rows":{"type":"array","title":"Rows","x-kassa-titles":{"zh-CN":"行"},"items":{"type":"object","properties":{
			"a/b":{"type":"string","title":"Inner"}}}}}}`
	got := UntranslatedSettings(schema, "zh-CN")
	want := []string{"/properties/blank description", "/properties/other_lang title", "/properties/rows/items/properties/a~1b title"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("untranslated (-want +got):\n%s", diff)
	}
	if got := UntranslatedSettings("{", "zh-CN"); !cmp.Equal(got, []string{"/"}) {
		t.Errorf("a broken schema gives %v", got)
	}
}
