#!/usr/bin/env bash
# Command 2 of the README (and what .ci/run calls): install, build, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j "$(nproc)"
