#!/usr/bin/env bash
# gen.sh regenerates the Go code of the Kassa plugin protocol from the .proto
# files next to this script into plugins/sdk/internal/pb. `make proto` runs it.
#
# Tool versions are pinned so the committed code is reproducible:
#   protoc             from Debian's protobuf-compiler (apt-get install protobuf-compiler)
#   protoc-gen-go      google.golang.org/protobuf/cmd/protoc-gen-go
#   protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc
# The Go generators are installed at the pinned versions into a cache directory
# (not your GOPATH/bin) on first use.
set -euo pipefail

PROTOC_VERSION="3.21.12"
PROTOC_GEN_GO_VERSION="v1.36.12"
PROTOC_GEN_GO_GRPC_VERSION="v1.6.0"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../sdk/internal/pb"

# protoc: checked, not installed (it comes from the system's package manager).
if ! command -v protoc >/dev/null 2>&1; then
	echo "gen.sh: protoc not found; install it with: apt-get install -y protobuf-compiler" >&2
	exit 1
fi
got="$(protoc --version | awk '{print $2}')"
if [[ "$got" != "$PROTOC_VERSION" ]]; then
	echo "gen.sh: protoc $got found, want $PROTOC_VERSION (Debian's protobuf-compiler)." >&2
	echo "gen.sh: set PROTOC_VERSION_OVERRIDE=1 to generate anyway and review the diff." >&2
	[[ "${PROTOC_VERSION_OVERRIDE:-}" == "1" ]] || exit 1
fi

# Go generators: pinned, installed into a per-version cache directory.
tools="${KASSA_PROTO_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/kassa/proto-tools}/go-${PROTOC_GEN_GO_VERSION}-grpc-${PROTOC_GEN_GO_GRPC_VERSION}"
if [[ ! -x "$tools/protoc-gen-go" || ! -x "$tools/protoc-gen-go-grpc" ]]; then
	echo "gen.sh: installing protoc-gen-go $PROTOC_GEN_GO_VERSION and protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION into $tools" >&2
	mkdir -p "$tools"
	GOBIN="$tools" GOFLAGS=-mod=mod go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
	GOBIN="$tools" GOFLAGS=-mod=mod go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
fi
v="$("$tools/protoc-gen-go" --version | awk '{print $2}')"
[[ "$v" == "$PROTOC_GEN_GO_VERSION" ]] || { echo "gen.sh: protoc-gen-go $v, want $PROTOC_GEN_GO_VERSION" >&2; exit 1; }
v="$("$tools/protoc-gen-go-grpc" --version | awk '{print $2}')"
[[ "v${v#v}" == "$PROTOC_GEN_GO_GRPC_VERSION" ]] || { echo "gen.sh: protoc-gen-go-grpc $v, want $PROTOC_GEN_GO_GRPC_VERSION" >&2; exit 1; }

rm -rf "$out/kassa"
mkdir -p "$out"
cd "$here"
PATH="$tools:$PATH" protoc \
	-I . \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
	kassa/plugin/v1/*.proto
echo "gen.sh: generated $(ls "$out"/kassa/plugin/v1 | wc -l) files in ${out#"$here/"}" >&2
