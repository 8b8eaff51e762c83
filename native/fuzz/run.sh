#!/usr/bin/env bash
# native/fuzz/run.sh [seconds]
#
# Builds the core and the libFuzzer target with clang-14 and -fsanitize=fuzzer,address,undefined in
# build-fuzz/ (its own CMake project, native/fuzz/CMakeLists.txt), replays the known-finding
# reproducers in native/fuzz/regressions/, then fuzzes for `seconds` (default 60) starting from the seed
# corpus native/fuzz/corpus/. New inputs go to build-fuzz/corpus/ (the seed corpus is never written);
# a crashing input goes to build-fuzz/artifacts/ and is printed with the case it describes.
#
# Environment:
#   FUZZ_BUILD_DIR                      build folder (default <repo>/build-fuzz)
#   FUZZ_CC, FUZZ_CXX                   compilers (default clang-14, clang++-14)
#   FUZZ_JOBS                           build parallelism (default 2)
#   FUZZ_FLAGS                          extra libFuzzer flags, e.g. "-jobs=2 -workers=2"
#   CIRCLELOSS_FUZZ_ENUM_CHECK=OFF      build the core without UBSan's enum check (see CMakeLists.txt)
#   CIRCLELOSS_FUZZ_ALLOW_EXTREME_NAN=1 accept NaN outputs for finite inputs outside the sane domain
# Both switches only look past known findings while they are being fixed; CI uses neither.
#
# Prints a last line "fuzz: PASS|FAIL ..." and exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECONDS_TO_RUN="${1:-60}"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
CC_BIN="${FUZZ_CC:-clang-14}"
CXX_BIN="${FUZZ_CXX:-clang++-14}"
ENUM_CHECK="${CIRCLELOSS_FUZZ_ENUM_CHECK:-ON}"

command -v "$CXX_BIN" >/dev/null || { echo "fuzz: FAIL ($CXX_BIN not found: apt-get install clang-14)"; exit 2; }
fuzzer_lib="$("$CXX_BIN" -print-file-name=libclang_rt.fuzzer-x86_64.a)"
if [ ! -f "$fuzzer_lib" ]; then
  echo "fuzz: FAIL (libFuzzer runtime missing: apt-get install libclang-rt-14-dev)"
  exit 2
fi

echo "==> fuzz: build ($CXX_BIN, -fsanitize=fuzzer,address,undefined, enum check $ENUM_CHECK) in $BUILD"
cmake -S "$ROOT/native/fuzz" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC_BIN" -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCIRCLELOSS_FUZZ_ENUM_CHECK="$ENUM_CHECK" >/dev/null
cmake --build "$BUILD" -j"${FUZZ_JOBS:-2}" >/dev/null

FUZZER="$BUILD/circleloss_fuzz"
WORK="$BUILD/corpus"
ARTIFACTS="$BUILD/artifacts"
LOG="$BUILD/fuzz.log"
mkdir -p "$WORK" "$ARTIFACTS"
# Leak checks after every input; UBSan findings are fatal.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

shopt -s nullglob
regressions=("$ROOT"/native/fuzz/regressions/*)
if ((${#regressions[@]})); then
  echo "==> fuzz: replaying ${#regressions[@]} regression input(s)"
  if ! "$FUZZER" "${regressions[@]}" >"$BUILD/regressions.log" 2>&1; then
    grep -E "runtime error|ERROR: (Address|Leak)Sanitizer|circleloss fuzz oracle|^Running:" "$BUILD/regressions.log" | tail -n 12 || true
    echo "fuzz: FAIL (a regression input fails; full log in $BUILD/regressions.log)"
    exit 1
  fi
fi

echo "==> fuzz: ${SECONDS_TO_RUN}s from the seed corpus"
set +e
# shellcheck disable=SC2086
"$FUZZER" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=3072 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$ARTIFACTS/" ${FUZZ_FLAGS:-} "$WORK" "$ROOT/native/fuzz/corpus" >"$LOG" 2>&1
rc=$?
set -e

execs="$(sed -n -E 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$LOG" | tail -n 1 || true)"
rate="$(sed -n -E 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$LOG" | tail -n 1 || true)"
cov="$( (grep -E '^#[0-9]+' "$LOG" || true) | tail -n 1 | sed -n -E 's/.*cov: ([0-9]+).*corp: ([0-9]+).*/\1 edges, \2 inputs in corpus/p')"
if [ "$rc" -ne 0 ]; then
  grep -E "runtime error|ERROR: (Address|Leak)Sanitizer|circleloss fuzz oracle|^case:|Test unit written" "$LOG" | tail -n 12 || true
  echo "fuzz: FAIL (exit $rc after ${execs:-?} executions; log $LOG; crashing input in $ARTIFACTS)"
  exit 1
fi
echo "fuzz: PASS (${execs:-?} executions in ${SECONDS_TO_RUN}s, ${rate:-?} exec/s, ${cov:-coverage unknown})"
