#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, and start imaged in the foreground on
# its embedded defaults (no config file). Extra arguments go to imaged (e.g. --log-level debug).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/daemon/imaged "$@"
