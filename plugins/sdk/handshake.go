package sdk

import (
	"errors"

	goplugin "github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the major version of the Kassa plugin protocol this SDK
// speaks. Changes within a version are additive; a breaking change is a new
// version served side by side through go-plugin's VersionedPlugins.
const ProtocolVersion = 1

// Handshake is the go-plugin handshake shared by Kassa and its plugins. A
// binary started without the magic cookie prints a notice and exits, so
// plugins are not run by accident. The protocol version is negotiated through
// VersionedPlugins, so ProtocolVersion here is only the default.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "KASSA_PLUGIN",
	MagicCookieValue: "6f1d3c2b-kassa-plugin-v1-a8e4b7d9",
}

// PluginSetName returns the name under which go-plugin serves and dispenses
// the client of a kind ("payment", "invoice", "notify").
func PluginSetName(k Kind) string { return string(k) }

// Environment variables the host sets for a plugin process.
const (
	// EnvDataDir names a writable directory the host gives each plugin for
	// its own files (caches, sandbox state). It survives restarts. Unset
	// when the host gives no directory.
	EnvDataDir = "KASSA_PLUGIN_DATA_DIR"
	// EnvPluginID carries the id under which the host installed the plugin.
	EnvPluginID = "KASSA_PLUGIN_ID"
)

// Errors that cross the process boundary. The host-side clients map gRPC
// status codes back to them, so callers can use errors.Is.
var (
	// ErrUnimplemented means the plugin does not implement an optional call
	// (gRPC codes.Unimplemented). The Unimplemented* types of the kind
	// packages return it.
	ErrUnimplemented = errors.New("plugin: method not implemented")
	// ErrUnavailable means the plugin process could not be reached: it
	// crashed, was killed or is restarting (gRPC codes.Unavailable or
	// codes.Canceled after the process exited). The outcome of a mutating
	// call is unknown.
	ErrUnavailable = errors.New("plugin: unavailable")
)
