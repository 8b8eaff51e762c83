#!/usr/bin/env bash
# The native benchmark task: builds the Google Benchmark suite (Release, build-bench/), runs it with
# repetitions, runs the memory-versus-M probe, and writes docs/performance-native.md and
# docs/memory-vs-m.png. Medians throughout; every ratio compares two numbers from the same run.
#   native/bench/run.sh [extra Google Benchmark flags]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import matplotlib' 2>/dev/null ||
  { echo "the report's plot needs Debian's python3-matplotlib (apt-get install python3-matplotlib)" >&2; exit 1; }
build="$root/build-bench"
results="$build/results"
mkdir -p "$results"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCIRCLELOSS_CUDA=OFF -DCIRCLELOSS_BUILD_BENCHMARKS=ON \
  -DCIRCLELOSS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
command="build-bench/bin/circleloss_bench --benchmark_repetitions=5 --benchmark_min_time=1 $*"
echo "==> $command"
"$build/bin/circleloss_bench" --benchmark_repetitions=5 --benchmark_min_time=1 \
  --benchmark_format=json --benchmark_out="$results/bench.json" --benchmark_out_format=json "$@" >/dev/null
echo "==> memory curve"
native/bench/memory_curve.sh "$build" > "$results/memory.csv"
/usr/bin/python3 native/bench/plot_memory_curve.py "$results/memory.csv" docs/memory-vs-m.png
/usr/bin/python3 native/bench/report.py "$results/bench.json" "$results/memory.csv" "$command" > docs/performance-native.md
echo "==> wrote docs/performance-native.md and docs/memory-vs-m.png"
