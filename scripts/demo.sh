#!/usr/bin/env bash
# convt's demo, from a fresh Debian 12 machine: installs what is missing
# (apt-get, as root or through sudo), builds convt-demo with CMake and runs it.
# Arguments go to convt-demo, e.g.  scripts/demo.sh --input photo.jpg --factor 4
# Pictures land in ./convt-demo-output unless --output-dir says otherwise.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-demo}
# shellcheck source=scripts/deps.sh
source "$root/scripts/deps.sh"
convt_ensure_packages cmake make g++ libeigen3-dev libcli11-dev libstb-dev

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCONVT_BUILD_TESTS=OFF -DCONVT_BUILD_BENCHMARKS=OFF \
  -DCONVT_INSTALL=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target convt-demo
"$build/examples/convt-demo" "$@"
