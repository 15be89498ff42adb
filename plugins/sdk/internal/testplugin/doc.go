// Package testplugin holds tiny plugins used by the SDK's own tests (host
// lifecycle, crashes, deadlines, the invoice sequence over the broker). Each
// sub-directory is a main package built by the tests.
package testplugin
