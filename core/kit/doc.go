// Package kit holds leaf helpers shared by every core package. Its
// subpackages import nothing from core:
//
//   - id: sortable, prefixed identifiers (prd_01J..., ord_01J...)
//   - errs: typed domain errors with stable codes that unwrap to sentinels
//   - clock: an injectable clock so time-dependent rules are testable
//   - text: whether text typed by a person may be stored (no control
//     characters, valid UTF-8)
//   - email: the one form an email address is stored in, and whether it
//     may be
package kit
