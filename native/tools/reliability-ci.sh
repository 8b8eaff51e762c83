#!/usr/bin/env bash
# native/tools/reliability-ci.sh — the reliability checks of issue 9, for CI:
#   1. fuzz      native/fuzz/run.sh --ci    libFuzzer + ASan + UBSan over the C ABI: the seed corpus and
#                                           the regression inputs replayed, then a fixed seed for a fixed
#                                           number of executions (the same commit, the same result)
#   2. sanitize  native/tools/sanitize.sh   every native test under ASan + UBSan (build-asan/)
#   3. valgrind  native/tools/valgrind.sh   a subset of the Release tests under memcheck (build/)
# Every part runs even when an earlier one fails. One summary line per part, then the count line for
# the CI's "N passed, N failed" total:
#   reliability: P passed, F failed
# where each part counts as one test and the sanitizer run's ctest results are added test by test.
# Exits non-zero when any part fails. About 6 minutes on 2 cores with warm build folders, under 12
# from scratch (build/ is built by the main CI step before this one).
#
# Environment: FUZZ_CI_RUNS (run.sh's default), RELIABILITY_PARTS (default "fuzz sanitize valgrind"), and
# whatever the three scripts read (BUILD_DIR, ASAN_BUILD_DIR, FUZZ_BUILD_DIR, ...).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PARTS="${RELIABILITY_PARTS:-fuzz sanitize valgrind}"
OUT="${RELIABILITY_LOG_DIR:-$ROOT/build-reliability}"
mkdir -p "$OUT"

parts_passed=0
parts_failed=0
ctest_passed=0
ctest_failed=0
summaries=()

run_part() {
  local name="$1"
  shift
  local log="$OUT/$name.log" start end rc last
  start=$(date +%s)
  echo "==> reliability: $name: $*"
  "$@" >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  last="$(grep -E "^$name: (PASS|FAIL)" "$log" | tail -n 1)"
  [ -n "$last" ] || last="$name: FAIL (exit $rc without a summary; log $log)"
  if [ "$rc" -ne 0 ]; then
    case "$last" in "$name: PASS"*) last="$name: FAIL (exit $rc; log $log)" ;; esac
    # The part's own diagnosis (it prints the failing checks just before its summary line).
    tail -n 15 "$log" | grep -v -E "^$name: " | sed 's/^/    /'
    parts_failed=$((parts_failed + 1))
  else
    parts_passed=$((parts_passed + 1))
  fi
  summaries+=("$last [$((end - start))s]")
  echo "$last [$((end - start))s]"
  if [ "$name" = sanitize ]; then
    local p f
    p="$(sed -n -E 's/^sanitize: (PASS|FAIL) \(([0-9]+) passed, ([0-9]+) failed.*/\2/p' <<<"$last")"
    f="$(sed -n -E 's/^sanitize: (PASS|FAIL) \(([0-9]+) passed, ([0-9]+) failed.*/\3/p' <<<"$last")"
    ctest_passed=$((ctest_passed + ${p:-0}))
    ctest_failed=$((ctest_failed + ${f:-0}))
  fi
}

for part in $PARTS; do
  case "$part" in
    fuzz) run_part fuzz "$ROOT/native/fuzz/run.sh" --ci ;;
    sanitize) run_part sanitize "$ROOT/native/tools/sanitize.sh" ;;
    valgrind) run_part valgrind "$ROOT/native/tools/valgrind.sh" ;;
    *) echo "reliability: unknown part '$part'"; parts_failed=$((parts_failed + 1)) ;;
  esac
done

echo
echo "==> reliability summary (logs in $OUT)"
for s in "${summaries[@]}"; do echo "  $s"; done
echo "reliability parts: $parts_passed passed, $parts_failed failed; sanitizer ctest: $ctest_passed passed, $ctest_failed failed"
echo "reliability: $((parts_passed + ctest_passed)) passed, $((parts_failed + ctest_failed)) failed"
[ "$parts_failed" -eq 0 ]
