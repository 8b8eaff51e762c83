#!/usr/bin/env bash
# One entry point for contributors: ./build.sh <task> [...]
#   deps      install what the build needs (Debian packages, the cross compilers and emulators of
#             eng/cross/deps.sh, .NET local tools)
#   native    configure and build the native library and its tests (CMake, Release)
#   bindings  regenerate the P/Invoke bindings from the C header and fail on any difference
#   build     native + bindings check + the .NET solution
#   test      build, then every test suite (ctest, xunit, Pester, cross: linux-arm64 and win-x64 built
#             and their native tests run under qemu-aarch64 and wine, packaging: the sample published
#             per RID, and the reliability checks: fuzzing, ASan/UBSan, valgrind); prints
#             "N passed, N failed, N skipped". CIRCLELOSS_QUICK=1 leaves out the reliability checks
#             and the emulated native tests.
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
SUMMARY="$BUILD_DIR/test-summary.txt"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n==> %s\n' "$*"; }

# Debian packages the build needs; installed only when missing.
APT_PACKAGES=(cmake g++ make libopenblas-pthread-dev libgtest-dev fonts-dejavu-core
  clang-14 libclang-rt-14-dev valgrind)

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

# Appends "suite passed failed skipped" to the summary.
record() { echo "$1 $2 $3 $4" >>"$SUMMARY"; }

run_ctest() {
  log "native tests (ctest)"
  local out
  set +e
  out=$(cd "$BUILD_DIR" && ctest -j"$(nproc)" --output-on-failure 2>&1)
  local rc=$?
  set -e
  echo "$out" | grep -v -E '^\s+(Start|[0-9]+/[0-9]+ Test)' || true
  local total failed
  total=$(echo "$out" | sed -n -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/p' | tail -1)
  failed=$(echo "$out" | sed -n -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/p' | tail -1)
  if [ -z "$total" ]; then record ctest 0 1 0; return 1; fi
  local skipped
  skipped=$(echo "$out" | grep -c -E '^\s+[0-9]+ - .* \(Skipped\)$' || true)
  record ctest $((total - failed - skipped)) "$failed" "$skipped"
  return $rc
}

run_dotnet_tests() {
  [ -f CircleLoss.Interop.sln ] || return 0
  log "managed tests (xunit)"
  local trx_dir="$BUILD_DIR/test-results"
  rm -rf "$trx_dir"
  set +e
  dotnet test CircleLoss.Interop.sln -c "$CONFIGURATION" --no-build -nologo \
    --logger "trx;LogFilePrefix=xunit" --results-directory "$trx_dir" -v q
  local rc=$?
  set -e
  local passed=0 failed=0 skipped=0 f
  for f in "$trx_dir"/*.trx; do
    [ -f "$f" ] || continue
    local counters
    counters=$(grep -o '<Counters [^>]*>' "$f" | head -1)
    local t p f
    t=$(echo "$counters" | sed -n -E 's/.* total="([0-9]+)".*/\1/p')
    p=$(echo "$counters" | sed -n -E 's/.* passed="([0-9]+)".*/\1/p')
    f=$(echo "$counters" | sed -n -E 's/.* failed="([0-9]+)".*/\1/p')
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + t - p - f))  # skipped tests are counted in total only
  done
  if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
  record xunit "$passed" "$failed" "$skipped"
  return $rc
}

run_pester() {
  [ -f tests/CircleLoss.PowerShell.Tests/run.ps1 ] || return 0
  log "PowerShell tests (Pester)"
  set +e
  dotnet pwsh -NoProfile -NonInteractive -File tests/CircleLoss.PowerShell.Tests/run.ps1 \
    -Configuration "$CONFIGURATION" -SummaryFile "$BUILD_DIR/pester-summary.txt"
  local rc=$?
  set -e
  if [ -f "$BUILD_DIR/pester-summary.txt" ]; then
    record pester $(cat "$BUILD_DIR/pester-summary.txt")
  else
    record pester 0 1 0
  fi
  return $rc
}

# linux-arm64 and win-x64: cross-built, their native tests under qemu-aarch64 and wine (eng/cross/check.sh).
run_cross() {
  log "cross (linux-arm64 under qemu-aarch64, win-x64 under wine)"
  local out rc line
  set +e
  out=$(BUILD_DIR="$BUILD_DIR" CONFIGURATION="$CONFIGURATION" eng/cross/check.sh 2>&1)
  rc=$?
  set -e
  echo "$out"
  line=$(echo "$out" | grep -E '^cross: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -1)
  if [ -z "$line" ]; then record cross 0 1 0; return 1; fi
  record cross $(echo "$line" | sed -E 's/^cross: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/')
  return $rc
}

# The packages as a user gets them: eng/packaging-check.sh (pack, the shipped library's dependencies, the consumer
# sample and the TorchSharp sample installed from the packed packages).
run_packaging() {
  log "packaging (pack, native dependencies, consumer sample, TorchSharp sample)"
  local out rc line
  set +e
  out=$(BUILD_DIR="$BUILD_DIR" eng/packaging-check.sh "$CONFIGURATION" 2>&1)
  rc=$?
  set -e
  echo "$out"
  line=$(echo "$out" | grep -E '^packaging: [0-9]+ passed, [0-9]+ failed$' | tail -1)
  if [ -z "$line" ]; then record packaging 0 1 0; return 1; fi
  record packaging "$(echo "$line" | sed -E 's/^packaging: ([0-9]+) passed.*/\1/')" \
    "$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')" 0
  return $rc
}

# Fuzzing (the corpus and regressions replayed, then a fixed seed for a fixed number of executions:
# reproducible), every native test under ASan + UBSan, a valgrind subset: native/tools/reliability-ci.sh
# counts each part as a test, plus the sanitizer run's ctest results.
run_reliability() {
  if [ "${CIRCLELOSS_QUICK:-0}" = 1 ]; then
    log "reliability checks skipped (CIRCLELOSS_QUICK=1)"
    return 0
  fi
  log "reliability (fuzz, sanitizers, valgrind)"
  local out rc
  set +e
  out=$(BUILD_DIR="$BUILD_DIR" native/tools/reliability-ci.sh 2>&1)
  rc=$?
  set -e
  echo "$out"
  local line passed failed
  line=$(echo "$out" | grep -E '^reliability: [0-9]+ passed, [0-9]+ failed' | tail -1)
  passed=$(echo "$line" | sed -n -E 's/^reliability: ([0-9]+) passed.*/\1/p')
  failed=$(echo "$line" | sed -n -E 's/.* ([0-9]+) failed.*/\1/p')
  if [ -z "$line" ]; then record reliability 0 1 0; return 1; fi
  record reliability "$passed" "$failed" 0
  return $rc
}

task_test() {
  task_build
  mkdir -p "$BUILD_DIR"
  : >"$SUMMARY"
  local status=0
  run_ctest || status=1
  run_dotnet_tests || status=1
  run_pester || status=1
  run_cross || status=1
  run_packaging || status=1
  run_reliability || status=1
  log "summary"
  local passed=0 failed=0 skipped=0 suite p f s
  while read -r suite p f s; do
    printf '  %-8s %5d passed, %d failed, %d skipped\n' "$suite" "$p" "$f" "$s"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  done <"$SUMMARY"
  echo "$passed passed, $failed failed, $skipped skipped"
  [ $failed -eq 0 ] || status=1
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
