#!/usr/bin/env bash
# Configure tests: an optional benchmark peer that is broken must not stop
# convt from configuring; the benchmark is still configured, without it.
# Each case configures the whole project (tests and examples off, so it is
# quick) with oneDNN's package replaced by a broken one through dnnl_DIR.
# Usage: tests/configure/run.sh CONVT_SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work"
for broken in broken_dnnl_dependency broken_dnnl_fatal; do
  log="$work/$broken.log"
  if ! cmake -S "$src" -B "$work/$broken" -DCONVT_BUILD_TESTS=OFF -DCONVT_BUILD_EXAMPLES=OFF -DCONVT_INSTALL=OFF \
       -Ddnnl_DIR="$here/$broken" >"$log" 2>&1; then
    cat "$log"
    echo "configure test $broken: convt failed to configure with a broken oneDNN package" >&2
    exit 1
  fi
  if ! grep -q "oneDNN not found or its CMake package is broken" "$log"; then
    cat "$log"
    echo "configure test $broken: the configure did not say oneDNN was left out" >&2
    exit 1
  fi
  if [ -f "$work/$broken/bench/Makefile" ] || [ -f "$work/$broken/bench/build.ninja" ]; then
    echo "configure test $broken: configured without oneDNN, and said so"
  else
    echo "configure test $broken: the benchmark was not configured" >&2
    exit 1
  fi
done
