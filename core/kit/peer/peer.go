// Package peer carries who is on the other end of the HTTP request being
// served (address and User-Agent) in its context. The HTTP layer fills it
// once; accounts use it for throttling and session records, payments hand
// it to gateways that require the buyer's IP.
package peer

import "context"

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
