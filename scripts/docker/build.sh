#!/usr/bin/env bash
# One command from a checkout to the `weir:local` image.
#
#   scripts/docker/build.sh [--standin] [--skip-npm] [--tag TAG]
#
#  1. make sure a Docker engine runs (scripts/ci/ensure-docker.sh)
#  2. make sure node:20-bookworm-slim exists: present, else `docker pull`, else
#     build the local stand-in (scripts/docker/local-base-image.sh)
#  3. build Weir on the host when needed (`npm ci` if node_modules is missing,
#     `npm run build` if packages/cli/dist/weir.cjs is missing or older than the
#     sources); --standin instead builds from a temporary context holding
#     test/docker/standin/weir.cjs as the bundle (a fake that only exercises the
#     Docker plumbing; packages/cli/dist is left alone); --skip-npm uses dist as it is
#  4. docker build -t TAG . (TAG defaults to $WEIR_IMAGE or weir:local), then the
#     object store image weir-objectstore:local (scripts/docker/build-objectstore-image.sh)
#  5. prints the image size and the times taken
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

TAG="${WEIR_IMAGE:-weir:local}"
BASE="node:20-bookworm-slim"
STANDIN=0
SKIP_NPM=0
while [ $# -gt 0 ]; do
  case "$1" in
    --standin) STANDIN=1 ;;
    --skip-npm) SKIP_NPM=1 ;;
    --tag) TAG="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[docker/build] $*" >&2; }
T_START=$(date +%s)

# 1. engine
# shellcheck source=../ci/ensure-docker.sh
source "$ROOT/scripts/ci/ensure-docker.sh" >&2

# 2. base image
T0=$(date +%s)
if docker image inspect "$BASE" >/dev/null 2>&1; then
  log "base image $BASE present$(docker image inspect -f '{{if .Config.Labels}}{{index .Config.Labels "org.weir.local-base"}}{{end}}' "$BASE" | grep -q true && echo ' (local stand-in)')"
elif timeout 120 docker pull "$BASE" >/dev/null 2>&1; then
  log "pulled $BASE"
else
  log "cannot pull $BASE (no registry reachable?): building a local stand-in"
  "$ROOT/scripts/docker/local-base-image.sh" --tag "$BASE"
fi
T_BASE=$(( $(date +%s) - T0 ))

# 3. host build
T0=$(date +%s)
BUNDLE=packages/cli/dist/weir.cjs
CONTEXT="$ROOT"
if [ "$STANDIN" = 1 ]; then
  # Separate build context, so a real packages/cli/dist is never touched.
  log "using the STAND-IN bundle test/docker/standin/weir.cjs (not Weir!)"
  CONTEXT="$(mktemp -d "${TMPDIR:-/tmp}/weir-standin-context.XXXXXX")"
  trap 'rm -rf "$CONTEXT"' EXIT
  cp Dockerfile .dockerignore package.json package-lock.json "$CONTEXT/"
  mkdir -p "$CONTEXT/scripts/docker" "$CONTEXT/packages/cli/dist/proto"
  cp scripts/docker/*.cjs "$CONTEXT/scripts/docker/"
  [ -d proto ] && cp -r proto/. "$CONTEXT/packages/cli/dist/proto/"
  cp test/docker/standin/weir.cjs "$CONTEXT/$BUNDLE"
  cp -al node_modules "$CONTEXT/node_modules" 2>/dev/null || cp -a node_modules "$CONTEXT/node_modules"
elif [ "$SKIP_NPM" = 0 ]; then
  if [ ! -d node_modules ] || [ ! -e node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund >&2
  fi
  if [ ! -f "$BUNDLE" ] || grep -q 'Stand-in for packages/cli/dist/weir.cjs' "$BUNDLE" \
     || [ -n "$(find packages proto scripts/build.mjs package-lock.json -newer "$BUNDLE" \
        -type f ! -path '*/dist/*' ! -path '*/node_modules/*' -print -quit 2>/dev/null)" ]; then
    log "npm run build"
    npm run build >&2
  else
    log "$BUNDLE is up to date"
  fi
fi
[ -f "$CONTEXT/$BUNDLE" ] || { log "$BUNDLE missing after the build"; exit 1; }
T_NPM=$(( $(date +%s) - T0 ))

# 4. image. The legacy builder needs nothing from a registry; BuildKit via the
# buildx plugin is used when that plugin exists.
T0=$(date +%s)
if docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-1}"; else export DOCKER_BUILDKIT=0; fi
log "docker build -t $TAG $CONTEXT (DOCKER_BUILDKIT=$DOCKER_BUILDKIT)"
BUILD_LOG="$ROOT/.weir/docker-build.log"
mkdir -p "$(dirname "$BUILD_LOG")"
if [ "${WEIR_DOCKER_VERBOSE:-0}" = 1 ]; then
  docker build -t "$TAG" "$CONTEXT" 2>&1 | tee "$BUILD_LOG" >&2
else
  docker build -t "$TAG" "$CONTEXT" > "$BUILD_LOG" 2>&1 || { tail -n 40 "$BUILD_LOG" >&2; log "docker build failed; full log: $BUILD_LOG"; exit 1; }
  grep -E '^\[collect-runtime-deps\]|^esbuild works' "$BUILD_LOG" >&2 || true
  log "docker build log: $BUILD_LOG (WEIR_DOCKER_VERBOSE=1 streams it)"
fi
T_IMAGE=$(( $(date +%s) - T0 ))

# 4b. the object store the compose cluster keeps checkpoints and savepoints in
T0=$(date +%s)
"$ROOT/scripts/docker/build-objectstore-image.sh"
T_S3=$(( $(date +%s) - T0 ))

# 5. figures
SIZE=$(docker image inspect -f '{{.Size}}' "$TAG")
BASE_SIZE=$(docker image inspect -f '{{.Size}}' "$BASE")
log "image $TAG: $((SIZE / 1024 / 1024)) MiB (base $BASE $((BASE_SIZE / 1024 / 1024)) MiB, Weir layers $(((SIZE - BASE_SIZE) / 1024 / 1024)) MiB)"
log "times: base image ${T_BASE}s, host build ${T_NPM}s, docker build ${T_IMAGE}s, object store image ${T_S3}s, total $(( $(date +%s) - T_START ))s"
echo "WEIR_IMAGE=$TAG"
