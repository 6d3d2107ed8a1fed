#!/usr/bin/env bash
# Make sure a Docker engine and a compose command are usable on this machine.
#
#   scripts/ci/ensure-docker.sh            # prints versions, last line: COMPOSE="..."
#   eval "$(scripts/ci/ensure-docker.sh | grep '^COMPOSE=')"   # use $COMPOSE afterwards
#   source scripts/ci/ensure-docker.sh     # same, and exports COMPOSE into the caller
#
# Idempotent:
#  * installs docker.io + docker-compose from Debian (apt-get update once) when
#    dockerd is missing;
#  * starts dockerd in the background when the daemon does not answer, logging to
#    $WEIR_DOCKERD_LOG (default /var/log/weir-dockerd.log). Flags come from
#    $WEIR_DOCKERD_FLAGS when set; otherwise it tries the defaults (overlay2 +
#    iptables, which work in this sandbox) and falls back to
#    `--storage-driver=vfs`, then `--storage-driver=vfs --iptables=false`;
#  * waits until `docker info` works and prints the docker/compose versions.
# Exits non-zero (or returns, when sourced) if no working engine could be had.

_weir_ensure_docker() {
  local log="${WEIR_DOCKERD_LOG:-/var/log/weir-dockerd.log}"
  local say="echo [ensure-docker]"

  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1 \
     || { ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; }; then
    if [ "$(id -u)" != 0 ]; then
      $say "docker is not installed and we are not root; install docker.io and docker-compose" >&2
      return 1
    fi
    $say "installing docker.io docker-compose from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq docker.io docker-compose >/dev/null || return 1
  fi

  if docker info >/dev/null 2>&1; then
    $say "docker daemon already answering"
  else
    if [ "$(id -u)" != 0 ]; then
      $say "docker daemon does not answer and we are not root to start it" >&2
      return 1
    fi
    local attempts=()
    if [ -n "${WEIR_DOCKERD_FLAGS+x}" ]; then
      attempts=("$WEIR_DOCKERD_FLAGS")
    else
      attempts=("" "--storage-driver=vfs" "--storage-driver=vfs --iptables=false --ip6tables=false")
    fi
    local flags ok=0 pid i
    mkdir -p "$(dirname "$log")"
    for flags in "${attempts[@]}"; do
      # A stale pid file from a dead daemon makes dockerd refuse to start.
      if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        rm -f /var/run/docker.pid
      fi
      $say "starting dockerd ${flags:-(default flags)}; log: $log"
      # shellcheck disable=SC2086
      nohup dockerd $flags >>"$log" 2>&1 </dev/null &
      pid=$!
      for i in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then ok=1; break; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 1
      done
      if [ "$ok" = 1 ]; then


        $say "dockerd pid $pid is up (flags: ${flags:-default})"
        echo "$pid" > /var/run/weir-dockerd.pid
        break
      fi
      $say "dockerd with '${flags:-default}' did not come up; last log lines:" >&2
      tail -n 5 "$log" >&2
      kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    done
    [ "$ok" = 1 ] || { $say "could not start dockerd" >&2; return 1; }
  fi

  local server
  server=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')
  $say "docker client $(docker version --format '{{.Client.Version}}' 2>/dev/null || echo '?'), server $server ($(docker info --format '{{.Driver}}' 2>/dev/null) storage)"

  if docker compose version >/dev/null 2>&1; then
    COMPOSE="docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE="docker-compose"
  else
    $say "no compose command (neither 'docker compose' nor docker-compose)" >&2
    return 1
  fi
  $say "compose: $($COMPOSE version 2>/dev/null | head -n1)"
  export COMPOSE
  echo "COMPOSE=\"$COMPOSE\""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  _weir_ensure_docker
else
  _weir_ensure_docker
fi
