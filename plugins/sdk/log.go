package sdk

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// NewLogger returns a slog.Logger that writes JSON lines in the format the
// host understands (hclog's JSON: "@level", "@message", "@timestamp"), so a
// plugin's log lines appear in Kassa's log with their level and attributes,
// tagged with the plugin's id. The Serve functions install it as slog's
// default logger writing to os.Stderr; plugins just call slog.Info and
// friends. Never log settings, secrets or personal data beyond ids.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				lvl, _ := a.Value.Any().(slog.Level)
				return slog.String("@level", LevelName(lvl))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}

// LevelName is the lower-case name of a slog level as hclog and the
// KASSA_PLUGIN_LOG_LEVEL variable spell it: trace, debug, info, warn, error.
func LevelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}

// ParseLevel maps hclog's level names ("trace", "debug", "info", "warn",
// "error") to slog levels; unknown names map to info.
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		return slog.LevelDebug - 4
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
