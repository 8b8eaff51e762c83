#!/usr/bin/env bash
# The benchmark task of issue 8 ("CPU performance"): CircleLoss.Interop against its own product floor and against the
# same Keras formula written with TorchSharp-cpu 0.107 (libtorch 2.10) and autograd, 2 threads each.
#
#   benchmarks/run.sh                 full run (about 10-15 minutes on 2 cores); writes docs/performance-torchsharp.md
#   benchmarks/run.sh --quick         short jobs, to try the harness (writes to the build output, not to docs/)
#   benchmarks/run.sh --filter 1024   only the benchmark classes whose name contains 1024 (repeatable; build output)
#
# Steps: build the native library (Release) when it is missing or older than its sources, build the benchmark project
# (Release; it is not part of CircleLoss.Interop.sln), run it. The program checks that TorchSharp's loss and gradients
# agree with the library's before it times anything and stops otherwise.
#
# TorchSharp on Debian bookworm: its libLibTorchSharp.so asks for GLIBCXX_3.4.32 (bookworm's libstdc++ stops at
# 3.4.30) for a single symbol, GCC 13's std::ios_base_library_init() marker, which nothing binds or calls. Debian
# trixie's libstdc++6 (which has the version) cannot be loaded here: it needs glibc 2.38, bookworm has 2.36. So the
# program marks that one version requirement weak (ELF VER_FLG_WEAK) in the copy of libLibTorchSharp.so inside its
# own build output (TorchSharpCompat.cs), which glibc accepts. Nothing on the system or in the NuGet cache changes;
# a rebuild restores the original file and the next run patches it again. On a system whose libstdc++ has
# GLIBCXX_3.4.32 (GCC 13 or newer: Debian trixie, Ubuntu 24.04) nothing is patched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
PROJECT=benchmarks/CircleLoss.Benchmarks
BIN="$PROJECT/bin/Release/net10.0"
LIB="$ROOT/build/lib/libcircleloss.so"

log() { printf '\n==> %s\n' "$*"; }

# 1. The native library, Release, only when needed (others may share build/; an up-to-date library is reused).
needs_native=""
if [ ! -f "$LIB" ]; then
  needs_native="missing"
elif ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' build/CMakeCache.txt 2>/dev/null; then
  needs_native="build/ is not a Release configuration"
elif [ -n "$(find native/include native/src CMakeLists.txt -type f -newer "$LIB" -not -path 'native/src/cuda/*' 2>/dev/null | head -1)" ]; then
  needs_native="older than its sources"
fi
if [ -n "$needs_native" ]; then
  log "native library: $needs_native; building (Release)"
  CONFIGURATION=Release ./build.sh native
else
  log "native library: reusing $LIB"
fi

# 2. The benchmark project.
# Warnings stay warnings here: the benchmark measures, it does not lint (the solution build keeps them errors), so a
# warning in work in progress elsewhere in the tree does not stop a measurement.
log "building $PROJECT (Release)"
dotnet build "$PROJECT/CircleLoss.Benchmarks.csproj" -c Release -nologo -v q -p:TreatWarningsAsErrors=false

# 3. Run. Full runs write the committed results; partial ones (any argument) write beside the binaries.
if [ $# -eq 0 ]; then
  OUTPUT="${OUTPUT:-$ROOT/docs/performance-torchsharp.md}"
else
  OUTPUT="${OUTPUT:-$ROOT/$BIN/performance-torchsharp.partial.md}"
fi
COMMAND="${BENCH_NICE:+BENCH_NICE=$BENCH_NICE }benchmarks/run.sh${*:+ $*}"

# The machine is shared with other people's builds that often keep both cores busy. Unprioritised, every timing then
# depends on their load (TorchSharp's OpenMP steps slow down ten times and more), so the benchmark runs in a session
# of its own (setsid: its own scheduler autogroup, since Linux weighs autogroups against each other) whose autogroup
# and process get niceness -10 (root only, as here) for the ~10 minutes of the run. BENCH_NICE=0 leaves priorities alone.
NICE="${BENCH_NICE:--10}"
if [ "$NICE" != "0" ] && [ "$(id -u)" -ne 0 ]; then
  echo "warning: not root, so the benchmark cannot be given a higher priority; running at normal priority" >&2
  NICE=0
fi

log "running: $COMMAND (niceness $NICE)"
export BENCH_BIN="$BIN" BENCH_OUTPUT="$OUTPUT" BENCH_COMMAND="$COMMAND" BENCH_NICE_VALUE="$NICE"
setsid -w bash -c '
  if [ "$BENCH_NICE_VALUE" != "0" ]; then
    echo "$BENCH_NICE_VALUE" > /proc/self/autogroup 2>/dev/null || echo "warning: the autogroup niceness could not be set" >&2
    exec nice -n "$BENCH_NICE_VALUE" env DOTNET_gcServer=0 dotnet "$BENCH_BIN/CircleLoss.Benchmarks.dll" --output "$BENCH_OUTPUT" --command "$BENCH_COMMAND" "$@"
  fi
  exec env DOTNET_gcServer=0 dotnet "$BENCH_BIN/CircleLoss.Benchmarks.dll" --output "$BENCH_OUTPUT" --command "$BENCH_COMMAND" "$@"
' bench "$@"
log "results: $OUTPUT"
