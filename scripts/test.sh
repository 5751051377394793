#!/usr/bin/env bash
# convt's whole test suite, from a fresh Debian 12 machine:
#   installs what is missing (apt-get, as root or through sudo), then
#   1. configures, builds (g++, warnings as errors) and runs every ctest test
#      (the fast-path tests built for this machine: -march=native);
#   2. builds the API reference (doxygen);
#   3. installs convt to a prefix and builds a consumer every way a project
#      can take it (tests/consumer/run.sh): find_package (and refuses an
#      incompatible version), add_subdirectory, FetchContent, vendored
#      headers, pkg-config;
#   4. builds everything again with clang (warnings as errors) under
#      AddressSanitizer + UndefinedBehaviorSanitizer, with the portable
#      overflow checks forced (CONVT_PORTABLE_OVERFLOW) and the fast-path
#      tests at both vector widths (baseline SSE2 and -march=native), and
#      runs the suite; then the threaded tests under ThreadSanitizer, and the
#      libFuzzer targets (conv_transpose; the .npy reader) for
#      CONVT_FUZZ_SECONDS each (default 45) from their committed seed corpora;
#   5. cross-compiles the suite for aarch64 (NEON) and runs it under qemu-user.
# The slow differential test runs 3,000 problems in the g++ build, 1,000 per
# vector width in the clang build and 300 on aarch64 (CONVT_DIFF_PROBLEMS).
# Time goes to compiling (Eigen's GEMM per type, rank and accumulator), so
# each build compiles each test once, at the vector widths it is there for;
# the API-level tests are one translation unit (CONVT_UNITY_TESTS); the tests
# of values over many types and convt-npy's 46 type pairs are compiled at
# -O1 (their results are what count; -O3 code is what the fast-path tests
# and the benchmarks check); the checking builds skip full debug information
# (line tables are enough for sanitizer reports), and the emulated aarch64
# run is as fast at -O1, which compiles in half the time of -O2.
# Usage: scripts/test.sh        (BUILD_ROOT=/some/dir to build elsewhere)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_root=${BUILD_ROOT:-$root/build-test}
jobs=$(nproc 2>/dev/null || echo 2)

# Each stage's duration, printed at the end (also when a stage fails).
stage_names=() stage_seconds=() stage_start=$SECONDS stage_name=""
stage() {  # stage "name": ends the running stage, starts the next
  if [ -n "$stage_name" ]; then
    stage_names+=("$stage_name")
    stage_seconds+=($((SECONDS - stage_start)))
  fi
  stage_name=$1 stage_start=$SECONDS
  [ -n "$1" ] && echo "== $1"
  return 0
}
report_stages() {
  stage ""
  echo "== stage durations"
  local i
  for i in "${!stage_names[@]}"; do printf '%6d s  %s\n' "${stage_seconds[$i]}" "${stage_names[$i]}"; done
  printf '%6d s  total\n' "$SECONDS"
}
trap report_stages EXIT

stage "packages (apt-get, only what is missing)"
# shellcheck source=scripts/deps.sh
source "$root/scripts/deps.sh"
convt_ensure_packages cmake make g++ clang libclang-rt-14-dev libeigen3-dev libgtest-dev libbenchmark-dev \
  libcli11-dev libstb-dev pkg-config doxygen libdnnl-dev ocl-icd-opencl-dev libxnnpack-dev libpthreadpool-dev \
  googletest g++-aarch64-linux-gnu qemu-user


stage "g++: configure, build, test"
cmake -S "$root" -B "$build_root/gcc" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DCONVT_WERROR=ON \
  -DCONVT_TEST_DEFAULT_ISA=OFF -DCONVT_NPY_CLI_COMPILE_OPTIONS=-O1
cmake --build "$build_root/gcc" -j "$jobs"
ctest --test-dir "$build_root/gcc" --output-on-failure -j "$jobs"
stage "API reference (doxygen; an undocumented public declaration fails)"
cmake --build "$build_root/gcc" --target docs

stage "packaging: install; find_package, add_subdirectory, FetchContent, vendoring, pkg-config consumers"
rm -rf "$build_root/prefix"
cmake --install "$build_root/gcc" --prefix "$build_root/prefix"
test -x "$build_root/prefix/bin/convt-npy"
"$root/tests/consumer/run.sh" "$root" "$build_root/prefix" "$build_root/consumers"

