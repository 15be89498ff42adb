// Package sdk holds what every Kassa plugin shares, whatever its kind: the
// plugin's identity card ([Info]), its settings ([Schema], [ConfigError]),
// its health ([Health]), pages served through Kassa ([HTTPRequest],
// [HTTPResponse]), the go-plugin handshake ([Handshake]) and the errors that
// cross the process boundary ([ErrUnimplemented], [ErrUnavailable]).
//
// Plugin authors import one kind package next to this one and write a main
// that is one call:
//
//	package main
//
//	import "github.com/kassahq/kassa/plugins/sdk/payment"
//
//	func main() { payment.Serve(&Gateway{}) }
//
// The kind packages are [github.com/kassahq/kassa/plugins/sdk/payment],
// [github.com/kassahq/kassa/plugins/sdk/invoice] and
// [github.com/kassahq/kassa/plugins/sdk/notify]. The host side (what Kassa
// itself and the conformance kit use to start plugins) is
// [github.com/kassahq/kassa/plugins/sdk/host]; the conformance kit is
// [github.com/kassahq/kassa/plugins/sdk/plugintest].
//
// The SDK never exposes generated protobuf types: they live in an internal
// package, so upgrading protobuf or adding fields never breaks a plugin.
package sdk
