#!/usr/bin/env bash
# One entry point for contributors: ./build.sh <task> [...]
#   deps      install what the build needs (Debian packages, the cross compilers and emulators of
#             eng/cross/deps.sh, .NET local tools)
#   native    configure and build the native library and its tests (CMake, Release)
#   bindings  regenerate the P/Invoke bindings from the C header and fail on any difference
#   build     native + bindings check + the .NET solution
#   test      build, then every test suite (ctest, xunit, mpirun 1-4 ranks, Pester, cross: linux-arm64
#             and win-x64 built and their native tests run under qemu-aarch64 and wine, packaging: the
#             sample published per RID, and the reliability checks: fuzzing, ASan/UBSan, valgrind). Each
#             suite writes a machine-readable result into $BUILD_DIR/test-results (JUnit, trx);
#             eng/test-summary.ps1 prints the table and "N passed, N failed, N skipped".
#             CIRCLELOSS_QUICK=1 leaves out the reliability checks and the emulated native tests.
#   pack      the NuGet packages (runtime packages for linux-x64, linux-arm64, win-x64: the last two
#             cross-built by eng/cross/build.sh) and the PowerShell module into artifacts/
#   demo      the main job: `circleloss demo` (trains an embedding on the bundled digits)
# Environment: CONFIGURATION (Release), CIRCLELOSS_CUDA (AUTO|ON|OFF), BUILD_DIR (build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
CONFIGURATION="${CONFIGURATION:-Release}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
CIRCLELOSS_CUDA="${CIRCLELOSS_CUDA:-AUTO}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n==> %s\n' "$*"; }

# Debian packages the build needs; installed only when missing.
APT_PACKAGES=(cmake g++ make libopenblas-pthread-dev libgtest-dev fonts-dejavu-core
  clang-14 libclang-rt-14-dev valgrind openmpi-bin libopenmpi-dev libbenchmark-dev)

task_deps() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  command -v dotnet >/dev/null || { echo "the .NET SDK 10 is required (dotnet not on PATH)" >&2; exit 1; }
  eng/cross/deps.sh
  if [ -f .config/dotnet-tools.json ]; then
    dotnet tool restore >/dev/null
  fi
}

task_native() {
  task_deps
  log "native build ($CONFIGURATION, CUDA=$CIRCLELOSS_CUDA)"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$CONFIGURATION" -DCIRCLELOSS_CUDA="$CIRCLELOSS_CUDA" >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)"
}

task_bindings() {
  if [ -x bindings/check.sh ]; then
    log "bindings: regenerate from the header and compare"
    bindings/check.sh
  fi
}

task_build() {
  task_native
  task_bindings
  if [ -f CircleLoss.Interop.sln ]; then
    log "managed build"
    dotnet build CircleLoss.Interop.sln -c "$CONFIGURATION" -warnaserror -nologo -v q
  fi
}

# Every suite writes its result into $RESULTS (ctest's and Pester's JUnit, xunit's trx, the script suites'
# JUnit from eng/results.sh); eng/test-summary.ps1 adds them up. A suite's exit status only says whether
# to go on: the counts come from the files.
run_ctest() {
  log "native tests (ctest)"
  (cd "$BUILD_DIR" && ctest -j"$(nproc)" --output-on-failure --output-junit "$RESULTS/ctest.xml") |
    grep -v -E '^\s+(Start|[0-9]+/[0-9]+ Test)'
}

run_dotnet_tests() {
  [ -f CircleLoss.Interop.sln ] || return 0
  log "managed tests (xunit)"
  dotnet test CircleLoss.Interop.sln -c "$CONFIGURATION" --no-build -nologo \
    --logger "trx;LogFilePrefix=xunit" --results-directory "$RESULTS/xunit" -v q
}

# The distributed loss under mpirun with 1 to 4 ranks, and the abort check.
run_mpi() { log "distributed tests (mpirun, 1 to 4 ranks)"; eng/mpi-tests.sh "$CONFIGURATION"; }

run_pester() {
  log "PowerShell tests (Pester)"
  dotnet pwsh -NoProfile -NonInteractive -File tests/CircleLoss.PowerShell.Tests/run.ps1 \
    -Configuration "$CONFIGURATION" -SummaryFile "$BUILD_DIR/pester-summary.txt" -ResultFile "$RESULTS/pester.xml"
}

# linux-arm64 and win-x64: cross-built, their native tests under qemu-aarch64 and wine.
run_cross() {
  log "cross (linux-arm64 under qemu-aarch64, win-x64 under wine)"
  BUILD_DIR="$BUILD_DIR" CONFIGURATION="$CONFIGURATION" eng/cross/check.sh
}

# The packages as a user gets them: pack, the shipped libraries' dependencies, the consumer sample per RID and
# the TorchSharp sample installed from the packed packages.
run_packaging() {
  log "packaging (pack, native dependencies, consumer sample per RID, TorchSharp sample)"
  BUILD_DIR="$BUILD_DIR" eng/packaging-check.sh "$CONFIGURATION"
}

# The benchmarks build and run (not timed: docs/performance.md has the measurements).
run_benchmarks() {
  log "benchmarks (build and smoke run; timings are never asserted)"
  eng/benchmarks-check.sh
}

# Fuzzing (the corpus and regressions replayed, then a fixed seed for a fixed number of executions:
# reproducible), every native test under ASan + UBSan, a valgrind subset; each part writes its result.
run_reliability() {
  log "reliability (fuzz, sanitizers, valgrind)"
  BUILD_DIR="$BUILD_DIR" native/tools/reliability-ci.sh
}

task_test() {
  task_build
  RESULTS="$BUILD_DIR/test-results"
  rm -rf "$RESULTS"
  mkdir -p "$RESULTS"
  export CIRCLELOSS_RESULTS_DIR="$RESULTS"
  local suites=(ctest dotnet_tests mpi pester cross packaging benchmarks) expected="ctest,xunit,mpi,pester,cross,packaging,benchmarks"
  if [ "${CIRCLELOSS_QUICK:-0}" = 1 ]; then
    log "reliability checks skipped (CIRCLELOSS_QUICK=1)"
  else
    suites+=(reliability)
    expected+=",fuzz,sanitize,valgrind"
  fi
  local suite
  set +e
  for suite in "${suites[@]}"; do "run_$suite"; done
  log "summary"
  dotnet pwsh -NoProfile -NonInteractive -File eng/test-summary.ps1 -ResultsDir "$RESULTS" -Expected "$expected"
  local status=$?
  set -e
  return $status
}

task_pack() {
  task_build
  BUILD_DIR="$BUILD_DIR" CONFIGURATION="$CONFIGURATION" eng/cross/build.sh
  BUILD_DIR="$BUILD_DIR" eng/pack.sh "$CONFIGURATION"
}

task_demo() {
  if [ -d src/CircleLoss.Cli ]; then
    task_build
    log "circleloss demo"
    dotnet run --project src/CircleLoss.Cli -c "$CONFIGURATION" --no-build -- demo "$@"
  else
    task_native
    log "demo: golden case 01 through the native library"
    (cd "$BUILD_DIR" && ./bin/circleloss_native_tests --gtest_filter='AllCases/Golden.*01_self*' --gtest_brief=1)
  fi
}

main() {
  local task="${1:-build}"
  shift || true
  case "$task" in
    deps | native | bindings | build | test | pack | demo) "task_$task" "$@" ;;
    -h | --help | help) sed -n '2,16p' "$0" ;;
    *) echo "unknown task '$task' (try: ./build.sh help)" >&2; exit 2 ;;
  esac
}

main "$@"
