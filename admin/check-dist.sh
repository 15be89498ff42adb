#!/usr/bin/env bash
# Proves the committed admin/dist (and the generated src/api/schema.ts) is
# what the sources build: rebuilds into a temporary directory and diffs.
# A difference means someone changed src/ or the schema without `make admin`.
set -euo pipefail
cd "$(dirname "$0")"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null

node scripts/gen-types.mjs ../graphql/testdata/schema.golden.graphql "$tmp/schema.ts"
if ! diff -u src/api/schema.ts "$tmp/schema.ts"; then
	echo "admin: src/api/schema.ts is stale; run make admin" >&2
	exit 1
fi
npx tsc --noEmit
npx vite build --logLevel warn --outDir "$tmp/dist" --emptyOutDir
if ! diff -ru dist "$tmp/dist"; then
	echo "admin: dist/ differs from what src/ builds; run make admin" >&2
	exit 1
fi
echo "admin: dist/ matches the sources"
