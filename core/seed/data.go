package seed

// The hand-made demo shop: a small tea-and-lifestyle store selling in CNY
// and USD. Handles are fixed, so re-running the seeder recognises what it
// made before.

// option is a product option of a template.
type option struct {
	name   string
	values []string
}

// template is one hand-made product. Its variants are every combination of
// its options' values (at most six); the price of a variant is base plus
// step for each value index of the first option.
type template struct {
	handle, title, vendor, kind, description string
	tags                                     []string
	options                                  []option
	// base and step are prices in CNY fen (minor units).
	base, step int64
	draft      bool
}

var (
	sizes       = option{"Size", []string{"S", "M", "L"}}
	sizesWide   = option{"Size", []string{"XS", "S", "M", "L", "XL", "XXL"}}
	colorsBasic = option{"Color", []string{"Black", "White"}}
)

func teaWeights(vs ...string) option { return option{"Weight", vs} }

var products = []template{
	// Tea.
	{handle: "tieguanyin-oolong", title: "Tieguanyin Oolong", vendor: "Anxi Tea Garden", kind: "Tea", tags: []string{"tea", "oolong", "fujian"},
		description: "Rolled oolong from Anxi with an orchid fragrance and a long, sweet finish.", options: []option{teaWeights("50 g", "100 g", "250 g")}, base: 4800, step: 4000},
	{handle: "da-hong-pao", title: "Da Hong Pao Rock Tea", vendor: "Wuyi Cliffs", kind: "Tea", tags: []string{"tea", "oolong", "roasted"},
		description: "Charcoal-roasted Wuyi rock tea: mineral, toasty and deep.", options: []option{teaWeights("50 g", "100 g")}, base: 6800, step: 6000},
	{handle: "west-lake-longjing", title: "West Lake Longjing", vendor: "Hangzhou Longjing Co.", kind: "Tea", tags: []string{"tea", "green", "spring"},
		description: "Pan-fired flat green tea picked before Qingming: chestnut and fresh beans.", options: []option{teaWeights("50 g", "100 g", "250 g")}, base: 8800, step: 8000},
	{handle: "jasmine-dragon-pearls", title: "Jasmine Dragon Pearls", vendor: "Fuding Blossom", kind: "Tea", tags: []string{"tea", "green", "scented"},
		description: "Hand-rolled green tea pearls scented seven times with fresh jasmine.", options: []option{teaWeights("50 g", "100 g")}, base: 5800, step: 5000},
	{handle: "silver-needle-white", title: "Silver Needle White Tea", vendor: "Fuding Blossom", kind: "Tea", tags: []string{"tea", "white"},
		description: "Downy buds only, withered in the sun: honeyed and delicate.", options: []option{teaWeights("50 g", "100 g")}, base: 9800, step: 9000},
	{handle: "shou-puer-cake", title: "Menghai Shou Pu-erh Cake", vendor: "Menghai Tea Factory", kind: "Tea", tags: []string{"tea", "pu-erh", "aged"},
		description: "A 357 g cake of ripe pu-erh pressed in 2019: earthy, smooth, sweet.", base: 16800},
	{handle: "sheng-puer-mini-tuo", title: "Sheng Pu-erh Mini Tuocha", vendor: "Menghai Tea Factory", kind: "Tea", tags: []string{"tea", "pu-erh"},
		description: "Raw pu-erh pressed into single-brew nests; apricot and a gentle bite.", options: []option{option{"Pack", []string{"10 pieces", "30 pieces"}}}, base: 3800, step: 6000},
	{handle: "keemun-black", title: "Keemun Black Tea", vendor: "Qimen Estate", kind: "Tea", tags: []string{"tea", "black"},
		description: "Classic Anhui black tea with cocoa and a hint of smoke.", options: []option{teaWeights("100 g", "250 g")}, base: 4200, step: 5200},
	{handle: "dian-hong-golden-buds", title: "Dian Hong Golden Buds", vendor: "Yunnan Highlands", kind: "Tea", tags: []string{"tea", "black", "yunnan"},
		description: "Golden-tipped Yunnan black tea: malty, with sweet potato notes.", options: []option{teaWeights("50 g", "100 g")}, base: 5200, step: 4400},
	{handle: "osmanthus-oolong", title: "Osmanthus Oolong", vendor: "Anxi Tea Garden", kind: "Tea", tags: []string{"tea", "oolong", "scented"},
		description: "Light oolong layered with osmanthus flowers; apricot aroma.", options: []option{teaWeights("50 g", "100 g")}, base: 4600, step: 3800},
	{handle: "chrysanthemum-buds", title: "Chrysanthemum Buds", vendor: "Tongxiang Farm", kind: "Herbal", tags: []string{"herbal", "caffeine-free"},
		description: "Whole dried chrysanthemum buds for a cooling caffeine-free brew.", base: 2800},
	{handle: "tea-sampler-box", title: "Tea Sampler Box", vendor: "Kassa Tea", kind: "Tea", tags: []string{"tea", "gift"},
		description: "Eight teas in 10 g pouches, from green to pu-erh, with brewing notes.", base: 12800},

	// Teaware.
	{handle: "gaiwan-porcelain", title: "Porcelain Gaiwan", vendor: "Jingdezhen Studio", kind: "Teaware", tags: []string{"teaware", "porcelain"},
		description: "A 120 ml lidded bowl for gongfu brewing, thin-walled and white.", options: []option{option{"Glaze", []string{"White", "Celadon", "Blue and White"}}}, base: 8800, step: 2000},
	{handle: "yixing-teapot", title: "Yixing Clay Teapot", vendor: "Dingshu Potters", kind: "Teaware", tags: []string{"teaware", "clay"},
		description: "Hand-built zisha teapot, 150 ml; season it with one kind of tea.", options: []option{option{"Clay", []string{"Zini", "Hongni", "Duanni"}}}, base: 46800, step: 10000},
	{handle: "glass-fairness-pitcher", title: "Glass Fairness Pitcher", vendor: "Kassa Home", kind: "Teaware", tags: []string{"teaware", "glass"},
		description: "Borosilicate pitcher that evens out every infusion, 250 ml.", base: 6800},
	{handle: "tasting-cups-set", title: "Tasting Cups, Set of 4", vendor: "Jingdezhen Studio", kind: "Teaware", tags: []string{"teaware", "porcelain", "gift"},
		description: "Four 40 ml cups with a hand-painted rim.", options: []option{option{"Pattern", []string{"Plum", "Bamboo", "Orchid", "Chrysanthemum"}}}, base: 9800},
	{handle: "bamboo-tea-tray", title: "Bamboo Tea Tray", vendor: "Anji Craft", kind: "Teaware", tags: []string{"teaware", "bamboo"},
		description: "Slatted tray with a drip drawer for gongfu sessions.", options: []option{option{"Size", []string{"Small", "Large"}}}, base: 15800, step: 8000},
	{handle: "travel-tea-set", title: "Travel Tea Set", vendor: "Kassa Tea", kind: "Teaware", tags: []string{"teaware", "travel", "gift"},
		description: "Quick-brew pot, two cups and a canvas case: tea anywhere.", options: []option{option{"Color", []string{"Sand", "Ink"}}}, base: 16800},
	{handle: "electric-kettle-gooseneck", title: "Gooseneck Kettle", vendor: "Kassa Home", kind: "Teaware", tags: []string{"teaware", "kettle"},
		description: "Temperature-controlled kettle, 0.8 l, holds heat for an hour.", options: []option{colorsBasic}, base: 49900},
	{handle: "tea-canister-tin", title: "Tea Canister", vendor: "Kassa Home", kind: "Teaware", tags: []string{"storage"},
		description: "Double-lidded tin keeps 100 g of tea away from light and air.", options: []option{option{"Color", []string{"Red", "Green", "Black"}}}, base: 3800},

	// Apparel.
	{handle: "organic-cotton-tee", title: "Organic Cotton Tee", vendor: "Kassa Apparel", kind: "T-Shirt", tags: []string{"apparel", "cotton"},
		description: "Mid-weight organic cotton tee with a relaxed fit.", options: []option{sizes, colorsBasic}, base: 12900},
	{handle: "linen-shirt", title: "Linen Shirt", vendor: "Kassa Apparel", kind: "Shirt", tags: []string{"apparel", "linen", "summer"},
		description: "Washed linen shirt that gets softer every time.", options: []option{sizesWide}, base: 39900},
	{handle: "merino-crew-sweater", title: "Merino Crew Sweater", vendor: "Northern Knits", kind: "Sweater", tags: []string{"apparel", "wool", "winter"},
		description: "Fine-gauge merino wool crew neck; warm, light and itch-free.", options: []option{sizes, option{"Color", []string{"Oat", "Navy"}}}, base: 59900},
	{handle: "heavyweight-hoodie", title: "Heavyweight Hoodie", vendor: "Kassa Apparel", kind: "Hoodie", tags: []string{"apparel", "cotton"},
		description: "450 gsm brushed fleece hoodie with a double-layer hood.", options: []option{sizes, option{"Color", []string{"Grey", "Forest"}}}, base: 49900},
	{handle: "canvas-work-jacket", title: "Canvas Work Jacket", vendor: "Kassa Apparel", kind: "Jacket", tags: []string{"apparel", "outerwear"},
		description: "Waxed canvas chore jacket with four pockets.", options: []option{option{"Size", []string{"S", "M", "L", "XL"}}}, base: 89900},
	{handle: "wide-leg-trousers", title: "Wide-Leg Trousers", vendor: "Kassa Apparel", kind: "Trousers", tags: []string{"apparel"},
		description: "High-rise cotton twill trousers with a wide leg.", options: []option{option{"Size", []string{"26", "28", "30", "32", "34"}}}, base: 45900},
	{handle: "rib-knit-beanie", title: "Rib Knit Beanie", vendor: "Northern Knits", kind: "Hat", tags: []string{"apparel", "accessories", "winter"},
		description: "Chunky rib beanie in recycled wool.", options: []option{option{"Color", []string{"Rust", "Charcoal", "Cream"}}}, base: 15900},
	{handle: "six-panel-cap", title: "Six-Panel Cap", vendor: "Kassa Apparel", kind: "Hat", tags: []string{"apparel", "accessories"},
		description: "Unstructured cotton cap with a brass buckle.", options: []option{option{"Color", []string{"Navy", "Khaki"}}}, base: 11900},
	{handle: "crew-socks-3-pack", title: "Crew Socks, 3 Pack", vendor: "Kassa Apparel", kind: "Socks", tags: []string{"apparel", "basics"},
		description: "Cushioned combed-cotton socks.", options: []option{option{"Size", []string{"35-38", "39-42", "43-46"}}}, base: 6900},
	{handle: "silk-scarf", title: "Silk Scarf", vendor: "Suzhou Silk House", kind: "Scarf", tags: []string{"apparel", "silk", "gift"},
		description: "Hand-rolled 90 cm mulberry silk square.", options: []option{option{"Print", []string{"Peony", "Crane", "Wave"}}}, base: 39900},
	{handle: "canvas-tote", title: "Canvas Tote Bag", vendor: "Kassa Apparel", kind: "Bag", tags: []string{"accessories", "bag"},
		description: "Heavy canvas tote with an inside pocket.", options: []option{option{"Color", []string{"Natural", "Black"}}}, base: 8900},
	{handle: "leather-card-wallet", title: "Leather Card Wallet", vendor: "Saddle & Co.", kind: "Wallet", tags: []string{"accessories", "leather", "gift"},
		description: "Vegetable-tanned leather, four card slots, ages beautifully.", options: []option{option{"Color", []string{"Tan", "Dark Brown", "Black"}}}, base: 22900},

	// Home.
	{handle: "stoneware-mug", title: "Stoneware Mug", vendor: "Kassa Home", kind: "Mug", tags: []string{"home", "kitchen", "ceramic"},
		description: "Hand-glazed 350 ml mug; every one a little different.", options: []option{option{"Glaze", []string{"Speckled", "Ash", "Indigo"}}}, base: 7900},
	{handle: "linen-throw-blanket", title: "Linen Throw Blanket", vendor: "Kassa Home", kind: "Throw", tags: []string{"home", "linen"},
		description: "Stonewashed linen throw, 130 × 170 cm.", options: []option{option{"Color", []string{"Sage", "Clay", "Natural"}}}, base: 45900},
	{handle: "soy-candle-hinoki", title: "Hinoki Soy Candle", vendor: "Lumen Works", kind: "Candle", tags: []string{"home", "candle", "gift"},
		description: "Soy wax with hinoki wood and yuzu, 40-hour burn.", options: []option{option{"Size", []string{"200 g", "400 g"}}}, base: 16900, step: 10000},
	{handle: "incense-sticks-sandalwood", title: "Sandalwood Incense", vendor: "Lumen Works", kind: "Incense", tags: []string{"home", "incense"},
		description: "Forty hand-rolled sticks of Mysore-style sandalwood.", base: 5900},
	{handle: "ceramic-bud-vase", title: "Ceramic Bud Vase", vendor: "Jingdezhen Studio", kind: "Vase", tags: []string{"home", "ceramic", "gift"},
		description: "A 15 cm vase for a single stem.", options: []option{option{"Glaze", []string{"Celadon", "Ivory"}}}, base: 12900},
	{handle: "cotton-waffle-towel", title: "Waffle Bath Towel", vendor: "Kassa Home", kind: "Towel", tags: []string{"home", "bath", "cotton"},
		description: "Quick-drying cotton waffle weave.", options: []option{option{"Size", []string{"Hand", "Bath"}}, option{"Color", []string{"White", "Stone"}}}, base: 9900, step: 10000},
	{handle: "walnut-serving-board", title: "Walnut Serving Board", vendor: "Grain Workshop", kind: "Board", tags: []string{"home", "kitchen", "wood"},
		description: "Solid walnut, oiled, with a juice groove.", options: []option{option{"Size", []string{"Medium", "Large"}}}, base: 29900, step: 10000},
	{handle: "linen-napkins-4", title: "Linen Napkins, Set of 4", vendor: "Kassa Home", kind: "Table linen", tags: []string{"home", "linen", "kitchen"},
		description: "Stonewashed linen napkins, 45 × 45 cm.", options: []option{option{"Color", []string{"Natural", "Charcoal", "Terracotta"}}}, base: 19900},
	{handle: "glass-water-carafe", title: "Glass Water Carafe", vendor: "Kassa Home", kind: "Carafe", tags: []string{"home", "kitchen", "glass"},
		description: "One-litre carafe with a cup that doubles as lid.", base: 15900},
	{handle: "paper-lantern-pendant", title: "Paper Lantern Pendant", vendor: "Lumen Works", kind: "Lighting", tags: []string{"home", "lighting"},
		description: "Mulberry paper pendant shade on a bamboo frame.", options: []option{option{"Diameter", []string{"40 cm", "60 cm"}}}, base: 39900, step: 20000, draft: true},

	// Electronics accessories.
	{handle: "usb-c-cable-braided", title: "Braided USB-C Cable", vendor: "Volt Goods", kind: "Cable", tags: []string{"electronics", "cable", "usb-c"},
		description: "100 W USB-C to USB-C, nylon-braided, survives 30,000 bends.", options: []option{option{"Length", []string{"0.5 m", "1 m", "2 m"}}, colorsBasic}, base: 5900, step: 1000},
	{handle: "gan-charger-65w", title: "65 W GaN Charger", vendor: "Volt Goods", kind: "Charger", tags: []string{"electronics", "charger"},
		description: "Two USB-C ports and one USB-A; charges a laptop and a phone at once.", options: []option{option{"Plug", []string{"CN", "US", "EU", "UK"}}}, base: 19900},
	{handle: "magnetic-power-bank", title: "Magnetic Power Bank", vendor: "Volt Goods", kind: "Power bank", tags: []string{"electronics", "travel"},
		description: "5,000 mAh magnetic battery that snaps to the back of your phone.", options: []option{option{"Color", []string{"Graphite", "Sand", "Sky"}}}, base: 24900},
	{handle: "phone-case-leather", title: "Leather Phone Case", vendor: "Saddle & Co.", kind: "Phone case", tags: []string{"electronics", "leather"},
		description: "Full-grain leather case with a microfibre lining.", options: []option{option{"Model", []string{"iPhone 16", "iPhone 16 Pro", "Pixel 9"}}, option{"Color", []string{"Tan", "Black"}}}, base: 29900},
	{handle: "earbuds-case-silicone", title: "Silicone Earbuds Case", vendor: "Volt Goods", kind: "Case", tags: []string{"electronics", "case"},
		description: "Soft-touch silicone case with a carabiner.", options: []option{option{"Color", []string{"Mint", "Coral", "Slate"}}}, base: 4900},
	{handle: "laptop-sleeve-felt", title: "Wool Felt Laptop Sleeve", vendor: "Northern Knits", kind: "Sleeve", tags: []string{"electronics", "wool"},
		description: "Thick wool felt with a leather strap.", options: []option{option{"Size", []string{"13 inch", "14 inch", "16 inch"}}}, base: 26900, step: 2000},
	{handle: "wireless-charging-pad", title: "Wireless Charging Pad", vendor: "Volt Goods", kind: "Charger", tags: []string{"electronics", "charger"},
		description: "15 W Qi2 pad in walnut and aluminium.", base: 21900},
	{handle: "cable-organizer-roll", title: "Cable Organizer Roll", vendor: "Saddle & Co.", kind: "Organizer", tags: []string{"electronics", "travel"},
		description: "Roll-up leather pouch for cables, chargers and a power bank.", options: []option{option{"Color", []string{"Tan", "Olive"}}}, base: 18900},
	{handle: "mechanical-keyboard-tkl", title: "Tenkeyless Mechanical Keyboard", vendor: "Volt Goods", kind: "Keyboard", tags: []string{"electronics", "desk"},
		description: "Hot-swappable switches, PBT keycaps, USB-C and Bluetooth.", options: []option{option{"Switch", []string{"Linear", "Tactile", "Clicky"}}}, base: 69900},
	{handle: "monitor-light-bar", title: "Monitor Light Bar", vendor: "Lumen Works", kind: "Lighting", tags: []string{"electronics", "desk", "lighting"},
		description: "Asymmetric light over your screen, no glare, dimmable.", base: 29900},
	{handle: "desk-mat-wool", title: "Wool Desk Mat", vendor: "Northern Knits", kind: "Desk mat", tags: []string{"desk", "wool"},
		description: "Merino felt desk mat, 80 × 30 cm.", options: []option{option{"Color", []string{"Grey", "Charcoal"}}}, base: 15900},

	// Stationery.
	{handle: "dot-grid-notebook", title: "Dot Grid Notebook", vendor: "Paper Mill", kind: "Notebook", tags: []string{"stationery"},
		description: "A5, 192 pages of 100 gsm paper that takes fountain pen ink.", options: []option{option{"Cover", []string{"Ochre", "Forest", "Ink"}}}, base: 8900},
	{handle: "brass-fountain-pen", title: "Brass Fountain Pen", vendor: "Paper Mill", kind: "Pen", tags: []string{"stationery", "gift"},
		description: "Solid brass body that patinates, steel nib.", options: []option{option{"Nib", []string{"EF", "F", "M"}}}, base: 32900},
	{handle: "washi-tape-set", title: "Washi Tape Set", vendor: "Paper Mill", kind: "Tape", tags: []string{"stationery"},
		description: "Six rolls of Japanese paper tape in muted colours.", base: 4500, draft: true},
}

