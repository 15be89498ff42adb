// Package reqid carries the id of the HTTP request being served in its
// context, so every log line a request causes, in any layer, can name it
// (the id is also sent back in the X-Request-Id response header).
package reqid

import "context"

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	s, _ := ctx.Value(key{}).(string)
	return s
}
