package host

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// slogHCLog adapts a *slog.Logger to the hclog.Logger go-plugin wants. The
// plugin's stderr lines (its slog JSON output) arrive here already parsed by
// go-plugin, with their level and attributes.
type slogHCLog struct {
	l    *slog.Logger
	name string
	args []any
	// mask hides the plugin's secret settings in its lines.
	mask *secretMask
}

var _ hclog.Logger = (*slogHCLog)(nil)

func newHCLog(l *slog.Logger, mask *secretMask) hclog.Logger {
	if mask == nil {
		mask = &secretMask{}
	}
	return &slogHCLog{l: l, mask: mask}
}

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (h *slogHCLog) Log(level hclog.Level, msg string, args ...any) {
	lvl := slogLevel(level)
	if !h.l.Enabled(context.Background(), lvl) {
		return
	}
	attrs := make([]any, 0, len(h.args)+len(args))
	all := append(append([]any(nil), h.args...), args...)
	for i := 0; i+1 < len(all); i += 2 {
		k, ok := all[i].(string)
		if !ok || k == "timestamp" || k == "@module" || k == "@caller" {
			continue
		}
		if k == "plugin" {
			// go-plugin names the binary's path "plugin"; our logger
			// already carries plugin=<id>, and one key must mean one thing.
			k = "path"
		}
		attrs = append(attrs, k, h.mask.value(all[i+1]))
	}
	h.l.Log(context.Background(), lvl, h.mask.apply(msg), attrs...)
}

func (h *slogHCLog) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *slogHCLog) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *slogHCLog) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *slogHCLog) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *slogHCLog) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *slogHCLog) enabled(l hclog.Level) bool {
	return h.l.Enabled(context.Background(), slogLevel(l))
}

func (h *slogHCLog) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *slogHCLog) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *slogHCLog) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *slogHCLog) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *slogHCLog) IsError() bool { return h.enabled(hclog.Error) }

func (h *slogHCLog) ImpliedArgs() []any { return h.args }

func (h *slogHCLog) With(args ...any) hclog.Logger {
	return &slogHCLog{l: h.l, name: h.name, args: append(append([]any(nil), h.args...), args...), mask: h.mask}
}

func (h *slogHCLog) Name() string { return h.name }

func (h *slogHCLog) Named(name string) hclog.Logger {
	n := name
	if h.name != "" {
		n = h.name + "." + name
	}
	return &slogHCLog{l: h.l, name: n, args: h.args, mask: h.mask}
}

func (h *slogHCLog) ResetNamed(name string) hclog.Logger {
	return &slogHCLog{l: h.l, name: name, args: h.args, mask: h.mask}
}

// SetLevel is a no-op: the slog handler decides.
func (h *slogHCLog) SetLevel(hclog.Level) {}

// GetLevel reports the most verbose level the handler accepts, so go-plugin
// does not drop plugin lines the handler would keep.
func (h *slogHCLog) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

func (h *slogHCLog) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *slogHCLog) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		h.Info(string(p))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
