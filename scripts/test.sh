#!/usr/bin/env bash
# convt's whole test suite, from a fresh Debian 12 machine:
#   installs what is missing (apt-get, as root or through sudo), then
#   1. configures, builds (g++, warnings as errors) and runs every ctest test;
#   2. builds and runs it again with clang (warnings as errors);
#   3. installs convt to a prefix and builds a consumer with find_package,
#      and another with add_subdirectory.
# Usage: scripts/test.sh        (BUILD_ROOT=/some/dir to build elsewhere)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_root=${BUILD_ROOT:-$root/build-test}
jobs=$(nproc 2>/dev/null || echo 2)

packages=(cmake make g++ clang libeigen3-dev libgtest-dev libbenchmark-dev
          libdnnl-dev libxnnpack-dev libpthreadpool-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  install_line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    sh -c "$install_line"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo sh -c "$install_line"
  else
    echo "convt: missing packages: ${missing[*]}" >&2
    echo "install them with:  sudo sh -c '$install_line'" >&2
    exit 1
  fi
fi

echo "== g++: configure, build, test"
cmake -S "$root" -B "$build_root/gcc" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DCONVT_WERROR=ON
cmake --build "$build_root/gcc" -j "$jobs"
ctest --test-dir "$build_root/gcc" --output-on-failure -j "$jobs"

echo "== clang: configure, build, test"
cmake -S "$root" -B "$build_root/clang" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DCONVT_WERROR=ON
cmake --build "$build_root/clang" -j "$jobs"
ctest --test-dir "$build_root/clang" --output-on-failure -j "$jobs"

echo "== packaging: install + find_package, add_subdirectory"
rm -rf "$build_root/prefix"
cmake --install "$build_root/gcc" --prefix "$build_root/prefix"
cmake -S "$root/tests/consumer" -B "$build_root/consumer-installed" -DCMAKE_PREFIX_PATH="$build_root/prefix"
cmake --build "$build_root/consumer-installed" -j "$jobs"
"$build_root/consumer-installed/consumer"
cmake -S "$root/tests/consumer" -B "$build_root/consumer-subdir" -DCONVT_SOURCE_DIR="$root"
cmake --build "$build_root/consumer-subdir" -j "$jobs"
"$build_root/consumer-subdir/consumer"
echo "convt: all tests passed"
