package plugin

import (
	"fmt"

	"github.com/kassahq/kassa/core/kit/errs"
)

// Stable error codes of the plugin host.
const (
	// CodeUnavailable: the plugin process cannot be reached (crashed,
	// restarting, failed to start). Retry later.
	CodeUnavailable = "PLUGIN_UNAVAILABLE"
	// CodeTimeout: the plugin did not answer within its call deadline.
	CodeTimeout = "PLUGIN_TIMEOUT"
	// CodeFailed: the plugin answered a call with an error (a bug in the
	// plugin or its upstream); the outcome is unknown.
	CodeFailed = "PLUGIN_ERROR"
	// CodeChecksumMismatch: the executable differs from the one installed;
	// it is refused until reinstalled.
	CodeChecksumMismatch = "PLUGIN_CHECKSUM_MISMATCH"
	// CodeMisconfigured: the stored settings are refused (by the schema or
	// by the plugin); fix them before the plugin can start.
	CodeMisconfigured = "PLUGIN_MISCONFIGURED"
	// CodeNotFound: no plugin with that id is installed.
	CodeNotFound = "PLUGIN_NOT_FOUND"
	// CodeDisabled: the plugin is installed but disabled.
	CodeDisabled = "PLUGIN_DISABLED"
	// CodeInUse: the plugin still has work to finish (a gateway's open
	// payments) and cannot be removed yet.
	CodeInUse = "PLUGIN_IN_USE"
	// CodeWrongKind: the plugin is not of the kind asked for.
	CodeWrongKind = "PLUGIN_WRONG_KIND"
	// CodeAlreadyInstalled: install without replace of an installed id.
	CodeAlreadyInstalled = "PLUGIN_ALREADY_INSTALLED"
	// CodeInvalidBinary: the file to install is not a usable plugin.
	CodeInvalidBinary = "PLUGIN_INVALID_BINARY"
	// CodeInvalidSettings: settings refused by the schema or the plugin.
	CodeInvalidSettings = "INVALID_SETTINGS"
	// CodeChanged: the plugin changed concurrently; retry.
	CodeChanged = "PLUGIN_CHANGED"
	// CodeNotSupported: the plugin does not offer the optional call.
	CodeNotSupported = "PLUGIN_NOT_SUPPORTED"
	// CodeSecretsUnavailable: secrets cannot be read (master key missing or
	// changed).
	CodeSecretsUnavailable = "PLUGIN_SECRETS_UNAVAILABLE"
	// CodeSecretRequired: the settings change where the plugin connects
	// and leave a stored secret out; it must be entered again.
	CodeSecretRequired = "SECRET_REQUIRED"
)

func notFound(id string) *errs.Error {
	return errs.NotFound(CodeNotFound, fmt.Sprintf("plugin %q is not installed", id))
}

func unavailable(code, format string, args ...any) *errs.Error {
	return errs.Unavailable(code, fmt.Sprintf(format, args...))
}

// CallError is a failed call to a plugin. It unwraps to an *errs.Error
// (PLUGIN_UNAVAILABLE, PLUGIN_TIMEOUT, PLUGIN_ERROR or PLUGIN_NOT_SUPPORTED),
// to the domain's sentinel (payment.ErrOutcomeUnknown,
// payment.ErrNotSupported, ...) and to the SDK's cause, so callers test it
// with errors.Is and transports map it with errs.All.
type CallError struct {
	// Plugin is the plugin id, Method the call, e.g.
	// "PaymentGateway.CreatePayment".
	Plugin, Method string
	// Err is the domain error carrying the stable code.
	Err *errs.Error

	sentinels []error
	cause     error
}

// Error returns the domain error's message.
func (e *CallError) Error() string { return e.Err.Message }

// Unwrap exposes the domain error, the sentinels and the cause.
func (e *CallError) Unwrap() []error {
	out := make([]error, 0, len(e.sentinels)+2)
	out = append(out, e.Err)
	out = append(out, e.sentinels...)
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

func errAlreadyInstalled(id string) *errs.Error {
	return errs.Conflict("", CodeAlreadyInstalled,
		fmt.Sprintf("plugin %q is already installed; use --replace (kassa plugin install --replace PATH) to install another version", id))
}

func errChanged(id string) *errs.Error {
	return errs.Conflict("", CodeChanged, fmt.Sprintf("plugin %q was changed or removed at the same time; reload and try again", id))
}
