#!/usr/bin/env bash
# The benchmarks suite of ./build.sh test (and build.ps1 -Task Test): the benchmarks are not timed in CI (timings
# need a quiet machine: docs/performance.md), but they must build and run, so that a change of the library
# cannot leave them broken until the next measurement. Checks, one test each:
#   1. the Google Benchmark build (build-bench/, CIRCLELOSS_PHASE_TIMERS on) compiles
#   2. circleloss_bench runs its smallest case and reports every phase timer's counter
#   3. circleloss_memory_curve measures one small size
#   4. benchmarks/CircleLoss.Benchmarks builds
#   5. it starts, calls the library directly and through the façade, and measures the floor (--probe)
#   6. benchmarks/platforms.sh (win-x64 under wine against linux-x64) runs one round at N = 256 and prints
#      its table's four rows
# Last line: "benchmarks: P passed, F failed"; the result file: eng/results.sh. Exits non-zero when anything failed.
#   eng/benchmarks-check.sh
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=results.sh
. eng/results.sh
build="$root/build-bench"
passed=0
failed=0
failures=""
check() {
  local name="$1"
  shift
  echo "==> $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+="$name failed"$'\n'; echo "benchmarks: $name failed"; fi
}

bench_build() {
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCIRCLELOSS_CUDA=OFF -DCIRCLELOSS_BUILD_BENCHMARKS=ON \
    -DCIRCLELOSS_BUILD_TESTS=OFF >/dev/null && cmake --build "$build" -j"$(nproc)" >/dev/null
}

bench_runs() {
  local json="$build/smoke.json"
  "$build/bin/circleloss_bench" --benchmark_filter='n:256/' --benchmark_min_time=0.01 \
    --benchmark_out="$json" --benchmark_out_format=json >/dev/null || return 1
  local phase
  for phase in setup similarities row_statistics scales gradient_coefficients gradient_products forward_outputs; do
    grep -q "\"ms_$phase\"" "$json" || { echo "no ms_$phase counter in $json"; return 1; }
  done
}

memory_curve_runs() {
  "$build/bin/circleloss_memory_curve" 64 4096 16 2 | grep -Eq '^4096,1024,[0-9.]+,[0-9.]+$'
}

program_builds() {
  dotnet build benchmarks/CircleLoss.Benchmarks/CircleLoss.Benchmarks.csproj -c Release -nologo -v q >/dev/null
}

platforms_runs() {
  local table
  table="$(benchmarks/platforms.sh 1 256 2>&1)" || { echo "$table" | tail -20; return 1; }
  local row
  for row in "self, 1" "self, 2" "reference, 1" "reference, 2"; do
    grep -q "^| $row | [0-9.]* | [0-9.]* | [0-9.]* |" <<<"$table" || { echo "no row '$row' in:"; echo "$table" | tail -12; return 1; }
  done
}

program_runs() {
  OMP_WAIT_POLICY=PASSIVE dotnet benchmarks/CircleLoss.Benchmarks/bin/Release/net10.0/CircleLoss.Benchmarks.dll --probe \
    | grep -q '^round 11: floor'
}

if bench_build; then
  passed=$((passed + 1))
  check "circleloss_bench runs with its phase timers" bench_runs
  check "circleloss_memory_curve runs" memory_curve_runs
else
  failed=$((failed + 3))
  failures+="the Google Benchmark build failed: nothing of it could be run"$'\n'
fi
if program_builds; then
  passed=$((passed + 1))
  check "CircleLoss.Benchmarks --probe runs" program_runs
else
  failed=$((failed + 2))
  failures+="benchmarks/CircleLoss.Benchmarks does not build: it could not be run"$'\n'
fi
check "benchmarks/platforms.sh runs (win-x64 under wine, linux-x64)" platforms_runs
results_write benchmarks "$passed" "$failed" 0 "$failures"
[ "$failed" -eq 0 ]
