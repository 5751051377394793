#!/usr/bin/env bash
# Builds and runs the consumer (main.cpp) every way a project can take convt:
#   1. find_package(convt 0.2 CONFIG REQUIRED) against an installed prefix,
#      and checks that incompatible version requests (1.0, 0.3, 0.1) are refused;
#   2. add_subdirectory;  3. FetchContent from a local path;
#   4. vendoring: include/convt copied, compiled with only -I and Eigen;
#   5. pkg-config (convt.pc from the installed prefix).
# Usage: tests/consumer/run.sh CONVT_SOURCE_DIR INSTALLED_PREFIX WORK_DIR
set -euo pipefail
src=$1 prefix=$2 work=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work"
cxx=${CXX:-g++}

build() {  # build <name> <cmake args...>
  local name=$1
  shift
  cmake -S "$here" -B "$work/$name" -DCMAKE_CXX_COMPILER="$cxx" "$@" >"$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; echo "consumer $name: configure failed" >&2; exit 1; }
  cmake --build "$work/$name" >>"$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; echo "consumer $name: build failed" >&2; exit 1; }
  echo "consumer $name: $("$work/$name/consumer")"
}

build find_package -DCONVT_CONSUME=find_package -DCMAKE_PREFIX_PATH="$prefix"
for v in 1.0 0.3 0.1; do
  if cmake -S "$here" -B "$work/reject-$v" -DCONVT_CONSUME=find_package -DCONVT_REQUEST_VERSION="$v" \
       -DCMAKE_PREFIX_PATH="$prefix" >"$work/reject-$v.log" 2>&1; then
    echo "consumer: find_package(convt $v) was accepted by convt 0.2" >&2
    exit 1
  fi
  grep -q "not compatible\|version" "$work/reject-$v.log" || { cat "$work/reject-$v.log"; exit 1; }
  echo "consumer find_package: version $v request refused, as it must be"
done
build subdirectory -DCONVT_CONSUME=subdirectory -DCONVT_SOURCE_DIR="$src"
build fetchcontent -DCONVT_CONSUME=fetchcontent -DCONVT_SOURCE_DIR="$src"

# Vendoring: nothing but the headers and Eigen.
mkdir -p "$work/vendored/third_party"
cp -r "$src/include/convt" "$work/vendored/third_party/"
"$cxx" -std=c++17 -O1 -Wall -Wextra -Wpedantic -Werror -I "$work/vendored/third_party" -I /usr/include/eigen3 \
  "$here/main.cpp" -o "$work/vendored/consumer" -pthread
echo "consumer vendored: $("$work/vendored/consumer")"

# pkg-config, from the installed prefix.
pc_path="$prefix/share/pkgconfig"
flags=$(PKG_CONFIG_PATH="$pc_path" pkg-config --cflags --libs convt)
echo "pkg-config convt: $flags (version $(PKG_CONFIG_PATH="$pc_path" pkg-config --modversion convt))"
# shellcheck disable=SC2086
"$cxx" -std=c++17 -O1 "$here/main.cpp" -o "$work/pkg-config-consumer" $flags
echo "consumer pkg-config: $("$work/pkg-config-consumer")"
