package seed

// The people and places of seeded orders: buyers in China (names and
// addresses in Chinese, email addresses in pinyin) and abroad. Every
// email address is on a domain reserved for examples (RFC 2606), so no
// message about a seeded order or buyer can reach anyone.

// name is a name in its own script and in Latin letters.
type name struct{ native, latin string }

var (
	cnFamilies = []name{
		{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}, {"杨", "yang"},
		{"黄", "huang"}, {"赵", "zhao"}, {"吴", "wu"}, {"周", "zhou"}, {"徐", "xu"}, {"孙", "sun"},
		{"马", "ma"}, {"朱", "zhu"}, {"胡", "hu"}, {"郭", "guo"}, {"何", "he"}, {"林", "lin"},
		{"高", "gao"}, {"罗", "luo"},
	}
	cnGiven = []name{
		{"芳", "fang"}, {"娜", "na"}, {"伟", "wei"}, {"敏", "min"}, {"静", "jing"}, {"磊", "lei"},
		{"洋", "yang"}, {"艳", "yan"}, {"勇", "yong"}, {"军", "jun"}, {"杰", "jie"}, {"娟", "juan"},
		{"涛", "tao"}, {"明", "ming"}, {"超", "chao"}, {"秀英", "xiuying"}, {"桂英", "guiying"},
		{"志强", "zhiqiang"}, {"晓东", "xiaodong"}, {"丽华", "lihua"}, {"建国", "jianguo"},
		{"雨涵", "yuhan"}, {"子轩", "zixuan"}, {"欣怡", "xinyi"}, {"浩然", "haoran"}, {"梓萱", "zixuan"},
	}
	westFirst = []string{"Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Leon", "Sophie", "James",
		"Hannah", "Oliver", "Chloe", "Felix", "Grace", "Daniel", "Lena", "Samuel", "Isla", "Ethan"}
	westLast = []string{"Smith", "Johnson", "Brown", "Taylor", "Müller", "Schmidt", "Wilson", "Davies",
		"Tan", "Lim", "Martin", "Walker", "Fischer", "Clarke", "Nguyen", "Thompson", "Wagner", "Evans"}
	emailDomains = []string{"example.com", "example.net", "example.org"}
)

// cnCity is a Chinese city with the districts and streets of its
// addresses.
type cnCity struct {
	province, city, postal, phoneArea string
	districts, streets                []string
}

var cnCities = []cnCity{
	{"北京市", "北京市", "100020", "10", []string{"朝阳区", "海淀区", "东城区", "西城区"}, []string{"建国路", "中关村大街", "东直门内大街", "金融大街"}},
	{"上海市", "上海市", "200120", "21", []string{"浦东新区", "徐汇区", "静安区", "黄浦区"}, []string{"世纪大道", "淮海中路", "南京西路", "陆家嘴环路"}},
	{"广东省", "广州市", "510620", "20", []string{"天河区", "越秀区", "海珠区"}, []string{"天河路", "中山五路", "江南大道"}},
	{"广东省", "深圳市", "518057", "755", []string{"南山区", "福田区", "罗湖区"}, []string{"科技园路", "深南大道", "人民南路"}},
	{"浙江省", "杭州市", "310012", "571", []string{"西湖区", "上城区", "滨江区"}, []string{"文三路", "延安路", "江南大道"}},
	{"四川省", "成都市", "610041", "28", []string{"武侯区", "锦江区", "青羊区"}, []string{"人民南路", "春熙路", "天府大道"}},
	{"江苏省", "南京市", "210008", "25", []string{"鼓楼区", "玄武区", "秦淮区"}, []string{"中山路", "北京东路", "太平南路"}},
	{"湖北省", "武汉市", "430022", "27", []string{"江汉区", "武昌区", "洪山区"}, []string{"解放大道", "中南路", "珞喻路"}},
	{"福建省", "厦门市", "361001", "592", []string{"思明区", "湖里区"}, []string{"中山路", "湖滨南路", "嘉禾路"}},
	{"陕西省", "西安市", "710061", "29", []string{"雁塔区", "碑林区"}, []string{"长安中路", "南大街", "小寨东路"}},
}

// westCity is a city abroad.
type westCity struct {
	country, province, city, postal, phonePrefix string
	streets                                      []string
}

var westCities = []westCity{
	{"US", "CA", "San Francisco", "94107", "+1 415", []string{"Market Street", "Valencia Street", "Townsend Street"}},
	{"US", "NY", "New York", "10001", "+1 212", []string{"Broadway", "West 34th Street", "8th Avenue"}},
	{"US", "WA", "Seattle", "98101", "+1 206", []string{"Pike Street", "1st Avenue", "Pine Street"}},
	{"GB", "", "London", "EC1V 9HX", "+44 20", []string{"City Road", "Old Street", "Baker Street"}},
	{"DE", "", "Berlin", "10115", "+49 30", []string{"Invalidenstraße", "Torstraße", "Chausseestraße"}},
	{"SG", "", "Singapore", "049315", "+65", []string{"Raffles Place", "Orchard Road", "Robinson Road"}},
	{"CA", "BC", "Vancouver", "V6B 1A1", "+1 604", []string{"Granville Street", "Robson Street", "Main Street"}},
	{"AU", "NSW", "Sydney", "2000", "+61 2", []string{"George Street", "Pitt Street", "Kent Street"}},
}

// carrier is a parcel service and the shape of its tracking numbers.
type carrier struct {
	name, prefix string
	digits       int
}

var (
	cnCarriers   = []carrier{{"SF Express", "SF", 12}, {"China Post EMS", "EA", 9}, {"JD Logistics", "JD", 13}}
	westCarriers = []carrier{{"DHL Express", "", 10}, {"UPS", "1Z", 16}, {"FedEx", "", 12}}
)

// shippingChoice is a shipping method as seeded orders snapshot it: the
// method may no longer exist in the shop (orders keep its name and price,
// not a reference to it).
type shippingChoice struct {
	name string
	// price is a decimal in the order's currency; free over freeOver
	// (a decimal, "" for never).
	price, freeOver string
}

var (
	cnShipping   = []shippingChoice{{"Standard", "10.00", "199.00"}, {"SF Express", "18.00", ""}}
	westShipping = []shippingChoice{{"International Standard", "25.00", "500.00"}, {"International Express", "60.00", ""}}
)

// paymentMethods are the reference gateways the demo shop enables.
var paymentMethods = []string{"payment.testpay", "payment.testpay", "payment.testpay", "payment.banktransfer"}
