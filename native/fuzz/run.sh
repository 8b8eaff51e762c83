#!/usr/bin/env bash
# native/fuzz/run.sh [--ci] [--seconds N | --runs N] [--seed S] [--workers W] [SECONDS]
#
# Builds the core and the libFuzzer target with clang-14 and -fsanitize=fuzzer,address,undefined in
# build-fuzz/ (its own CMake project, native/fuzz/CMakeLists.txt), replays the known-finding
# reproducers in native/fuzz/regressions/, then fuzzes.
#
# Two modes:
#   exploration (default)  a time budget (--seconds, default 60; a bare number is the same) or an
#                          execution budget (--runs), a random seed unless --seed is given, new inputs
#                          kept in build-fuzz/corpus/ across runs; --workers W runs W processes, each
#                          with its own seed. This is the campaign script: it finds new bugs.
#   --ci                   what ./build.sh test runs: replays the seed corpus and the regressions
#                          (every input once), then fuzzes with seed 1 for a fixed number of executions
#                          (FUZZ_CI_RUNS, default 200000) from the seed corpus into a fresh working
#                          corpus. The same commit gives the same result: a new finding can fail only the
#                          commit that changes the library or the target, not an unrelated one.
# The seed corpus native/fuzz/corpus/ is never written. A crashing input goes to build-fuzz/artifacts/
# and is printed with the case it describes.
#
# Environment:
#   FUZZ_BUILD_DIR                      build folder (default <repo>/build-fuzz)
#   FUZZ_CC, FUZZ_CXX                   compilers (default clang-14, clang++-14)
#   FUZZ_JOBS                           build parallelism (default 2)
#   FUZZ_FLAGS                          extra libFuzzer flags
#   CIRCLELOSS_FUZZ_ENUM_CHECK=OFF      build the core without UBSan's enum check (see CMakeLists.txt)
#   CIRCLELOSS_FUZZ_ALLOW_EXTREME_NAN=1 accept NaN outputs for finite inputs outside the sane domain
# Both switches only look past known findings while they are being fixed; CI uses neither.
#
# Prints a last line "fuzz: PASS|FAIL ..." and exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../eng/results.sh
. "$ROOT/eng/results.sh"
# The last line for people, and the machine-readable result (one check: the campaign passed or not).
fuzz_fail() {
  echo "fuzz: FAIL ($1)"
  results_write fuzz 0 1 0 "$1" >/dev/null
  exit "${2:-1}"
}
MODE=explore
SECONDS_TO_RUN=""
RUNS=""
SEED=""
WORKERS=1
while (($#)); do
  case "$1" in
    --ci) MODE=ci ;;
    --seconds) SECONDS_TO_RUN="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --seed) SEED="$2"; shift ;;
    --workers) WORKERS="$2"; shift ;;
    [0-9]*) SECONDS_TO_RUN="$1" ;;
    -h | --help) sed -n '2,29p' "$0"; exit 0 ;;
    *) fuzz_fail "unknown argument '$1'; see --help" 2 ;;
  esac
  shift
done
if [ "$MODE" = ci ]; then
  RUNS="${FUZZ_CI_RUNS:-200000}"
  SEED=1
  SECONDS_TO_RUN=""
  WORKERS=1
elif [ -z "$RUNS" ] && [ -z "$SECONDS_TO_RUN" ]; then
  SECONDS_TO_RUN=60
fi

BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
CC_BIN="${FUZZ_CC:-clang-14}"
CXX_BIN="${FUZZ_CXX:-clang++-14}"
ENUM_CHECK="${CIRCLELOSS_FUZZ_ENUM_CHECK:-ON}"

command -v "$CXX_BIN" >/dev/null || fuzz_fail "$CXX_BIN not found: apt-get install clang-14" 2
fuzzer_lib="$("$CXX_BIN" -print-file-name=libclang_rt.fuzzer-x86_64.a)"
if [ ! -f "$fuzzer_lib" ]; then
  fuzz_fail "libFuzzer runtime missing: apt-get install libclang-rt-14-dev" 2
fi

echo "==> fuzz: build ($CXX_BIN, -fsanitize=fuzzer,address,undefined, enum check $ENUM_CHECK) in $BUILD"
cmake -S "$ROOT/native/fuzz" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC_BIN" -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCIRCLELOSS_FUZZ_ENUM_CHECK="$ENUM_CHECK" >/dev/null
cmake --build "$BUILD" -j"${FUZZ_JOBS:-2}" >/dev/null

