#!/usr/bin/env bash
# The cross suite of ./build.sh test and build.ps1 -Task Test (one definition for both): cross-build
# linux-arm64 and win-x64 (eng/cross/build.sh, which also checks each library's dependencies), then run
# each one's native tests under its emulator (eng/cross/native-tests.sh). A failed build counts as one
# failed test. CIRCLELOSS_QUICK=1 builds only (the packaging suite still runs the published sample under
# each emulator). Last line: "cross: P passed, F failed, S skipped"; the result file: eng/results.sh.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../results.sh"
failures=""
passed=0
failed=0
skipped=0
for rid in "${CROSS_RIDS[@]}"; do
  start=$(date +%s)
  if ! "$cross_root/eng/cross/build.sh" "$rid"; then
    echo "cross: the $rid build failed"
    failed=$((failed + 1))
    failures+="the $rid build failed"$'\n'
    continue
  fi
  echo "($rid: built in $(($(date +%s) - start)) s)"
  passed=$((passed + 1))  # the build and its dependency check
  [ "${CIRCLELOSS_QUICK:-0}" = 1 ] && { echo "cross: $rid native tests under emulation skipped (CIRCLELOSS_QUICK=1)"; continue; }
  out=$("$cross_root/eng/cross/native-tests.sh" "$rid" 2>&1)
  echo "$out"
  line=$(echo "$out" | grep -E "^cross-native $rid: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); failures+="$rid: the native tests under emulation gave no summary"$'\n'; continue; fi
  read -r p f s <<<"$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/')"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  [ "$f" -eq 0 ] || failures+="$rid: $f native test(s) failed under emulation"$'\n'
done
results_write cross "$passed" "$failed" "$skipped" "$failures" >/dev/null
echo "cross: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
