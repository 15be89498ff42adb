package sdk

import "context"

type allowPrivateKey struct{}

// WithAllowPrivateNetworks returns ctx carrying the shop owner's decision
// whether plugins may connect to private networks. The host sets it on the
// context of Configure (the SDK carries it across the process boundary);
// tests that call a plugin's Configure directly set it the same way.
func WithAllowPrivateNetworks(ctx context.Context, allow bool) context.Context {
	return context.WithValue(ctx, allowPrivateKey{}, allow)
}

// AllowPrivateNetworks reports, in Configure, whether the shop owner allows
// the plugin to connect to loopback, link-local, private, CGNAT and other
// non-public addresses. False (the default, and the answer of a host too
// old to say) means refuse them: give it to
// [github.com/kassahq/kassa/plugins/sdk/netguard.Policy] and dial through
// it.
func AllowPrivateNetworks(ctx context.Context) bool {
	allow, _ := ctx.Value(allowPrivateKey{}).(bool)
	return allow
}
