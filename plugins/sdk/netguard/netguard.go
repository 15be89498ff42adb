package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrBlocked is what every refusal of this package unwraps to: the
// destination is on a loopback, link-local, private, CGNAT, unspecified,
// multicast or reserved network and private networks are not allowed.
var ErrBlocked = errors.New("destination is on a private network")

// BlockedError is a refused destination. It unwraps to ErrBlocked.
type BlockedError struct {
	// Host is the destination as given (a name or an address).
	Host string
	// Addr is the address Host names or resolved to.
	Addr netip.Addr
	// Range says which kind of network Addr is on, e.g. "loopback".
	Range string
}

// Error says what was refused and how the shop owner can allow it.
func (e *BlockedError) Error() string {
	at := e.Host
	if e.Addr.IsValid() && e.Host != e.Addr.String() {
		at = fmt.Sprintf("%s (%s)", e.Host, e.Addr)
	}
	return fmt.Sprintf("%s is a %s address; connections to private networks are refused unless the shop owner allows them (KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS)", at, e.Range)
}

// Unwrap returns ErrBlocked.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Policy says which destinations a plugin may connect to. The zero value
// refuses private networks, which is the safe default.
type Policy struct {
	// AllowPrivate allows every destination. The host passes the shop
	// owner's choice to Configure; see sdk.AllowPrivateNetworks.
	AllowPrivate bool
}

type netRange struct {
	prefix netip.Prefix
	name   string
}

// blocked are the ranges refused by default. Public unicast is all that
// remains; documentation and benchmarking ranges are refused too because no
// real endpoint lives there and some networks route them internally.
var blocked = func() []netRange {
	var out []netRange
	add := func(name string, prefixes ...string) {
		for _, p := range prefixes {
			out = append(out, netRange{netip.MustParsePrefix(p), name})
		}
	}
	add("unspecified", "0.0.0.0/8", "::/128")
	add("loopback", "127.0.0.0/8", "::1/128")
	add("private", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
		"64:ff9b:1::/48") // local-use NAT64 (RFC 8215): translates into the operator's network
	add("link-local", "169.254.0.0/16", "fe80::/10")
	add("CGNAT", "100.64.0.0/10")
	add("multicast", "224.0.0.0/4", "ff00::/8")
	add("reserved", "240.0.0.0/4", "192.0.0.0/24", "198.18.0.0/15",
		"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "fec0::/10",
		"::/96", // IPv4-compatible IPv6, deprecated; may reach IPv4 hosts
		"100::/64")
	return out
}()

