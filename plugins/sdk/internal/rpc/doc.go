// Package rpc holds the plumbing shared by the kind packages and the host:
// the common Plugin service (server and client), conversions between SDK
// types and generated protobuf types, gRPC error mapping and the serve
// helper. It is internal: authors and the host see only SDK types.
package rpc
