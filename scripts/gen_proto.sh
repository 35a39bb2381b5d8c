#!/usr/bin/env bash
# Regenerates the Python stubs of proto/bitseg/v1/*.proto into src/bitseg/v1 (never edit those by hand).
#
# Usage: scripts/gen_proto.sh [OUT_DIR]     (OUT_DIR defaults to src; the modules land in OUT_DIR/bitseg/v1)
# Uses the grpcio-tools of the current Python (python -m grpc_tools.protoc), so the output depends only on
# the .proto files and that version; tests/server/test_generated.py fails when the committed stubs are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-src}"
mkdir -p "$out/bitseg/v1"
python -m grpc_tools.protoc -Iproto \
    --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
    proto/bitseg/v1/*.proto
printf '"""Generated gRPC stubs of proto/bitseg/v1 (scripts/gen_proto.sh); do not edit."""\n' > "$out/bitseg/v1/__init__.py"
