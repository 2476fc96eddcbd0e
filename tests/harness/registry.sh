#!/usr/bin/env bash
# A real registry for tests: Debian's docker-registry (distribution 2.8) on a loopback port.
#
#   registry.sh start <dir> [--htpasswd user:pass] [--port N] [--watch-pid PID]
#       Writes <dir>/config.yml (filesystem storage in <dir>/data, deletes enabled, plain HTTP on
#       127.0.0.1), starts the registry in the background, waits (<= 10 s) until GET /v2/ answers
#       (200, or 401 with --htpasswd), prints "127.0.0.1:<port>" on stdout.
#       Pid in <dir>/pid, log in <dir>/registry.log. Without --port a free port is picked (and a
#       new one tried if the registry loses the race for it).
#       --htpasswd user:pass  turns on basic auth (htpasswd -Bbn, apache2-utils) in <dir>/htpasswd.
#       --watch-pid PID       also stop the registry when PID exits (a crashed test leaks nothing).
#   registry.sh stop <dir>
#       SIGTERM, then SIGKILL after 5 s; removes <dir>/pid. Succeeds if nothing is running.
#
# Exit status: 0 ok, 1 failure (message on stderr), 2 usage.
set -euo pipefail

REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}

die() { echo "registry.sh: $*" >&2; exit 1; }
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# True while pid $1 exists and is not a zombie.
alive() {
  local state
  [[ -r /proc/$1/stat ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1) || return 1
  [[ $state != Z && $state != X ]]
}

pick_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# HTTP status of GET /v2/ ("000" when nothing answers).
probe() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$1/v2/" 2>/dev/null || true
}

write_config() {  # dir port auth(0|1)
  local dir=$1 port=$2 auth=$3
  {
    cat <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: imaged-test-harness
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
EOF
    if [[ $auth == 1 ]]; then
      cat <<EOF
auth:
  htpasswd:
    realm: test-registry
    path: $dir/htpasswd
EOF
    fi
  } >"$dir/config.yml"
}

# Starts the registry on $port; returns 0 once /v2/ answers, 1 if it died or never answered.
try_start() {  # dir port auth
  local dir=$1 port=$2 auth=$3 code pid deadline
  write_config "$dir" "$port" "$auth"
  # setsid: own session, so a test's process-group kill of `registry.sh start` spares it; all fds
  # redirected so a caller reading our stdout sees EOF when this script exits.
  setsid "$REGISTRY_BIN" serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/pid"
  deadline=$((SECONDS + 10))
  while ((SECONDS <= deadline)); do
    if ! alive "$pid"; then return 1; fi
    code=$(probe "$port")
    if [[ $code == 200 || ($auth == 1 && $code == 401) ]]; then return 0; fi
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  return 1
}

start_watchdog() {  # registry-pid watched-pid
  # A detached loop: polls once a second, never outlives the registry.
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
                  kill -TERM "$1" 2>/dev/null || true' watchdog "$1" "$2" \
    </dev/null >/dev/null 2>&1 &
}

cmd_start() {
  local dir="" port="" creds="" watch="" auth=0
  [[ $# -ge 1 ]] || usage
  dir=$1; shift
  while [[ $# -gt 0 ]]; do
    case $1 in
      --htpasswd) [[ $# -ge 2 ]] || usage; creds=$2; shift 2 ;;
      --port) [[ $# -ge 2 ]] || usage; port=$2; shift 2 ;;
      --watch-pid) [[ $# -ge 2 ]] || usage; watch=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  [[ -x $REGISTRY_BIN ]] ||
    die "$REGISTRY_BIN not found: install Debian's docker-registry (scripts/install-deps.sh)"
  command -v curl >/dev/null || die "curl not found"
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/pid ]] && alive "$(cat "$dir/pid")"; then
    die "a registry is already running from $dir (pid $(cat "$dir/pid"))"
  fi
  if [[ -n $creds ]]; then
    [[ $creds == *:* ]] || die "--htpasswd wants user:pass"
    command -v htpasswd >/dev/null || die "htpasswd not found: install apache2-utils"
    htpasswd -Bbn "${creds%%:*}" "${creds#*:}" >"$dir/htpasswd" 2>/dev/null ||
      die "htpasswd failed"
    auth=1
  fi

  local attempts=1 i
  [[ -n $port ]] || attempts=3
  for ((i = 0; i < attempts; i++)); do
    local p=${port:-$(pick_port)}
    if try_start "$dir" "$p" "$auth"; then
      [[ -z $watch ]] || start_watchdog "$(cat "$dir/pid")" "$watch"
      echo "127.0.0.1:$p"
      return 0
    fi
  done
  rm -f "$dir/pid"
  echo "registry.sh: registry did not answer GET /v2/ within 10 s; last log lines:" >&2
  tail -n 20 "$dir/registry.log" >&2 || true
  exit 1
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  local dir=$1 pid
  [[ -f $dir/pid ]] || return 0
  pid=$(cat "$dir/pid")
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 5))
    while alive "$pid" && ((SECONDS <= deadline)); do sleep 0.05; done
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 5))
      while alive "$pid" && ((SECONDS <= deadline)); do sleep 0.05; done
    fi
    alive "$pid" && die "registry pid $pid did not exit"
  fi
  rm -f "$dir/pid"
}

[[ $# -ge 1 ]] || usage
case $1 in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) usage ;;
esac
