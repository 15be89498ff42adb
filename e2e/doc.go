// Package e2e holds black-box tests of Kassa: they build the kassa binary
// and the reference plugins, run them as processes on loopback, and drive
// the pages with Debian's Chromium.
package e2e
