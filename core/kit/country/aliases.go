package country

import "golang.org/x/text/language"

// nativeLanguage is, by country, the language of the first alias aliases
// gives each of its subdivisions: the full name as the country's people
// write it (浙江省), which Subdivisions suggests to forms in that
// language.
var nativeLanguage = map[string]language.Tag{"CN": language.SimplifiedChinese}

// aliases are other names people write for subdivisions, by country and
// code, beside the English names of the ISO list: for China the Chinese
// names, with and without their 省/市/自治区 suffix (the full name first:
// nativeLanguage), and the pinyin or English names without "Sheng" or
// "Shi". A Chinese buyer types 浙江省, 浙江 or Zhejiang, never "Zhejiang
// Sheng".
var aliases = map[string]map[string][]string{
	"CN": {
		"AH": {"安徽省", "安徽", "Anhui"},
		"BJ": {"北京市", "北京", "Beijing"},
		"CQ": {"重庆市", "重庆", "Chongqing"},
		"FJ": {"福建省", "福建", "Fujian"},
		"GD": {"广东省", "广东", "Guangdong"},
		"GS": {"甘肃省", "甘肃", "Gansu"},
		"GX": {"广西壮族自治区", "广西", "Guangxi"},
		"GZ": {"贵州省", "贵州", "Guizhou"},
		"HA": {"河南省", "河南", "Henan"},
		"HB": {"湖北省", "湖北", "Hubei"},
		"HE": {"河北省", "河北", "Hebei"},
		"HI": {"海南省", "海南", "Hainan"},
		"HK": {"香港特别行政区", "香港", "Hong Kong"},
		"HL": {"黑龙江省", "黑龙江", "Heilongjiang"},
		"HN": {"湖南省", "湖南", "Hunan"},
		"JL": {"吉林省", "吉林", "Jilin"},
		"JS": {"江苏省", "江苏", "Jiangsu"},
		"JX": {"江西省", "江西", "Jiangxi"},
		"LN": {"辽宁省", "辽宁", "Liaoning"},
		"MO": {"澳门特别行政区", "澳门", "Macao", "Macau"},
		"NM": {"内蒙古自治区", "内蒙古", "Nei Mongol", "Inner Mongolia"},
		"NX": {"宁夏回族自治区", "宁夏", "Ningxia"},
		"QH": {"青海省", "青海", "Qinghai"},
		"SC": {"四川省", "四川", "Sichuan"},
		"SD": {"山东省", "山东", "Shandong"},
		"SH": {"上海市", "上海", "Shanghai"},
		"SN": {"陕西省", "陕西", "Shaanxi"},
		"SX": {"山西省", "山西", "Shanxi"},
		"TJ": {"天津市", "天津", "Tianjin"},
		"TW": {"台湾省", "台湾", "Taiwan"},
		"XJ": {"新疆维吾尔自治区", "新疆", "Xinjiang"},
		"XZ": {"西藏自治区", "西藏", "Xizang", "Tibet"},
		"YN": {"云南省", "云南", "Yunnan"},
		"ZJ": {"浙江省", "浙江", "Zhejiang"},
	},
}
