#!/usr/bin/env bash
# Debian's dockerd (docker.io, 20.10) side by side with imaged, for comparisons and benchmarks.
#
#   scripts/dockerd-side.sh start <dir> <mirror-host:port>
#       Starts, in the background and as root:
#         dockerd -H unix://<dir>/docker.sock --data-root <dir>/data --exec-root <dir>/exec
#                 --pidfile <dir>/pid --iptables=false --bridge=none
#                 --registry-mirror http://<mirror> --insecure-registry <mirror>
#                 --storage-driver <overlay2|vfs> --config-file <dir>/daemon.json
#       (dockerd starts its own containerd under <dir>/exec), waits (<= 30 s) until the socket
#       answers GET /_ping, and prints the socket path. Log: <dir>/dockerd.log.
#   scripts/dockerd-side.sh stop <dir>
#       SIGTERM to dockerd (it stops its containerd), waits <= 30 s, then SIGKILLs dockerd and
#       the containerd it started (by their pid files, never by name), and unmounts anything
#       left mounted under <dir>.
#
# Storage driver: overlay2 when a probe overlay mount works in <dir> (ext4 root, real root), else
# vfs (nested overlay, no CAP_SYS_ADMIN, ...). Override with DOCKERD_STORAGE_DRIVER=<driver>.
# The driver chosen is written to <dir>/storage-driver.
#
# No internet: the mirror must be a loopback address, the config file is an empty one of our own
# (the host's /etc/docker/daemon.json is not read), and dockerd runs with HTTP(S)_PROXY pointing
# at a closed loopback port and NO_PROXY=127.0.0.1,localhost: were a pull to fall back from the
# mirror to Docker Hub (it does so when the mirror lacks the image), the attempt fails at once on
# 127.0.0.1 instead of leaving the machine. So push the fixture into the mirror first
# (tests/harness/mkimage.py seed) and pull it as `busybox:musl`.
#
# Keep <dir> short (a Unix socket path is limited to 107 bytes).
set -euo pipefail

die() { echo "dockerd-side.sh: $*" >&2; exit 1; }
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

DOCKERD=${DOCKERD:-/usr/sbin/dockerd}

alive() {
  local state
  [[ -n ${1:-} && -r /proc/$1/stat ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1) || return 1
  [[ $state != Z && $state != X ]]
}

ping_ok() {
  [[ $(curl -s --max-time 2 --unix-socket "$1" http://docker/_ping 2>/dev/null || true) == OK ]]
}

# Prints overlay2 if an overlay mount works inside $1, vfs otherwise.
probe_storage_driver() {
  local p=$1/overlay-probe ok=vfs
  mkdir -p "$p/lower" "$p/upper" "$p/work" "$p/merged"
  if mount -t overlay overlay -o "lowerdir=$p/lower,upperdir=$p/upper,workdir=$p/work" \
    "$p/merged" 2>/dev/null; then
    ok=overlay2
    umount "$p/merged" 2>/dev/null || umount -l "$p/merged" 2>/dev/null || true
  fi
  rm -rf "$p"
  echo "$ok"
}

unmount_under() {  # lazily unmounts every mount point below $1, deepest first
  local dir=$1
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

cmd_start() {
  [[ $# -eq 2 ]] || usage
  local dir=$1 mirror=$2
  [[ $(id -u) -eq 0 ]] || die "dockerd needs root"
  [[ -x $DOCKERD ]] || die "$DOCKERD not found: install docker.io (scripts/install-deps.sh --bench)"
  [[ $mirror =~ ^(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost):[0-9]+$ ]] ||
    die "the mirror must be a loopback host:port (got '$mirror')"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local sock=$dir/docker.sock
  ((${#sock} <= 100)) || die "socket path too long (${#sock} bytes): use a shorter <dir>"
  if [[ -f $dir/pid ]] && alive "$(cat "$dir/pid")"; then
    die "a dockerd is already running from $dir (pid $(cat "$dir/pid"))"
  fi

  local driver=${DOCKERD_STORAGE_DRIVER:-$(probe_storage_driver "$dir")}
  echo "$driver" >"$dir/storage-driver"
  echo '{}' >"$dir/daemon.json"
  mkdir -p "$dir/data" "$dir/exec"

  # setsid + all fds redirected: independent of the caller's process group and pipes.
  env HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
    setsid "$DOCKERD" -H "unix://$sock" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/pid" --iptables=false --bridge=none \
    --registry-mirror "http://$mirror" --insecure-registry "$mirror" \
    --storage-driver "$driver" --config-file "$dir/daemon.json" \
    </dev/null >>"$dir/dockerd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/dockerd.pid"

  local deadline=$((SECONDS + 30))
  while ((SECONDS <= deadline)); do
    if ping_ok "$sock"; then
      echo "$sock"
      return 0
    fi
    alive "$pid" || break
    sleep 0.1
  done
  echo "dockerd-side.sh: dockerd did not answer /_ping within 30 s; last log lines:" >&2
  tail -n 30 "$dir/dockerd.log" >&2 || true
  cmd_stop "$dir" || true
  exit 1
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  local dir=$1 pid="" cpid=""
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd)
  [[ -f $dir/dockerd.pid ]] && pid=$(cat "$dir/dockerd.pid")
  [[ -z $pid && -f $dir/pid ]] && pid=$(cat "$dir/pid")
  # dockerd's own containerd writes its pid here.
  [[ -f $dir/exec/containerd/containerd.pid ]] && cpid=$(cat "$dir/exec/containerd/containerd.pid")

  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while alive "$pid" && ((SECONDS <= deadline)); do sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  if alive "$cpid"; then
    local deadline=$((SECONDS + 10))
    while alive "$cpid" && ((SECONDS <= deadline)); do sleep 0.1; done
    if alive "$cpid"; then kill -KILL "$cpid" 2>/dev/null || true; fi
  fi
  local deadline=$((SECONDS + 10))
  while { alive "$pid" || alive "$cpid"; } && ((SECONDS <= deadline)); do sleep 0.1; done
  unmount_under "$dir"
  if alive "$pid" || alive "$cpid"; then die "dockerd ($pid) or containerd ($cpid) did not exit"; fi
  rm -f "$dir/dockerd.pid" "$dir/pid"
}

[[ $# -ge 1 ]] || usage
case $1 in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) usage ;;
esac