// collection is a hand-made demo collection with its products, by handle.
type collection struct {
	handle, title, description string
	products                   []string
}

var collections = []collection{
	{"tea", "Tea", "Whole-leaf teas from the gardens we know.", []string{
		"tieguanyin-oolong", "da-hong-pao", "west-lake-longjing", "jasmine-dragon-pearls", "silver-needle-white",
		"shou-puer-cake", "sheng-puer-mini-tuo", "keemun-black", "dian-hong-golden-buds", "osmanthus-oolong",
		"chrysanthemum-buds", "tea-sampler-box"}},
	{"teaware", "Teaware", "Gaiwans, pots and cups for brewing well.", []string{
		"gaiwan-porcelain", "yixing-teapot", "glass-fairness-pitcher", "tasting-cups-set", "bamboo-tea-tray",
		"travel-tea-set", "electric-kettle-gooseneck", "tea-canister-tin"}},
	{"apparel", "Apparel", "Clothes made to be worn for years.", []string{
		"organic-cotton-tee", "linen-shirt", "merino-crew-sweater", "heavyweight-hoodie", "canvas-work-jacket",
		"wide-leg-trousers", "rib-knit-beanie", "six-panel-cap", "crew-socks-3-pack", "silk-scarf", "canvas-tote",
		"leather-card-wallet"}},
	{"home", "Home & Living", "Things for a calmer home.", []string{
		"stoneware-mug", "linen-throw-blanket", "soy-candle-hinoki", "incense-sticks-sandalwood", "ceramic-bud-vase",
		"cotton-waffle-towel", "walnut-serving-board", "linen-napkins-4", "glass-water-carafe", "paper-lantern-pendant"}},
	{"tech-accessories", "Tech Accessories", "Cables, chargers and cases that last.", []string{
		"usb-c-cable-braided", "gan-charger-65w", "magnetic-power-bank", "phone-case-leather", "earbuds-case-silicone",
		"laptop-sleeve-felt", "wireless-charging-pad", "cable-organizer-roll", "mechanical-keyboard-tkl",
		"monitor-light-bar", "desk-mat-wool"}},
	{"stationery", "Stationery", "Paper and pens.", []string{"dot-grid-notebook", "brass-fountain-pen", "washi-tape-set"}},
	{"gifts", "Gifts", "Ready to give.", []string{
		"tea-sampler-box", "tasting-cups-set", "travel-tea-set", "silk-scarf", "leather-card-wallet", "soy-candle-hinoki",
		"ceramic-bud-vase", "brass-fountain-pen"}},
	{"new-arrivals", "New Arrivals", "Just in.", []string{
		"osmanthus-oolong", "merino-crew-sweater", "magnetic-power-bank", "walnut-serving-board", "monitor-light-bar"}},
}
