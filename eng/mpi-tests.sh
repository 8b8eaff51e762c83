#!/usr/bin/env bash
# The distributed suite (run by ./build.sh test and ./build.ps1 -Task Test): the program
# tests/CircleLoss.Interop.Distributed.MpiTests under Open MPI's mpirun with 1, 2, 3 and 4 ranks
# (oversubscribed where the machine has fewer cores), each comparing the distributed loss with one process
# on the golden cases and random cases with unequal slices and checking the failure agreement; then
# the abort check: an exception that escapes one rank must end the whole job, not leave it waiting.
# Prints each run's failures and summary, and last "mpi: P passed, F failed". Usage: eng/mpi-tests.sh [Configuration]
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration="${1:-Release}"
dll="$root/tests/CircleLoss.Interop.Distributed.MpiTests/bin/$configuration/net10.0/CircleLoss.Interop.Distributed.MpiTests.dll"
passed=0
failed=0
failures=""
# shellcheck source=results.sh
. "$root/eng/results.sh"

if ! command -v mpirun >/dev/null; then
  results_write mpi 0 1 0 "mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev; ./build.sh deps does)"
  exit 1
fi
if [ ! -f "$dll" ]; then
  results_write mpi 0 1 0 "$dll not found: build the solution first (./build.sh build)"
  exit 1
fi

flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)

for ranks in 1 2 3 4; do
  start=$(date +%s%N)
  out="$(timeout 600 mpirun "${flags[@]}" -np "$ranks" dotnet "$dll" 2>&1)"
  rc=$?
  milliseconds=$((($(date +%s%N) - start) / 1000000))
  echo "$out" | grep -E '^(  FAIL|Open MPI|largest|mpi-tests)' || true
  line="$(echo "$out" | grep -E "^mpi-tests $ranks ranks: [0-9]+ passed, [0-9]+ failed$" | tail -1)"
  if [ -z "$line" ]; then
    echo "mpirun -np $ranks: no summary (exit $rc); last lines:"
    echo "$out" | tail -20
    failed=$((failed + 1))
    failures+="mpirun -np $ranks: no summary (exit $rc)"$'\n'
    continue
  fi
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
  passed=$((passed + p))
  failed=$((failed + f))
  failures+="$(echo "$out" | grep -E '^  FAIL' | sed 's/^  FAIL /'"$ranks"' ranks: /')"$'\n'
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); failures+="mpirun -np $ranks: exit $rc"$'\n'; fi
  echo "  ($ranks ranks: $milliseconds ms)"
done

# The data-parallel demo: `mpirun -np 2 circleloss demo` must print the epochs and the retrieval table of one process.
cli="$root/src/CircleLoss.Cli/bin/$configuration/net10.0/circleloss.dll"
if [ -f "$cli" ]; then
  metrics() { sed -E 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1b[=>]//g' | grep -E '^epoch [0-9]+/|^│ (Recall|mAP)' | sed -E 's/  [0-9.]+ s$//'; }
  single="$(dotnet "$cli" demo --no-plots --epochs 6 2>&1 | metrics)"
  for ranks in 2 3; do
    parallel="$(timeout 300 mpirun "${flags[@]}" -np "$ranks" dotnet "$cli" demo --no-plots --epochs 6 2>&1 | metrics)"
    if [ -n "$single" ] && [ "$single" = "$parallel" ]; then
      echo "  PASS mpirun -np $ranks circleloss demo prints the epochs and metrics of one process ($(echo "$single" | wc -l) lines)"
      passed=$((passed + 1))
    else
      echo "  FAIL mpirun -np $ranks circleloss demo differs from one process:"
      diff <(echo "$single") <(echo "$parallel") | head -20
      failed=$((failed + 1))
      failures+="mpirun -np $ranks circleloss demo differs from one process"$'\n'
    fi
  done
else
  echo "  FAIL $cli not found: build the solution first"
  failed=$((failed + 1))
  failures+="$cli not found"$'\n'
fi

# Rank 1 of 3 throws outside the loss while the others wait in a collective: the job must end, with the message.
out="$(timeout 120 mpirun "${flags[@]}" -np 3 dotnet "$dll" --abort-on-rank 1 2>&1)"
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo "$out" | grep -q 'aborting the MPI job: unhandled exception'; then
  echo "  PASS an unhandled exception on rank 1 of 3 aborts the job (exit $rc)"
  passed=$((passed + 1))
else
  echo "  FAIL an unhandled exception on rank 1 of 3 did not abort the job (exit $rc; 124 = still waiting after 120 s)"
  echo "$out" | tail -20
  failed=$((failed + 1))
  failures+="an unhandled exception on rank 1 of 3 did not abort the job (exit $rc)"$'\n'
fi

results_write mpi "$passed" "$failed" 0 "$failures"
[ "$failed" -eq 0 ]
