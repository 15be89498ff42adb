// Package netguard keeps a plugin's outbound connections off the shop's
// internal network. A settings URL or host chosen by staff (a webhook
// endpoint, an SMTP server) could otherwise point the plugin at
// 127.0.0.1, at the cloud metadata service on 169.254.169.254 or at a
// database on 10.0.0.5, and make the plugin a tool for reaching what the
// staff member cannot (SSRF).
//
// Destinations on loopback, link-local, private (RFC 1918, fc00::/7,
// local-use NAT64), CGNAT (100.64.0.0/10), unspecified, multicast and
// reserved networks are refused unless the shop owner allows private
// networks (KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS); Kassa passes that choice
// to Configure, where [github.com/kassahq/kassa/plugins/sdk.AllowPrivateNetworks]
// reads it. An IPv6 address that carries an IPv4 one for a translator or
// tunnel (IPv4-mapped, SIIT, NAT64, 6to4) is judged by that IPv4 address,
// and a Unicode host name by its IDNA mapping, so "１２７。０。０。１" is the
// loopback address it reaches.
//
// Check twice: when settings arrive ([Policy.CheckURL], [Policy.CheckHost],
// for a clear message) and when connecting ([Policy.Control],
// [Policy.Dialer], [Policy.Transport]), after DNS resolution, so a name
// that resolves or is rebound to a private address is refused too:
//
//	func (c *Channel) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
//		guard := netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
//		if err := guard.CheckURL(cfg.URL); err != nil {
//			return sdk.ConfigureResult{Errors: []sdk.ConfigError{{Field: "/url", Code: "private_network", Message: err.Error()}}}, nil
//		}
//		c.client.Store(&http.Client{Transport: guard.Transport()})
//		...
//	}
package netguard