stage "clang, AddressSanitizer + UndefinedBehaviorSanitizer: build everything, test"
# Left out here, because ASan replaces what they observe: the 4 GiB
# peak-memory test (shadow memory and ASan's allocator change the peak) and
# the allocation-failure test (ASan's allocator aborts on a 16 TiB request
# instead of letting operator new throw). Both run in the g++ build. The
# benchmark and convt-npy (instrumented, they would take 5 and 15 CPU-minutes
# more to compile) are built here for clang's warnings and their own tests,
# without instrumentation, as an unsanitized clang build had them: the
# library code they run is instrumented in the tests; the .npy reader has
# its own fuzzer below.
san="-O1 -gline-tables-only -fno-omit-frame-pointer -fno-sanitize-recover=all"
unsanitized="-fno-sanitize=address,undefined"
cmake -S "$root" -B "$build_root/clang" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DCONVT_WERROR=ON \
  -DCMAKE_CXX_FLAGS_DEBUG= -DCONVT_BENCH_ARCH_FLAGS="-march=native;-mtune=generic;$unsanitized" \
  -DCONVT_NPY_CLI_COMPILE_OPTIONS="$unsanitized" \
  -DCMAKE_CXX_FLAGS="$san -fsanitize=address,undefined -DCONVT_PORTABLE_OVERFLOW"
cmake --build "$build_root/clang" -j "$jobs"
ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 CONVT_DIFF_PROBLEMS=1000 \
  ctest --test-dir "$build_root/clang" --output-on-failure -j "$jobs" -E "Memory\.|Errors\.OutputTooLargeToAllocate"

stage "clang ThreadSanitizer: threaded tests"
cmake -S "$root" -B "$build_root/tsan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DCONVT_BUILD_BENCHMARKS=OFF -DCONVT_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS_DEBUG= \
  -DCMAKE_CXX_FLAGS="$san -fsanitize=thread"
cmake --build "$build_root/tsan" -j "$jobs" --target test_parallel test_plan test_thread_pool
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir "$build_root/tsan" --output-on-failure -j "$jobs" -R "^(Parallel|Plan|ThreadPool)\."

fuzz_seconds=${CONVT_FUZZ_SECONDS:-45}
stage "libFuzzer: conv_transpose and the .npy reader, ${fuzz_seconds} s each"
cmake -S "$root" -B "$build_root/fuzz" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DCONVT_BUILD_FUZZER=ON -DCONVT_BUILD_BENCHMARKS=OFF -DCONVT_BUILD_EXAMPLES=OFF
cmake --build "$build_root/fuzz" -j "$jobs" --target fuzz_conv_transpose fuzz_npy
for target in conv_transpose npy; do
  corpus=corpus
  [ "$target" = npy ] && corpus=npy_corpus
  rm -rf "$build_root/fuzz/$corpus" && mkdir -p "$build_root/fuzz/$corpus"
  "$build_root/fuzz/tests/fuzz/fuzz_$target" -max_total_time="$fuzz_seconds" -timeout=10 -print_final_stats=1 \
    "$build_root/fuzz/$corpus" "$root/tests/fuzz/$corpus"
done

stage "aarch64: cross-compile (g++-aarch64-linux-gnu), run under qemu-user"
# Eigen's NEON packets (4 floats) change which panels the packing takes and
# where tile edges fall. Correctness only: timing under emulation means
# nothing, and the peak-memory test measures the emulator's own memory too,
# as the no-thread-started test counts qemu-user's own threads (they appear
# in /proc/self/task while it runs; the test runs in every other build).
cmake -S "$root" -B "$build_root/aarch64" -DCMAKE_BUILD_TYPE=Release -DCONVT_WERROR=ON \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" -DCONVT_GTEST_SOURCE_DIR=/usr/src/googletest \
  -DCONVT_BUILD_BENCHMARKS=OFF -DCONVT_BUILD_EXAMPLES=OFF -DCONVT_INSTALL=OFF -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG"
cmake --build "$build_root/aarch64" -j "$jobs"
CONVT_DIFF_PROBLEMS=300 ctest --test-dir "$build_root/aarch64" --output-on-failure -j "$jobs" \
  -E "Memory\.|ThreadPool\.CallerPoolDoesAllTheWorkAndConvtStartsNoThread"

stage ""
echo "convt: all tests passed"
