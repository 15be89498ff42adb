// Package migrations embeds Kassa's SQL schema migrations.
//
// Files are named NNNN_name.up.sql and NNNN_name.down.sql and are shared by
// SQLite and PostgreSQL. Where the SQL must differ, add
// NNNN_name.postgres.up.sql (or .sqlite.) next to the shared file; it
// replaces the shared one for that engine. Statements are separated by a
// line holding only "--bun:split". Each migration runs in one transaction.
//
// Portable SQL: TEXT ids, BIGINT money in minor units, TIMESTAMP columns
// written by the application in UTC, INTEGER 0/1 booleans are avoided in
// favour of BOOLEAN (both engines accept it).
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
