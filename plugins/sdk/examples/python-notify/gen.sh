#!/usr/bin/env bash
# gen.sh regenerates the Python protobuf modules in src/ from Kassa's .proto
# files (plugins/proto) and the two go-plugin wire messages in proto/. The
# output is committed. protoc is Debian's protobuf-compiler 3.21.12, which
# matches Debian bookworm's python3-protobuf; Debian's python3-grpc-tools
# (1.14) is too old to generate service code for this grpcio, so services
# are registered by hand in src/__main__.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
rm -f src/kassa/plugin/v1/*_pb2.py src/kassa_example/wire/*_pb2.py
protoc -I ../../../proto -I proto --python_out=src \
	kassa/plugin/v1/common.proto kassa/plugin/v1/notify.proto \
	kassa_example/wire/health.proto kassa_example/wire/controller.proto
echo "gen.sh: generated $(find src -name '*_pb2.py' | wc -l) modules" >&2
