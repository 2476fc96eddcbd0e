#!/usr/bin/env bash
# Installs, with apt-get, every Debian 12 package imaged needs to build, test and benchmark, and
# creates the "imaged" system group. Idempotent and quiet when everything is present. Run as root.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --bench  also dockerd (docker.io) for side-by-side benchmarks
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config
  # libraries (Boost 1.81: 1.74's Asio breaks under GCC 12 in C++20; never libboost-dev)
  libboost1.81-dev nlohmann-json3-dev libcurl4-openssl-dev libsqlite3-dev libspdlog-dev
  catch2 libssl-dev zlib1g-dev libzstd-dev libarchive-dev libsystemd-dev libisal-dev
  # test harness: the real registry, busybox for fixture images, htpasswd, curl, socket activation
  docker-registry busybox-static apache2-utils curl systemd python3 zstd
  # the docker SDK for Python (tests/e2e/sdk_scenario.py, compare_sdk_with_dockerd.py)
  python3-docker
)
# The real docker CLI drives the end-to-end tests; Debian ships it in docker.io.
command -v docker >/dev/null 2>&1 || packages+=(docker.io)
[[ "${1:-}" == --bench ]] && packages+=(docker.io hyperfine)

# The socket's group (imaged's default --group), created as docker.io's postinst creates
# "docker": members may use /run/imaged.sock without root.
getent group imaged >/dev/null || groupadd --system imaged

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
