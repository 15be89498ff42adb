package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/host"
)

// domainSentinels are the errors of a port that call failures unwrap to.
type domainSentinels struct {
	// unknown is the port's "outcome unknown" (payment.ErrOutcomeUnknown).
	unknown error
	// notSupported is the port's "optional call not offered".
	notSupported error
}

// errBadAnswer marks a plugin answer the host cannot use (e.g. an unknown
// currency): a plugin bug, and the outcome is unknown.
var errBadAnswer = errors.New("plugin sent an invalid answer")

func badAnswer(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadAnswer, fmt.Sprintf(format, args...))
}

// call runs fn against the running process with the per-call deadline, and
// turns failures into a CallError. A plugin that is down fails before
// anything is sent (PLUGIN_UNAVAILABLE without "outcome unknown").
func (i *instance) call(ctx context.Context, method string, d domainSentinels, fn func(ctx context.Context, p *host.Plugin) error) error {
	i.lastCall.Store(time.Now().UnixNano())
	p, err := i.acquire(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, i.s.opts.CallTimeout)
	defer cancel()
	err = fn(cctx, p)
	if err == nil {
		return nil
	}
	return i.callError(ctx, cctx, p, method, d, err)
}

func (i *instance) callError(ctx, cctx context.Context, p *host.Plugin, method string, d domainSentinels, err error) error {
	ce := &CallError{Plugin: i.id, Method: method, cause: err}
	var unknown []error
	if d.unknown != nil {
		unknown = []error{d.unknown}
	}
	switch {
	case errors.Is(err, sdk.ErrUnimplemented):
		ce.Err = errs.Invalid("", CodeNotSupported, fmt.Sprintf("plugin %s does not support %s", i.id, method))
		if d.notSupported != nil {
			ce.sentinels = []error{d.notSupported}
		}
		return ce
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(cctx.Err(), context.DeadlineExceeded):
		limit := i.s.opts.CallTimeout
		if dl, ok := ctx.Deadline(); ok && ctx.Err() != nil {
			ce.Err = unavailable(CodeTimeout, "plugin %s did not answer %s before the caller's deadline (%s); the outcome is unknown", i.id, method, dl.Format("15:04:05.000"))
		} else {
			ce.Err = unavailable(CodeTimeout, "plugin %s did not answer %s within %s; the outcome is unknown", i.id, method, limit)
		}
		ce.sentinels = append(unknown, context.DeadlineExceeded)
	case ctx.Err() != nil:
		ce.Err = unavailable(CodeUnavailable, "call %s to plugin %s was canceled by the caller; the outcome is unknown", method, i.id)
		ce.sentinels = append(unknown, ctx.Err())
	case errors.Is(err, sdk.ErrUnavailable) || p.Exited():
		ce.Err = unavailable(CodeUnavailable, "plugin %s became unavailable during %s (its process crashed or was stopped); the outcome is unknown; the plugin is being restarted", i.id, method)
		ce.sentinels = unknown
		// Let the exit handling run before answering, so the next caller
		// gets a clean "restarting" instead of a call into a dead
		// connection. go-plugin notices the exit a moment after the
		// connection breaks.
		select {
		case <-p.Done():
		case <-time.After(250 * time.Millisecond):
		}
		i.running()
	default:
		ce.Err = unavailable(CodeFailed, "plugin %s failed %s: %v; the outcome is unknown", i.id, method, err)
		ce.sentinels = unknown
	}
	i.log.Warn("plugin call failed", "method", method, "code", ce.Err.Code, attrErr, err)
	return ce
}
