#!/usr/bin/env bash
# The packaging suite of ./build.sh test and build.ps1 -Task Test (one definition for both): pack every package
# (eng/pack.sh, which also checks the shipped library's dependencies), then install them as users do:
#   1. eng/consumer-check.sh <rid>    samples/Consumer from the packed packages only: the golden loss, normal and
#                                     self-contained publish on linux-x64; self-contained publishes for linux-arm64
#                                     and win-x64 run under qemu-aarch64 and wine (one check per RID)
#   2. eng/torchsharp-sample-check.sh samples/TorchSharpTraining with TorchSharp-cpu: trains, Recall@1 must rise
# Each step counts as one test; a failed pack counts the checks that could not run as failed.
# Last line: "packaging: P passed, F failed"; the result file: eng/results.sh. Exits non-zero when anything failed.
#   eng/packaging-check.sh [configuration]
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
configuration="${1:-Release}"
# shellcheck source=results.sh
. eng/results.sh
passed=0
failed=0
failures=""
if eng/pack.sh "$configuration"; then
  passed=$((passed + 1))
  checks=("eng/consumer-check.sh linux-x64" "eng/consumer-check.sh linux-arm64" "eng/consumer-check.sh win-x64"
    eng/torchsharp-sample-check.sh)
  for check in "${checks[@]}"; do
    echo "==> $check"
    if $check; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+="$check failed"$'\n'; echo "packaging: $check failed"; fi
  done
else
  failed=$((failed + 5))
  failures+="eng/pack.sh failed: nothing could be checked"
fi
results_write packaging "$passed" "$failed" 0 "$failures"
[ "$failed" -eq 0 ]