FUZZER="$BUILD/circleloss_fuzz"
ARTIFACTS="$BUILD/artifacts"
mkdir -p "$ARTIFACTS"
# Leak checks after every input; UBSan findings are fatal.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
LIMITS=(-timeout=10 -rss_limit_mb=3072 -max_len=4096)

# Runs every input of the given folder once (-runs=0 executes the corpus and stops).
replay() {
  local what="$1" log="$2"
  shift 2
  echo "==> fuzz: replaying $what"
  if ! "$FUZZER" -runs=0 "${LIMITS[@]}" "$@" >"$log" 2>&1; then
    grep -E "runtime error|ERROR: (Address|Leak)Sanitizer|circleloss fuzz oracle|^case:|^Running:" "$log" | tail -n 12 || true
    fuzz_fail "replaying $what; full log in $log"
  fi
}

shopt -s nullglob
regressions=("$ROOT"/native/fuzz/regressions/*)
if ((${#regressions[@]})); then
  # Each file is run once (libFuzzer runs individual files given on the command line).
  echo "==> fuzz: replaying ${#regressions[@]} regression input(s)"
  if ! "$FUZZER" "${regressions[@]}" >"$BUILD/regressions.log" 2>&1; then
    grep -E "runtime error|ERROR: (Address|Leak)Sanitizer|circleloss fuzz oracle|^Running:" "$BUILD/regressions.log" | tail -n 12 || true
    fuzz_fail "a regression input fails; full log in $BUILD/regressions.log"
  fi
fi

if [ "$MODE" = ci ]; then
  replay "the seed corpus ($(ls "$ROOT/native/fuzz/corpus" | wc -l) inputs)" "$BUILD/corpus-replay.log" "$ROOT/native/fuzz/corpus"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/circleloss-fuzz-ci.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
else
  WORK="$BUILD/corpus"
  mkdir -p "$WORK"
fi

budget=()
describe=""
if [ -n "$RUNS" ]; then budget+=(-runs="$RUNS"); describe="$RUNS executions"; fi
if [ -n "$SECONDS_TO_RUN" ]; then budget+=(-max_total_time="$SECONDS_TO_RUN"); describe="${describe:+$describe or }${SECONDS_TO_RUN}s"; fi

run_one() {  # run_one LOG SEED
  local log="$1" seed="$2" seed_flag=()
  [ -n "$seed" ] && seed_flag=(-seed="$seed")
  # shellcheck disable=SC2086
  "$FUZZER" "${budget[@]}" "${seed_flag[@]}" "${LIMITS[@]}" -print_final_stats=1 -artifact_prefix="$ARTIFACTS/" \
    ${FUZZ_FLAGS:-} "$WORK" "$ROOT/native/fuzz/corpus" >"$log" 2>&1
}

echo "==> fuzz: $describe from the seed corpus ($MODE, ${WORKERS} process(es), seed ${SEED:-random})"
start=$(date +%s)
pids=()
logs=()
for ((k = 0; k < WORKERS; ++k)); do
  log="$BUILD/fuzz.log"
  ((WORKERS > 1)) && log="$BUILD/fuzz-$k.log"
  logs+=("$log")
  seed="$SEED"
  [ -n "$seed" ] && ((WORKERS > 1)) && seed=$((SEED + k))
  run_one "$log" "$seed" &
  pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
elapsed=$(($(date +%s) - start))

execs=0
seeds=""
for log in "${logs[@]}"; do
  e="$(sed -n -E 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1 || true)"
  execs=$((execs + ${e:-0}))
  s="$(sed -n -E 's/^INFO: Seed: ([0-9]+).*/\1/p' "$log" | head -n 1 || true)"
  seeds="${seeds:+$seeds,}${s:-?}"
done
cov="$( (grep -h -E '^#[0-9]+' "${logs[@]}" || true) | sed -n -E 's/.*cov: ([0-9]+).*/\1/p' | sort -n | tail -n 1)"
if [ "$rc" -ne 0 ]; then
  for log in "${logs[@]}"; do
    grep -E "runtime error|ERROR: (Address|Leak)Sanitizer|circleloss fuzz oracle|^case:|Test unit written" "$log" | tail -n 12 || true
  done
  fuzz_fail "exit $rc after $execs executions, seed(s) $seeds; logs ${logs[*]}; crashing input in $ARTIFACTS"
fi
results_write fuzz 1 0 0 >/dev/null
echo "fuzz: PASS ($execs executions in ${elapsed}s, seed(s) $seeds, ${cov:-?} edges, corpus $(ls "$WORK" | wc -l) new inputs)"
