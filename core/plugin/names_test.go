package plugin

import (
	"testing"

	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

func TestDisplayNameIn(t *testing.T) {
	t.Parallel()
	p := Plugin{DisplayName: "WeChat Pay", Description: "Pay with WeChat",
		DisplayNames: map[string]string{"zh-CN": "微信支付", "ja": "WeChat ペイ"},
		Descriptions: map[string]string{"zh-CN": "使用微信付款"}}
	for _, c := range []struct{ lang, name, desc string }{
		{"", "WeChat Pay", "Pay with WeChat"},
		{"en", "WeChat Pay", "Pay with WeChat"},
		{"en-US", "WeChat Pay", "Pay with WeChat"},
		{"zh-CN", "微信支付", "使用微信付款"},
		{"zh-cn", "微信支付", "使用微信付款"},
		{"zh", "微信支付", "使用微信付款"},
		{"zh-Hans-CN", "微信支付", "使用微信付款"},
		{"zh-TW", "WeChat Pay", "Pay with WeChat"}, // another script: the default, not Simplified Chinese
		{"ja-JP", "WeChat ペイ", "Pay with WeChat"},
		{"fr", "WeChat Pay", "Pay with WeChat"},
		{"not a tag!", "WeChat Pay", "Pay with WeChat"},
		{"zh-CN\x00", "WeChat Pay", "Pay with WeChat"},
	} {
		if got := p.DisplayNameIn(c.lang); got != c.name {
			t.Errorf("DisplayNameIn(%q) = %q, want %q", c.lang, got, c.name)
		}
		if got := p.DescriptionIn(c.lang); got != c.desc {
			t.Errorf("DescriptionIn(%q) = %q, want %q", c.lang, got, c.desc)
		}
	}
	if got := (Plugin{DisplayName: "Bank transfer"}).DisplayNameIn("zh-CN"); got != "Bank transfer" {
		t.Errorf("no names: %q", got)
	}
}

// The catalog records the names Describe gives in other languages, and a
// reinstall of the same binary fills them into a row recorded without.
func TestCatalogRecordsLocalizedNames(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		res, err := e.svc.Install(ctx(), testpayBin, InstallOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Plugin.DisplayNames["zh-CN"]; got != "测试支付" {
			t.Fatalf("installed names %v", res.Plugin.DisplayNames)
		}
		if res.Plugin.DescriptionIn("zh-CN") == res.Plugin.Description {
			t.Fatalf("no zh-CN description: %v", res.Plugin.Descriptions)
		}
		id := res.Plugin.ID
		// A row from before the names were recorded.
		if _, err := db.NewUpdate().Table("plugins").Set("display_names = '{}'").Set("descriptions = '{}'").Where("id = ?", id).Exec(ctx()); err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Get(ctx(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.DisplayNames != nil || p.DisplayNameIn("zh-CN") != "Test payments" {
			t.Fatalf("cleared row reads %v / %q", p.DisplayNames, p.DisplayNameIn("zh-CN"))
		}
		res, err = e.svc.Install(ctx(), testpayBin, InstallOptions{Replace: true})
		if err != nil || !res.Unchanged {
			t.Fatalf("reinstall: %+v, %v", res, err)
		}
		list, err := e.svc.List(ctx())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].DisplayNameIn("zh-CN") != "测试支付" || list[0].DisplayNameIn("en") != "Test payments" {
			t.Fatalf("listed %+v", list)
		}
	})
}
