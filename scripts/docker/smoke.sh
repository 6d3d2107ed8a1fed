#!/usr/bin/env bash
# Smoke test of the Docker setup without vitest: build, `up` with N TaskManagers,
# wait until every container is healthy, print the timings, `down -v`.
#
#   scripts/docker/smoke.sh [--standin] [--taskmanagers N] [--keep]
#
# --standin builds the image from test/docker/standin/weir.cjs (plumbing only).
# Uses free host ports and a temp output dir; always tears down unless --keep.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
BUILD_ARGS=()
N=3
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --standin) BUILD_ARGS+=(--standin) ;;
    --taskmanagers) N="$2"; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[docker/smoke] $*" >&2; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

T0=$(date +%s.%N)
scripts/docker/build.sh "${BUILD_ARGS[@]}" >/dev/null
T_BUILD=$(node -e "console.log(($(date +%s.%N)-$T0).toFixed(1))")
eval "$(scripts/ci/ensure-docker.sh 2>/dev/null | grep '^COMPOSE=')"

PROJECT="weirsmoke$$"
export WEIR_OUTPUT_DIR; WEIR_OUTPUT_DIR="$(mktemp -d "${TMPDIR:-/tmp}/weir-docker-output.XXXXXX")"
# No chmod: the compose file's prepare service makes it writable by the containers' user.
export WEIR_JM_RPC_PORT="${WEIR_JM_RPC_PORT:-$(free_port)}" WEIR_REST_PORT="${WEIR_REST_PORT:-$(free_port)}"
DC() { $COMPOSE -p "$PROJECT" -f "$ROOT/docker-compose.yml" "$@"; }
cleanup() {
  if [ "$KEEP" = 1 ]; then
    log "--keep: project $PROJECT left up (jobmanager localhost:$WEIR_JM_RPC_PORT, output $WEIR_OUTPUT_DIR)"
  else
    DC down -v --remove-orphans -t 5 >/dev/null 2>&1 || true
    rm -rf "$WEIR_OUTPUT_DIR"
  fi
}
trap cleanup EXIT

T0=$(date +%s.%N)
DC up -d --scale "taskmanager=$N" >/dev/null 2>&1 || { DC logs --no-color --tail 50 >&2; exit 1; }
T_UP=$(node -e "console.log(($(date +%s.%N)-$T0).toFixed(1))")
want=$((N + 1))
for _ in $(seq 1 240); do
  healthy=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter health=healthy | wc -l)
  [ "$healthy" = "$want" ] && break
  sleep 0.5
done
T_READY=$(node -e "console.log(($(date +%s.%N)-$T0).toFixed(1))")
if [ "$healthy" != "$want" ]; then
  log "only $healthy of $want containers healthy"; DC ps >&2; DC logs --no-color --tail 50 >&2; exit 1
fi
DC ps >&2
log "build ${T_BUILD}s; 'up' returned after ${T_UP}s; all $want containers healthy ${T_READY}s after 'up' started"
