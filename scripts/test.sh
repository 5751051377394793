#!/usr/bin/env bash
# convt's whole test suite, from a fresh Debian 12 machine:
#   installs what is missing (apt-get, as root or through sudo), then
#   1. configures, builds (g++, warnings as errors) and runs every ctest test;
#   2. builds and runs it again with clang (warnings as errors);
#   3. installs convt to a prefix and builds a consumer with find_package,
#      and another with add_subdirectory;
#   4. runs the suite under clang's AddressSanitizer + UndefinedBehaviorSanitizer,
#      the threaded tests under ThreadSanitizer, and the libFuzzer target for
#      CONVT_FUZZ_SECONDS (default 60) from the committed seed corpus.
# Usage: scripts/test.sh        (BUILD_ROOT=/some/dir to build elsewhere)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_root=${BUILD_ROOT:-$root/build-test}
jobs=$(nproc 2>/dev/null || echo 2)

packages=(cmake make g++ clang libclang-rt-14-dev libeigen3-dev libgtest-dev libbenchmark-dev
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
echo "== clang AddressSanitizer + UndefinedBehaviorSanitizer: build, test"
# Left out here, because ASan replaces what they observe: the 4 GiB
# peak-memory test (shadow memory and ASan's allocator change the peak) and
# the allocation-failure test (ASan's allocator aborts on a 16 TiB request
# instead of letting operator new throw).
san="-O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all"
cmake -S "$root" -B "$build_root/asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DCONVT_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS="$san -fsanitize=address,undefined"
cmake --build "$build_root/asan" -j "$jobs"
ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
  ctest --test-dir "$build_root/asan" --output-on-failure -j "$jobs" -E "Memory\.|Errors\.OutputTooLargeToAllocate"

echo "== clang ThreadSanitizer: threaded tests"
cmake -S "$root" -B "$build_root/tsan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DCONVT_BUILD_BENCHMARKS=OFF -DCONVT_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="$san -fsanitize=thread"
cmake --build "$build_root/tsan" -j "$jobs" --target test_parallel test_plan
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir "$build_root/tsan" --output-on-failure -j "$jobs" -R "^(Parallel|Plan)\."

echo "== libFuzzer: ${CONVT_FUZZ_SECONDS:-60} s"
cmake -S "$root" -B "$build_root/fuzz" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DCONVT_BUILD_FUZZER=ON -DCONVT_BUILD_BENCHMARKS=OFF -DCONVT_BUILD_EXAMPLES=OFF
cmake --build "$build_root/fuzz" -j "$jobs" --target fuzz_conv_transpose
rm -rf "$build_root/fuzz/corpus" && mkdir -p "$build_root/fuzz/corpus"
"$build_root/fuzz/tests/fuzz/fuzz_conv_transpose" -max_total_time="${CONVT_FUZZ_SECONDS:-60}" -timeout=10 \
  -print_final_stats=1 "$build_root/fuzz/corpus" "$root/tests/fuzz/corpus"

echo "convt: all tests passed"
