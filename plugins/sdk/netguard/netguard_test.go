package netguard_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/kassahq/kassa/plugins/sdk/netguard"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	runRefusals(t, "CheckURL", netguard.Policy.CheckURL, []refusal{
		{"public IPv4", "https://93.184.216.34/hook", false, false},
		{"public name", "https://hooks.example.com/kassa", false, false},
		{"public IPv6", "https://[2606:4700:4700::1111]/", false, false},
		{"loopback", "http://127.0.0.1:8080/", true, false},
		{"loopback elsewhere in 127/8", "http://127.45.6.7/", true, false},
		{"localhost", "http://localhost:9000/x", true, false},
		{"localhost upper case with dot", "http://LOCALHOST./x", true, false},
		{"under .localhost", "http://api.localhost/", true, false},
		{"decimal IPv4", "http://2130706433/", true, false},
		{"octal IPv4", "http://0177.0.0.1/", true, false},
		{"hex IPv4", "http://0x7f.0.0.1/", true, false},
		{"short IPv4", "http://127.1/", true, false},
		{"hex whole", "http://0x7f000001/", true, false},
		{"IPv6 loopback", "http://[::1]:8080/", true, false},
		{"IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]/", true, false},
		{"IPv4-mapped IPv6 metadata", "http://[::ffff:a9fe:a9fe]/", true, false},
		{"NAT64 private", "http://[64:ff9b::10.0.0.1]/", true, false},
		{"SIIT loopback", "http://[::ffff:0:7f00:1]/", true, false},
		{"6to4 metadata", "http://[2002:a9fe:a9fe::]/", true, false},
		{"local-use NAT64", "http://[64:ff9b:1::808:808]/", true, false},
		{"full-width loopback", "http://１２７.０.０.１/", true, false},
		{"ideographic full stops", "http://127。0。0。1:8080/", true, false},
		{"circled localhost", "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", true, false},
		{"metadata", "http://169.254.169.254/latest/meta-data/", true, false},
		{"link-local IPv6 with zone", "http://[fe80::1%25eth0]/", true, false},
		{"RFC 1918 10/8", "http://10.1.2.3/", true, false},
		{"RFC 1918 172.16/12", "https://172.31.255.255/", true, false},
		{"RFC 1918 192.168/16", "https://192.168.1.1/", true, false},
		{"ULA", "http://[fd00::5]/", true, false},
		{"unspecified", "http://0.0.0.0:80/", true, false},
		{"zero decimal", "http://0/", true, false},
		{"IPv6 unspecified", "http://[::]/", true, false},
		{"multicast", "http://224.0.0.1/", true, false},
		{"IPv6 multicast", "http://[ff02::1]/", true, false},
		{"CGNAT", "http://100.64.0.1/", true, false},
		{"broadcast", "http://255.255.255.255/", true, false},
		{"just outside 172.16/12", "https://172.32.0.1/", false, false},
		{"just outside CGNAT", "https://100.128.0.1/", false, false},
		{"name that looks numeric but is not", "https://1.2.3.4.example.com/", false, false},
		{"ftp", "ftp://example.com/", false, true},
		{"no host", "http:///path", false, true},
		{"relative", "/hook", false, true},
	})
}

// refusal is a case of a check that may refuse its input as a private
// destination (blocked) or as malformed (invalid).
type refusal struct {
	name, in string
	blocked  bool
	invalid  bool
}

// runRefusals runs check on each case under the default policy and, where
// private networks are allowed, expects only malformed input refused.
func runRefusals(t *testing.T, name string, check func(netguard.Policy, string) error, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := check(netguard.Policy{}, tt.in)
			if got := errors.Is(err, netguard.ErrBlocked); got != tt.blocked {
				t.Errorf("%s(%q) = %v; blocked %v, want %v", name, tt.in, err, got, tt.blocked)
			}
			if got := err != nil && !errors.Is(err, netguard.ErrBlocked); got != tt.invalid {
				t.Errorf("%s(%q) = %v; invalid %v, want %v", name, tt.in, err, got, tt.invalid)
			}
			if err := check(netguard.Policy{AllowPrivate: true}, tt.in); (err != nil) != tt.invalid {
				t.Errorf("allowed: %s(%q) = %v, want invalid %v", name, tt.in, err, tt.invalid)
			}
		})
	}
}

func TestParseAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" when not an address
	}{
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"10.0.258", "10.0.1.2"},
		{"0", "0.0.0.0"},
		{"[::1]", "::1"},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"1.2.3.256", ""},
		{"256.1.1.1", ""},
		{"08.1.1.1", ""}, // 8 is not an octal digit
		{"1.2.3.4.5", ""},
		{"example.com", ""},
		{"1..2", ""},
	}
	for _, tt := range tests {
		got, ok := netguard.ParseAddr(tt.in)
		if (tt.want == "") == ok || (ok && got.String() != tt.want) {
			t.Errorf("ParseAddr(%q) = %v, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string // "" for public
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"2001:4860:4860::8888", ""},
		{"::ffff:8.8.8.8", ""},
		{"::ffff:127.0.0.1", "loopback"},
		{"64:ff9b::8.8.8.8", ""},
		{"64:ff9b::10.0.0.1", "private"},
		// SIIT (::ffff:0:0:0/96): the IPv4 address in the last 32 bits.
		{"::ffff:0:8.8.8.8", ""},
		{"::ffff:0:127.0.0.1", "loopback"},
		{"::ffff:0:169.254.169.254", "link-local"},
		{"::ffff:0:a00:1", "private"},
		// 6to4 (2002::/16): the IPv4 address in bits 16-48.
		{"2002:808:808::1", ""},
		{"2002:7f00:1::", "loopback"},
		{"2002:a9fe:a9fe::1", "link-local"},
		{"2002:c0a8:101:1::1", "private"},
		{"2002:6440:1::", "CGNAT"},
		{"2002::1", "unspecified"},
		// Local-use NAT64 (RFC 8215) leads into the operator's network.
		{"64:ff9b:1::8.8.8.8", "private"},
		{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "private"},
		{"64:ff9b:2::1", ""}, // just outside 64:ff9b:1::/48
	}
	for _, tt := range tests {
		if got := netguard.Classify(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Classify(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	runRefusals(t, "CheckHost", netguard.Policy.CheckHost, []refusal{
		{"public name", "smtp.example.com", false, false},
		{"public IDN", "bücher.example", false, false},
		{"underscore kept as the resolver gets it", "smtp_relay", false, false},
		{"full-width digits", "１２７.０.０.１", true, false},
		{"ideographic full stops", "127。0。0。1", true, false},
		{"full-width and ideographic", "１０。０。０。５", true, false},
		{"full-width inet_aton", "０ｘ７ｆ.１", true, false},
		{"circled letters", "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ", true, false},
		{"one full-width letter", "locａlhost", true, false},
		{"under .localhost in Unicode", "api.ｌｏｃａｌｈｏｓｔ", true, false},
		{"trailing ideographic full stop", "localhost。", true, false},
		{"full-width IPv6 colons", "：：１", false, true},
		{"private-use character", "\ue000.example", false, true},
		{"ideographic space", "local\u3000host", false, true},
		{"empty", " ", false, true},
		{"root only", ".", false, true},
	})
}

// TestTransportRefusesLoopback proves the connect-time check: a loopback
// server (the only kind a test may reach) is refused by default, also when
// reached through a name, and reachable when private networks are allowed.
func TestTransportRefusesLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "reached") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		res, err := (&http.Client{Transport: netguard.Policy{}.Transport()}).Get(u)
		if err == nil {
			res.Body.Close()
			t.Fatalf("GET %s through the default policy reached the server", u)
		}
		if !errors.Is(err, netguard.ErrBlocked) {
			t.Fatalf("GET %s: %v, want ErrBlocked", u, err)
		}
	}

	res, err := (&http.Client{Transport: netguard.Policy{AllowPrivate: true}.Transport()}).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with private networks allowed: %v", err)
	}
	defer res.Body.Close()
	if b, _ := io.ReadAll(res.Body); string(b) != "reached" {
		t.Fatalf("body %q", b)
	}
}

func TestDialContextRefusesLoopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	var be *netguard.BlockedError
	if _, err := (netguard.Policy{}).DialContext(context.Background(), "tcp", ln.Addr().String()); !errors.As(err, &be) || be.Range != "loopback" {
		t.Fatalf("dial %s: %v, want a loopback BlockedError", ln.Addr(), err)
	}
	c, err := netguard.Policy{AllowPrivate: true}.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial allowed: %v", err)
	}
	c.Close()
}
