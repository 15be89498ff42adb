package app

import (
	"net"
	"net/http"
	"net/url"
	"time"
)

// maxBenchAddresses is how many loopback source addresses the benches can
// tell apart: 127.0.1.1 to 127.0.250.250.
const maxBenchAddresses = 250 * 250

// benchTransport returns the HTTP transport of a bench client: one kept
// connection to the target. With spread, it connects from the k-th
// loopback source address (127.0.x.y, k from 0 to maxBenchAddresses-1),
// so the API's per-address rate limit sees a client of its own, as it
// sees every real buyer, instead of the whole bench as one address.
// Spread only works on a loopback target (see isLoopbackIPv4): Linux
// answers for all of 127.0.0.0/8 without configuration.
func benchTransport(k int, spread bool) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if spread {
		k %= maxBenchAddresses
		dialer.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+k/250), byte(1+k%250))}
	}
	return &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 1}
}

// isLoopbackIPv4 reports whether a URL's host is an IPv4 loopback
// address, from which every other 127.0.0.0/8 address can connect.
func isLoopbackIPv4(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.To4() != nil && ip.IsLoopback()
}
