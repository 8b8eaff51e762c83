#!/usr/bin/env bash
# win-x64 against linux-x64 on one x86-64 machine (issue 14's target: win-x64's "× floor" within 10 % of
# linux-x64's). The `circleloss bench` tool is published for each RID; win-x64's runs under wine, where
# x86-64 code runs natively. Rounds are interleaved so that every build sees the same machine load.
# linux-x64 runs twice a round: with the environment's OpenBLAS settings (OPENBLAS_CORETYPE may force an
# older kernel than the CPU's) and with both OPENBLAS_* variables unset for that command alone, so that
# OpenBLAS picks its kernel for the CPU at run time as it does on a user's machine; win-x64 always picks
# its level at run time.
#
#   benchmarks/platforms.sh [rounds [n]]     default 3 rounds of N = M = 4096 (D = 256), about a minute
#                                            each on 2 cores; eng/benchmarks-check.sh runs "1 256" as a smoke test
#
# Needs the cross toolchain and wine (./build.sh deps). Prints every run's lines, then the medians over
# the rounds as a Markdown table; records go to docs/platforms.md by hand, with the machine and load.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source eng/cross/common.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
rounds="${1:-3}"
n="${2:-4096}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "rounds must be a positive integer, got '$rounds'" >&2; exit 2; }
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "n must be a positive integer, got '$n'" >&2; exit 2; }
command -v /usr/lib/wine/wine64 >/dev/null || { echo "wine64 is missing: run ./build.sh deps" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed for the summary table" >&2; exit 1; }

out="${BUILD_DIR:-$ROOT/build}/bench-platforms"
log() { printf '\n==> %s\n' "$*" >&2; }

log "native libraries (linux-x64 Release, win-x64 cross build)"
./build.sh native >/dev/null
eng/cross/build.sh win-x64 >/dev/null
log "circleloss tool for linux-x64 and win-x64 (self-contained: wine has no .NET runtime)"
dotnet publish src/CircleLoss.Cli -c Release -r linux-x64 --self-contained false -o "$out/linux-x64" >/dev/null
dotnet publish src/CircleLoss.Cli -c Release -r win-x64 --self-contained -o "$out/win-x64" >/dev/null
cross_prepare_emulator win-x64

# The table rows of `circleloss bench`, tagged "<build> <threads>"; the box-drawing separators become '|'.
rows() { tr -d '\000' | sed 's/\x1b\[[0-9;]*m//g' | tr -c '[:print:]\n' '|' | grep -a -E "^ *(self|reference) " | sed "s/^/$1 $2 /"; }
results="$out/runs.txt"
: >"$results"
for ((round = 1; round <= rounds; round++)); do
  for threads in 1 2; do
    args=(bench -n "$n" -m "$n" -d 256 --mode both --threads "$threads" --repeats 7)
    "$out/linux-x64/circleloss" "${args[@]}" 2>&1 | rows linux-x64-env "$threads" | tee -a "$results"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$out/linux-x64/circleloss" "${args[@]}" 2>&1 |
      rows linux-x64-auto "$threads" | tee -a "$results"
    cross_run win-x64 "$out/win-x64/circleloss.exe" "${args[@]}" 2>&1 | rows win-x64 "$threads" | tee -a "$results"
  done
  log "round $round of $rounds done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
done

log "GEMM kernels"
"$out/linux-x64/circleloss" info 2>&1 | grep -a -o -m1 'GEMM: [^;]*' | sed 's/^/linux-x64-env:  /'
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$out/linux-x64/circleloss" info 2>&1 |
  grep -a -o -m1 'GEMM: [^;]*' | sed 's/^/linux-x64-auto: /'
cross_run win-x64 "$out/win-x64/circleloss.exe" info 2>&1 | tr -d '\000' | grep -a -o -m1 'GEMM: [^;]*' | sed 's/^/win-x64:        /'

python3 - "$results" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)  # (build, threads, mode) -> [(loss ms, floor ms, x floor)]
for line in open(sys.argv[1]):
    build, threads, rest = line.split(None, 2)
    cells = [c.strip() for c in rest.split('|') if c.strip()]
    mode, loss, floor, ratio = cells[0], float(cells[4]), float(cells[7]), float(cells[8])
    runs[(build, int(threads), mode)].append((loss, floor, ratio))
print("\n| mode, threads | linux-x64 (env kernel) × floor | linux-x64 (CPU's kernel) × floor | win-x64 × floor "
      "| win / linux (env) | win / linux (CPU's) | loss ms: env, CPU's, win | floor ms: env, CPU's, win |")
print("|---|---|---|---|---|---|---|---|")
for mode in ("self", "reference"):
    for threads in (1, 2):
        cols = [runs[(b, threads, mode)] for b in ("linux-x64-env", "linux-x64-auto", "win-x64")]
        if not all(cols):
            continue
        ratio = [statistics.median([r[2] for r in c]) for c in cols]
        loss = [statistics.median([r[0] for r in c]) for c in cols]
        floor = [statistics.median([r[1] for r in c]) for c in cols]
        print(f"| {mode}, {threads} | {ratio[0]:.2f} | {ratio[1]:.2f} | {ratio[2]:.2f} | {ratio[2] / ratio[0]:.2f} "
              f"| {ratio[2] / ratio[1]:.2f} | {loss[0]:.0f}, {loss[1]:.0f}, {loss[2]:.0f} "
              f"| {floor[0]:.0f}, {floor[1]:.0f}, {floor[2]:.0f} |")
print(f"\nmedians of {len(next(iter(runs.values())))} interleaved rounds; × floor is each run's median loss over its median floor")
PY
