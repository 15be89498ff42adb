package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func init() {
	commands["healthcheck"] = command{"exit 0 when the local instance answers /readyz (for container health checks)", runHealthcheck}
}

// runHealthcheck lets distroless containers, which have no curl, probe
// the server.
func runHealthcheck(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("healthcheck", io, "Usage: kassa healthcheck [flags]\n\n"+
		"Requests /readyz of the instance on --http-addr (0.0.0.0 and an empty host become 127.0.0.1) and exits\n"+
		"0 when it answers ready, 1 otherwise, within 3 seconds. For container health checks: the distroless\n"+
		"image has no curl.\n", "http-addr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	addr := cfg.HTTPAddr
	if strings.HasPrefix(addr, "0.0.0.0:") || strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1:" + addr[strings.LastIndexByte(addr, ':')+1:]
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", res.Status)
	}
	fmt.Fprintln(io.Stdout, "ready")
	return nil
}
