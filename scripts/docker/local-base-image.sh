#!/usr/bin/env bash
# Build a local stand-in for the `node:20-bookworm-slim` image when no container
# registry is reachable (air-gapped machines, CI sandboxes).
#
#   scripts/docker/local-base-image.sh [--force] [--no-npm] [--tag TAG]
#
# How: `debootstrap --variant=minbase bookworm` from the Debian mirror that this
# machine's apt already uses, copy in this machine's own `node` binary (and npm),
# add a `node` user (uid/gid 1000, like the official image), and `docker import`
# the rootfs under TAG (default node:20-bookworm-slim).
#
# Idempotent: does nothing when TAG already exists (unless --force). The rootfs
# tarball is cached in .weir/cache/ (gitignored) so a rebuild after `docker
# system prune` only needs the import step.
set -euo pipefail

TAG="node:20-bookworm-slim"
FORCE=0
WITH_NPM=1
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --no-npm) WITH_NPM=0 ;;
    --tag) TAG="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE_DIR="${WEIR_DOCKER_CACHE:-$ROOT/.weir/cache}"
SUITE=bookworm
START=$(date +%s)

log() { echo "[local-base-image] $*" >&2; }

if [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG already present; nothing to do (use --force to rebuild)"
  exit 0
fi

NODE_BIN="$(command -v node || true)"
if [ -z "$NODE_BIN" ]; then
  echo "node is not installed on this machine; cannot build a local $TAG" >&2
  exit 1
fi
NODE_BIN="$(readlink -f "$NODE_BIN")"
NODE_VERSION="$("$NODE_BIN" --version)"
case "$NODE_VERSION" in
  v20.*) ;;
  *) log "warning: host node is $NODE_VERSION, not v20; tagging it as $TAG anyway" ;;
esac

# The mirror this machine's apt is configured with (deb822 .sources or one-line .list).
detect_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # A stanza whose Suites include $SUITE and whose URIs end in /debian.
    uri=$(awk -v suite="$SUITE" '
      BEGIN { RS=""; FS="\n" }
      {
        u=""; s=0
        for (i=1; i<=NF; i++) {
          if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, a, /[ \t]+/); u=a[1] }
          if ($i ~ /^Suites:/ && $i ~ ("[ \t]" suite "([ \t]|$)")) s=1
        }
        if (s && u ~ /\/debian\/?$/) { print u; exit }
      }' "$f")
    if [ -n "$uri" ]; then echo "$uri"; return; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk -v suite="$SUITE" '$1=="deb" && $0 ~ (" " suite " ") { for (i=2;i<=NF;i++) if ($i !~ /^\[/) { print $i; exit } }' "$f" \
      | grep -E '/debian/?$' | head -n1 || true)
    if [ -n "$uri" ]; then echo "$uri"; return; fi
  done
  echo "http://deb.debian.org/debian"
}

mkdir -p "$CACHE_DIR"
ROOTFS_TAR="$CACHE_DIR/debian-$SUITE-minbase-rootfs.tar"

if [ ! -s "$ROOTFS_TAR" ] || [ "$FORCE" = 1 ]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    if [ ! -f /var/lib/apt/periodic/weir-apt-updated ] && [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
      apt-get update
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap; }
  fi
  MIRROR="$(detect_mirror)"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/weir-rootfs.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
  log "debootstrap --variant=minbase $SUITE from $MIRROR"
  T0=$(date +%s)
  debootstrap --variant=minbase --components=main \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$SUITE" "$WORK/rootfs" "$MIRROR" > "$CACHE_DIR/debootstrap.log" 2>&1 || {
      tail -n 30 "$CACHE_DIR/debootstrap.log" >&2; exit 1; }
  log "debootstrap took $(( $(date +%s) - T0 ))s"
  R="$WORK/rootfs"
  # Slim it down like the official -slim images: no apt lists/caches, docs, man pages, locales.
  rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin "$R"/var/lib/apt/lists/* \
         "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/* \
         "$R"/var/log/* "$R"/tmp/* 2>/dev/null || true
  find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
  # apt sources pointing at the same mirror, so derived images can apt-get where a network exists.
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$MIRROR" "$SUITE" "$SUITE" > "$R/etc/apt/sources.list.d/debian.sources"
  : > "$R/etc/apt/sources.list"
  # Empty hostname/resolv.conf/hosts: docker manages these at run time.
  : > "$R/etc/hostname"; : > "$R/etc/resolv.conf"
  tar -C "$R" --numeric-owner -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$WORK"; trap - EXIT
else
  log "reusing cached rootfs $ROOTFS_TAR"
fi

# Layer node (+ npm) and the node user on top of the cached rootfs.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/weir-rootfs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
R="$WORK/rootfs"
mkdir -p "$R"
tar -C "$R" --numeric-owner -xf "$ROOTFS_TAR"
install -m 0755 "$NODE_BIN" "$R/usr/local/bin/node"
NPM_DIR="$(dirname "$NODE_BIN")/../lib/node_modules/npm"
if [ "$WITH_NPM" = 1 ] && [ -d "$NPM_DIR" ]; then
  mkdir -p "$R/usr/local/lib/node_modules"
  cp -a "$(readlink -f "$NPM_DIR")" "$R/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
fi
# Same user as the official image: node (1000:1000), home /home/node.
if ! grep -q '^node:' "$R/etc/passwd"; then
  echo 'node:x:1000:' >> "$R/etc/group"
  echo 'node:x:1000:1000::/home/node:/bin/bash' >> "$R/etc/passwd"
  echo 'node:*:19000:0:99999:7:::' >> "$R/etc/shadow"
  mkdir -p "$R/home/node"; chown 1000:1000 "$R/home/node"
fi
"$R/usr/local/bin/node" --version >/dev/null 2>&1 || true

log "docker import -> $TAG (node $NODE_VERSION)"
tar -C "$R" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
  --change 'LABEL org.weir.local-base=true' \
  --change 'CMD ["node"]' \
  --message "local stand-in for $TAG: debootstrap minbase $SUITE + host node $NODE_VERSION" \
  - "$TAG" >/dev/null
rm -rf "$WORK"; trap - EXIT

docker run --rm "$TAG" node -e 'console.log("node " + process.version + " runs in the local base image")'
SIZE=$(docker image inspect -f '{{.Size}}' "$TAG")
log "built $TAG: $((SIZE / 1024 / 1024)) MiB in $(( $(date +%s) - START ))s"
