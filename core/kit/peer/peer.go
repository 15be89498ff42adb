// Package peer carries who is on the other end of the HTTP request being
// served (address and User-Agent) in its context. The HTTP layer fills it
// once; accounts use it for throttling and session records, payments hand
// it to gateways that require the buyer's IP.
package peer

import (
	"context"
	"net/netip"
)

// maxUserAgent bounds the User-Agent kept: enough to tell devices apart,
// never a way to grow records or gateway requests.
const maxUserAgent = 256

// Client describes the other end of a request.
type Client struct {
	// IP is the client's address, without port.
	IP string
	// UserAgent is the client's User-Agent header, cut to 256 bytes.
	UserAgent string
}

type key struct{}

// With returns ctx carrying c, its User-Agent cut to 256 bytes.
func With(ctx context.Context, c Client) context.Context {
	if len(c.UserAgent) > maxUserAgent {
		c.UserAgent = c.UserAgent[:maxUserAgent]
	}
	return context.WithValue(ctx, key{}, c)
}

// From returns the client in ctx, or the zero Client when the work did not
// start from an HTTP request (CLI, background jobs).
func From(ctx context.Context) Client {
	c, _ := ctx.Value(key{}).(Client)
	return c
}

// Network is the block an address stands for when Kassa counts what one
// client does: an IPv4 address itself, an IPv6 address by its /64 (the
// block one subscriber usually gets, so switching to the next address of
// one's own network changes nothing). An IPv6 address that carries an
// IPv4 one, where it translates or tunnels to (::ffff:a.b.c.d, NAT64
// 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32), is that IPv4 address:
// behind NAT64 every IPv4 client would otherwise be one /64, and a 6to4
// host would be 65,536 of them. One that does not parse is returned as is.
func Network(ip string) string {
	addr, ok := clientAddr(ip)
	if !ok {
		return ip
	}
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

// clientAddr parses ip without its zone, an IPv6 address that carries an
// IPv4 one being that IPv4 address.
func clientAddr(ip string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}, false
	}
	addr = addr.WithZone("")
	if v4, ok := embeddedIPv4(addr); ok {
		return v4, true
	}
	return addr, true
}

var (
	nat64    = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4   = netip.MustParsePrefix("2002::/16")
	teredo   = netip.MustParsePrefix("2001::/32")
	sharedV4 = netip.MustParsePrefix("100.64.0.0/10")
)

// embeddedIPv4 is the IPv4 address an IPv6 address of a translation or
// tunnel range stands for.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	if addr.Is4In6() {
		return addr.Unmap(), true
	}
	if !addr.Is6() {
		return netip.Addr{}, false
	}
	b := addr.As16()
	switch {
	case nat64.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixTo4.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	case teredo.Contains(addr):
		// The client's public address, its bits inverted (RFC 4380).
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	}
	return netip.Addr{}, false
}

// Shared reports whether ip is an address that usually stands for many
// buyers at once in front of a shop: loopback, private (RFC 1918,
// fc00::/7), the shared address space of carrier-grade NAT and cloud
// load balancers (100.64.0.0/10), link-local or unspecified, the address
// of a reverse proxy whose X-Forwarded-For Kassa was not told to trust.
// An IPv6 address carrying such an IPv4 one (Network) is judged by it.
// It also reports true for an address that does not parse. Limits per
// client leave such addresses alone, so a misconfigured proxy does not
// make every buyer one.
func Shared(ip string) bool {
	addr, ok := clientAddr(ip)
	if !ok {
		return true
	}
	return addr.IsLoopback() || addr.IsPrivate() || sharedV4.Contains(addr) || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsUnspecified()
}
