package peer

import (
	"context"
	"strings"
	"testing"
)

func TestWithFrom(t *testing.T) {
	t.Parallel()
	if got := From(context.Background()); got != (Client{}) {
		t.Errorf("empty context: %+v", got)
	}
	ctx := With(context.Background(), Client{IP: "203.0.113.9", UserAgent: strings.Repeat("a", 1000)})
	got := From(ctx)
	if got.IP != "203.0.113.9" || len(got.UserAgent) != maxUserAgent {
		t.Errorf("From = %q, %d bytes of User-Agent", got.IP, len(got.UserAgent))
	}
}

func TestNetwork(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ ip, want string }{
		{"203.0.113.9", "203.0.113.9"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::ffff", "2001:db8:1:2::/64"},
		{"::ffff:203.0.113.9", "203.0.113.9"},
		{"64:ff9b::203.0.113.9", "203.0.113.9"},                 // NAT64
		{"2002:cb00:7109::1", "203.0.113.9"},                    // 6to4: cb00:7109 is 203.0.113.9
		{"2002:cb00:7109:1::1", "203.0.113.9"},                  // another /64 of the same 6to4 host
		{"2001:0:4136:e378:8000:63bf:34ff:8ef6", "203.0.113.9"}, // Teredo: the client's address inverted
		{"2001:db8:1:2::1%eth0", "2001:db8:1:2::/64"},
		{"not an address", "not an address"},
	} {
		if got := Network(c.ip); got != c.want {
			t.Errorf("Network(%q) = %q, want %q", c.ip, got, c.want)
		}
	}
}

func TestShared(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ip     string
		shared bool
	}{
		{"203.0.113.9", false},
		{"2001:db8::1", false},
		{"8.8.8.8", false},
		{"127.0.0.1", true},
		{"127.0.3.4", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"192.168.1.1", true},
		{"fd00::1", true},
		{"169.254.1.1", true},
		{"fe80::1", true},
		{"0.0.0.0", true},
		{"100.64.0.1", true}, // carrier-grade NAT, cloud load balancers
		{"100.127.255.254", true},
		{"100.128.0.1", false},
		{"::ffff:10.0.0.1", true},
		{"64:ff9b::10.0.0.1", true},
		{"64:ff9b::203.0.113.9", false},
		{"", true},
		{"garbage", true},
	} {
		if got := Shared(c.ip); got != c.shared {
			t.Errorf("Shared(%q) = %v, want %v", c.ip, got, c.shared)
		}
	}
}
