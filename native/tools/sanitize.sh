#!/usr/bin/env bash
# native/tools/sanitize.sh — every native test under AddressSanitizer + UndefinedBehaviorSanitizer.
#
# Configures build-asan/ with -DCIRCLELOSS_SANITIZE=ON (the top-level option: -fsanitize=address,undefined
# -fno-sanitize-recover=undefined on the core and the tests), builds it, and runs ctest with leak
# detection on. No LeakSanitizer suppressions are used: OpenBLAS (static, uninstrumented) and the
# session thread pools produce no leak reports, so any report is a real leak.
#
# Environment: ASAN_BUILD_DIR (default <repo>/build-asan), SANITIZE_JOBS (build and ctest parallelism,
# default 2), CTEST_ARGS (extra ctest arguments, e.g. "-R Robustness").
# Prints "sanitize: PASS|FAIL (P passed, F failed ...)" last; exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${ASAN_BUILD_DIR:-$ROOT/build-asan}"
JOBS="${SANITIZE_JOBS:-2}"

echo "==> sanitize: build (ASan + UBSan, RelWithDebInfo) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIRCLELOSS_CUDA=OFF -DCIRCLELOSS_SANITIZE=ON \
  -DCIRCLELOSS_BUILD_TESTS=ON >/dev/null
if ! cmake --build "$BUILD" -j"$JOBS" >"$BUILD/build.log" 2>&1; then
  tail -n 30 "$BUILD/build.log"
  echo "sanitize: FAIL (build; log $BUILD/build.log)"
  # shellcheck source=../../eng/results.sh
  . "$ROOT/eng/results.sh"
  results_write sanitize 0 1 0 "the ASan + UBSan build failed (log $BUILD/build.log)" >/dev/null
  exit 1
fi

# detect_leaks: LeakSanitizer at exit of every test process. halt_on_error with the build's
# -fno-sanitize-recover=undefined: the first UBSan report fails the test.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "==> sanitize: ctest (ASAN_OPTIONS=$ASAN_OPTIONS)"
set +e
# shellcheck disable=SC2086
# The machine-readable result (eng/test-summary.ps1 adds it up) is ctest's own JUnit file.
junit=()
if [ -n "${CIRCLELOSS_RESULTS_DIR:-}" ]; then mkdir -p "$CIRCLELOSS_RESULTS_DIR"; junit=(--output-junit "$CIRCLELOSS_RESULTS_DIR/sanitize.xml"); fi
(cd "$BUILD" && ctest -j"$JOBS" --output-on-failure --timeout 300 "${junit[@]}" ${CTEST_ARGS:-}) >"$BUILD/ctest.log" 2>&1
rc=$?
set -e

line="$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$BUILD/ctest.log" | tail -n 1 || true)"
total="$(sed -n -E 's/.*tests failed out of ([0-9]+).*/\1/p' <<<"$line")"
failed="$(sed -n -E 's/.* ([0-9]+) tests failed out of.*/\1/p' <<<"$line")"
total="${total:-0}"
failed="${failed:-0}"
passed=$((total - failed))
if [ "$rc" -ne 0 ] || [ "$total" -eq 0 ]; then
  grep -E "runtime error|ERROR: (Address|Leak)Sanitizer|SUMMARY: |\(Failed\)|\(Timeout\)|\(Subprocess aborted\)|Failure$" "$BUILD/ctest.log" \
    | sort | uniq | head -n 25 || true
  echo "sanitize: FAIL ($passed passed, $failed failed; log $BUILD/ctest.log)"
  exit 1
fi
echo "sanitize: PASS ($passed passed, $failed failed)"
