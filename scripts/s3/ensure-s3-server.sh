#!/usr/bin/env bash
# Installs the S3-compatible server the tests and the Compose cluster use (versitygw, its
# posix backend serves a directory over S3) once per machine, and prints its path last.
# The binary is cached outside the worktree so that every clone on this machine shares it.
set -euo pipefail

VERSION="${WEIR_VERSITYGW_VERSION:-v1.8.0}"
# A machine-wide cache when we may write there (root, as CI), so that a fresh HOME (the doc
# tests give one) finds the binary too; the user's cache otherwise.
if [ -z "${WEIR_S3_CACHE_DIR:-}" ] && { mkdir -p /var/cache/weir 2>/dev/null && [ -w /var/cache/weir ]; }; then
  WEIR_S3_CACHE_DIR="/var/cache/weir/versitygw-$VERSION"
fi
CACHE="${WEIR_S3_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weir/versitygw-$VERSION}"
BIN="$CACHE/versitygw"

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "ensure-s3-server: installing Go (Debian golang-go)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >&2
fi

mkdir -p "$CACHE"
started=$(date +%s)
echo "ensure-s3-server: go install github.com/versity/versitygw/cmd/versitygw@$VERSION (a few minutes on 2 cores)" >&2
# A lock so that parallel callers build once; the build goes to a temp dir and is moved in whole.
exec 9>"$CACHE/.lock"
flock 9
if [ ! -x "$BIN" ]; then
  tmp=$(mktemp -d "$CACHE/build.XXXXXX")
  GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VERSION" >&2
  mv "$tmp/versitygw" "$BIN"
  rmdir "$tmp"
fi
echo "ensure-s3-server: ready after $(( $(date +%s) - started )) s" >&2
echo "$BIN"
