#!/usr/bin/env bash
# Peak memory beyond inputs and outputs versus the reference-set size M (N = 1024, D = 128), one
# process per size, with the default workspace limit (1 GiB: the matrix is kept while it fits) and
# with a 64 MiB limit (streamed beyond 64 MiB). Writes CSV to stdout: m,limit_mib,extra_peak_mib,seconds.
#   native/bench/memory_curve.sh [build-dir]
set -euo pipefail
build="${1:-build-bench}"
echo "m,limit_mib,extra_peak_mib,seconds"
for limit in 0 64; do
  for m in 16384 32768 65536 131072 262144 524288 1048576; do
    "$build/bin/circleloss_memory_curve" 1024 "$m" 128 2 "$limit"
  done
done
