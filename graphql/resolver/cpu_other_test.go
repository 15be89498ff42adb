//go:build !unix

package resolver_test

import "testing"

// reportCPU reports nothing where getrusage is missing (see
// cpu_unix_test.go).
func reportCPU(*testing.B) func() { return func() {} }
