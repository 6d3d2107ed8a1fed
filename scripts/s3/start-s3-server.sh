#!/usr/bin/env bash
# Serves a directory over S3 (versitygw's posix backend) in the foreground, for a local
# cluster or a container: start-s3-server.sh DATA_DIR [LISTEN] [BUCKET...]
# Each BUCKET is created as a directory of DATA_DIR. Credentials come from
# WEIR_S3_ACCESS_KEY / WEIR_S3_SECRET_KEY (defaults: weir / weir-secret-key).
set -euo pipefail
DATA="${1:?usage: start-s3-server.sh DATA_DIR [LISTEN] [BUCKET...]}"
LISTEN="${2:-127.0.0.1:7070}"
shift $(( $# > 1 ? 2 : 1 ))
BIN="${WEIR_VERSITYGW:-$(bash "$(dirname "$0")/ensure-s3-server.sh")}"
mkdir -p "$DATA"
for bucket in "$@"; do mkdir -p "$DATA/$bucket"; done
exec "$BIN" --quiet --port "$LISTEN" \
  --access "${WEIR_S3_ACCESS_KEY:-weir}" --secret "${WEIR_S3_SECRET_KEY:-weir-secret-key}" \
  posix "$DATA"
