// Package peer carries who is on the other end of the HTTP request being
// served (address and User-Agent) in its context. The HTTP layer fills it
// once; accounts use it for throttling and session records, payments hand
// it to gateways that require the buyer's IP.
package peer

import (
	"context"
	"net"
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
// one's own network changes nothing). An IPv4 address written as IPv6
// (::ffff:a.b.c.d) is the IPv4 address; one that does not parse is
// returned as is.
func Network(ip string) string {
	parsed := net.ParseIP(ip)
	if parsed == nil {
		return ip
	}
	if v4 := parsed.To4(); v4 != nil {
		return v4.String()
	}
	return parsed.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// Shared reports whether ip is an address that usually stands for many
// buyers at once in front of a shop: loopback, private (RFC 1918, fc00::/7),
// link-local or unspecified, the address of a reverse proxy whose
// X-Forwarded-For Kassa was not told to trust. It also reports true for
// an address that does not parse. Limits per client leave such addresses
// alone, so a misconfigured proxy does not make every buyer one.
func Shared(ip string) bool {
	parsed := net.ParseIP(ip)
	return parsed == nil || parsed.IsLoopback() || parsed.IsPrivate() || parsed.IsLinkLocalUnicast() ||
		parsed.IsLinkLocalMulticast() || parsed.IsUnspecified()
}
