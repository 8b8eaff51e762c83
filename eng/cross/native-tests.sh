#!/usr/bin/env bash
# The native test suite (GoogleTest) of a cross-built runtime, run under its emulator (common.sh):
#   eng/cross/native-tests.sh <rid>
# Tests listed for the RID in emulation-skips.txt are left out there only, each printed with its reason
# and counted as skipped. The suite runs as two shards in parallel (one emulated process each); on
# win-x64 the golden, reference and invariance tests run again with the row kernels and Eigen's products
# of each lower x86-64 level (CIRCLELOSS_X86_LEVEL), so every variant shipped is tested, not only the
# one this CPU picks. Last line: "cross-native <rid>: P passed, F failed, S skipped".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rid="${1:?usage: eng/cross/native-tests.sh <rid>}"
tests="$CROSS_BUILD_DIR/$rid/bin/circleloss_native_tests"
[ "$rid" = win-x64 ] && tests="$tests.exe"
[ -f "$tests" ] || { echo "no $tests: run eng/cross/build.sh $rid first" >&2; echo "cross-native $rid: 0 passed, 1 failed, 0 skipped"; exit 1; }
out="$CROSS_BUILD_DIR/$rid/test-results"
rm -rf "$out"
mkdir -p "$out"
cd "$CROSS_BUILD_DIR/$rid/bin"
cross_prepare_emulator "$rid"

skip_filter=""
skipped=0
while read -r skip_rid name reason; do
  [ "$skip_rid" = "$rid" ] || continue
  echo "skipped under emulation ($rid): $name: $reason"
  skip_filter="$skip_filter:$name"
  skipped=$((skipped + 1))
done < <(grep -v -E '^\s*(#|$)' "$cross_root/eng/cross/emulation-skips.txt")

passed=0
failed=0
# Starts one GoogleTest process (or shard) under the emulator: run_gtest <label> <filter> [VAR=value...]
run_gtest() {
  local label="$1" filter="$2" xml="$out/$1.xml"
  shift 2
  # A Windows program needs the report's path as a Windows path (wine maps / to Z:).
  [ "$rid" = win-x64 ] && xml="Z:${xml//\//\\}"
  env "$@" timeout "${CROSS_TEST_TIMEOUT:-1200}" bash -c 'source "$0"; cross_run "$1" "$2" --gtest_brief=1 --gtest_filter="$3" --gtest_output="xml:$4"' \
    "$cross_root/eng/cross/common.sh" "$rid" "$tests" "$filter" "$xml" >"$out/$label.log" 2>&1
  echo $? >"$out/$label.rc"
}

# Adds the results of one finished process: tally <label>
tally() {
  local label="$1" xml="$out/$1.xml" rc
  rc=$(cat "$out/$label.rc")
  grep -v -E '^Running main\(\)' "$out/$label.log"
  if [ ! -f "$xml" ]; then
    echo "$label: no results (exit $rc: crashed or timed out)"
    failed=$((failed + 1))
    return
  fi
  local total failures errors skips
  total=$(grep -o -m1 '<testsuites tests="[0-9]*"' "$xml" | grep -o '[0-9][0-9]*')
  failures=$(grep -o -m1 '<testsuites [^>]*' "$xml" | grep -o ' failures="[0-9]*"' | grep -o '[0-9][0-9]*')
  errors=$(grep -o -m1 '<testsuites [^>]*' "$xml" | grep -o ' errors="[0-9]*"' | grep -o '[0-9][0-9]*')
  skips=$(grep -c '<skipped' "$xml" || true)
  echo "$label: $((total - failures - errors - skips)) passed, $((failures + errors)) failed, $skips skipped (exit $rc)"
  passed=$((passed + total - failures - errors - skips))
  failed=$((failed + failures + errors))
  skipped=$((skipped + skips))
  if [ "$rc" -ne 0 ] && [ $((failures + errors)) -eq 0 ]; then failed=$((failed + 1)); fi
}

start=$(date +%s)
everything="*${skip_filter:+-${skip_filter#:}}"
run_gtest shard0 "$everything" GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=0 &
run_gtest shard1 "$everything" GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=1 &
wait
tally shard0
tally shard1
if [ "$rid" = win-x64 ]; then
  # The kernels of the lower levels (this CPU would only ever run its own level's).
  numeric='AllCases/Golden.*:Reference.*:Invariance.*:FiniteDifferences.*:EdgeCases.*'
  run_gtest level-x86-64-v3 "$numeric" CIRCLELOSS_X86_LEVEL=x86-64-v3 &
  run_gtest level-baseline "$numeric" CIRCLELOSS_X86_LEVEL=baseline &
  wait
  tally level-x86-64-v3
  tally level-baseline
fi
echo "($rid: $(($(date +%s) - start)) s under emulation)"
echo "cross-native $rid: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