// Classify reports which refused range addr is on ("loopback", "private",
// "link-local", ...) or "" for a public address. IPv6 addresses that carry
// an IPv4 address for a translator or tunnel to reach are judged by that
// IPv4 address: IPv4-mapped (::ffff:127.0.0.1), SIIT (::ffff:0:a.b.c.d),
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16, the IPv4 address in bits
// 16-48). Local-use NAT64 (64:ff9b:1::/48, RFC 8215) translates into the
// operator's own network and is refused as private.
func Classify(addr netip.Addr) string {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		addr = addr.Unmap()
	}
	if v4, ok := embeddedIPv4(addr); ok {
		addr = v4
	}
	for _, r := range blocked {
		if r.prefix.Contains(addr) {
			return r.name
		}
	}
	return ""
}

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	siit   = netip.MustParsePrefix("::ffff:0:0:0/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// embeddedIPv4 returns the IPv4 address an IPv6 address of a translation
// or tunnel range leads to, where the packets really go.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	if !addr.Is6() {
		return netip.Addr{}, false
	}
	b := addr.As16()
	switch {
	case nat64.Contains(addr), siit.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixTo4.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// CheckAddr refuses addr unless it is public or p allows private networks.
// host is what the caller asked for, for the message.
func (p Policy) CheckAddr(host string, addr netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	if r := Classify(addr); r != "" {
		return &BlockedError{Host: host, Addr: addr, Range: r}
	}
	return nil
}

// CheckHost refuses a host name or address that names a private
// destination without a DNS lookup: an IP literal in any form the
// resolvers of the world accept (IPv6 with a zone, IPv4-mapped IPv6, and
// the inet_aton forms 2130706433, 0x7f.1 and 0177.0.0.1), "localhost" and
// names under .localhost (RFC 6761), also when spelt in Unicode that IDNA
// maps to them (full-width digits, ideographic full stops, "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ").
// Other names pass: where they point is only known when connecting, so
// the plugin must also dial through [Policy.Control]. An empty host, and
// a non-ASCII one that IDNA cannot map to ASCII, are refused.
func (p Policy) CheckHost(host string) error {
	h, err := normalizeHost(host)
	if err != nil {
		return err
	}
	if p.AllowPrivate {
		return nil
	}
	if addr, ok := ParseAddr(h); ok {
		return p.CheckAddr(host, addr)
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return &BlockedError{Host: host, Range: "loopback"}
	}
	return nil
}

// normalizeHost returns host as the resolver will be asked for it: lower
// case, without the root's trailing dot, and a non-ASCII name mapped to
// ASCII with IDNA's lookup profile, as net/http does before it dials, so
// that "１２７。０。０。１" is read as the 127.0.0.1 it reaches. An ASCII
// host is left to the resolver as it is (IDNA's rules would refuse the
// underscores of some internal service names).
func normalizeHost(host string) (string, error) {
	h := strings.TrimSpace(host)
	if !isASCII(h) {
		a, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return "", fmt.Errorf("%q is not a valid host name: %w", host, err)
		}
		h = a
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "" {
		return "", errors.New("the host is empty")
	}
	return h, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// CheckURL checks an outbound http or https URL: it must be absolute, and
// its host must pass [Policy.CheckHost].
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("only http:// and https:// URLs are allowed, not %q", u.Scheme+":")
	}
	if u.Hostname() == "" {
		return errors.New("the URL has no host")
	}
	return p.CheckHost(u.Hostname())
}

// ParseAddr parses an IP address written in any form a resolver may
// accept: standard IPv4 and IPv6 (with or without brackets and zone), and
// the legacy inet_aton IPv4 forms with fewer than four parts or octal and
// hexadecimal parts ("2130706433", "127.1", "0177.0.0.1", "0x7f.0.0.1").
// Go's own parsers refuse the legacy forms, but libc resolvers, browsers
// and proxies may accept them, so a check must read them as they would.
func ParseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	return parseInetAton(s)
}

// parseInetAton reads a.b.c.d, a.b.c, a.b and a where each part is
// decimal, octal (leading 0) or hexadecimal (0x), the last part filling
// the remaining bytes.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, part := range parts {
		if part == "" {
			return netip.Addr{}, false
		}
		base, digits := 10, part
		switch {
		case strings.HasPrefix(strings.ToLower(part), "0x"):
			base, digits = 16, part[2:]
			if digits == "" {
				digits = "0"
			}
		case len(part) > 1 && part[0] == '0':
			base, digits = 8, part[1:]
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// Control is a net.Dialer Control function that refuses private
// destinations. It runs after DNS resolution, on the address actually
// connected to, so a name that resolves (or is rebound) to a private
// address after the settings were checked is still refused.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("netguard: %s: not an IP address: %w", address, err)
	}
	return p.CheckAddr(host, addr)
}

// Dialer returns a net.Dialer that refuses private destinations (see
// [Policy.Control]) and gives up connecting after timeout (0: no limit but
// the context's).
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// DialContext connects like net.Dialer.DialContext through [Policy.Dialer].
func (p Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return p.Dialer(0).DialContext(ctx, network, address)
}

// Transport returns an http.Transport whose connections go through
// [Policy.Dialer]. It uses no proxy from the environment: a proxy would
// make the connection to the proxy the only one checked.
func (p Policy) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = p.Dialer(30 * time.Second).DialContext
	return t
}
