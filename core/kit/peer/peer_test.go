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
