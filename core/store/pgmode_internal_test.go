package store

import "testing"

func TestWithExecMode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://u@h/db", "postgres://u@h/db?default_query_exec_mode=exec"},
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable&default_query_exec_mode=exec"},
		{"postgres://u@h/db?default_query_exec_mode=simple_protocol", "postgres://u@h/db?default_query_exec_mode=simple_protocol"},
	} {
		if got := withExecMode(tt.in); got != tt.want {
			t.Errorf("withExecMode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
