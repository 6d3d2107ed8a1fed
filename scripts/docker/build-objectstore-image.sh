#!/usr/bin/env bash
# Builds `weir-objectstore:local`, the compose cluster's S3 server: the base image plus
# the versitygw binary (built once per machine by scripts/s3/ensure-s3-server.sh).
#   scripts/docker/build-objectstore-image.sh [--tag TAG]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TAG="${WEIR_S3_IMAGE:-weir-objectstore:local}"
[ "${1:-}" = "--tag" ] && TAG="$2"
BIN="$(bash "$ROOT/scripts/s3/ensure-s3-server.sh")"
CONTEXT="$(mktemp -d "${TMPDIR:-/tmp}/weir-objectstore-context.XXXXXX")"
trap 'rm -rf "$CONTEXT"' EXIT
cp "$BIN" "$CONTEXT/versitygw"
cp "$ROOT/Dockerfile.objectstore" "$CONTEXT/Dockerfile"
cp "$ROOT/scripts/docker/objectstore-entrypoint.sh" "$CONTEXT/objectstore-entrypoint.sh"
if docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-1}"; else export DOCKER_BUILDKIT=0; fi
started=$(date +%s)
docker build -q -t "$TAG" "$CONTEXT" >&2
echo "[docker/build] image $TAG in $(( $(date +%s) - started ))s" >&2
