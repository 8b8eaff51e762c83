# Sourced by the eng/cross scripts: where each cross-built runtime lives and how its programs run here.
#   linux-arm64  aarch64-linux-gnu GCC + Debian's arm64 static OpenBLAS; runs under qemu-aarch64 (qemu-user)
#   win-x64      MinGW-w64 GCC (posix threads) + Eigen; runs under wine64
# BUILD_DIR (default <repo>/build) holds them in cross/<rid>/.
cross_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CROSS_RIDS=(linux-arm64 win-x64)
CROSS_BUILD_DIR="${BUILD_DIR:-$cross_root/build}/cross"

# The native library of a RID inside its build folder.
cross_native_file() {
  case "$1" in
    linux-arm64) echo "$CROSS_BUILD_DIR/linux-arm64/lib/libcircleloss.so" ;;
    win-x64) echo "$CROSS_BUILD_DIR/win-x64/bin/circleloss.dll" ;;
    *) echo "unknown cross RID '$1' (expected: ${CROSS_RIDS[*]})" >&2; return 2 ;;
  esac
}

# Runs a program built for the RID under its emulator: cross_run <rid> <program> [args...]
#  - qemu-aarch64 without -L: the arm64 runtime libraries are installed through multiarch, where the
#    target's own loader finds them (-L /usr/aarch64-linux-gnu mixes the cross loader with multiarch libc
#    and hangs before main). The host's OpenBLAS tuning variables would leak into the guest: dropped.
#  - wine64 with a prefix of our own, created on first use, and its debug channels off.
cross_run() {
  local rid="$1"
  shift
  case "$rid" in
    linux-arm64) qemu-aarch64 -U OPENBLAS_CORETYPE -U OPENBLAS_L2_SIZE "$@" ;;
    win-x64)
      WINEPREFIX="${WINEPREFIX:-$CROSS_BUILD_DIR/wineprefix}" WINEDEBUG="${WINEDEBUG:--all}" /usr/lib/wine/wine64 "$@" ;;
    *) echo "unknown cross RID '$rid'" >&2; return 2 ;;
  esac
}

# Creates the wine prefix once (about 10 s), so that the first timed program does not pay for it.
cross_prepare_emulator() {
  if [ "$1" = win-x64 ] && [ ! -f "${WINEPREFIX:-$CROSS_BUILD_DIR/wineprefix}/system.reg" ]; then
    mkdir -p "$CROSS_BUILD_DIR"
    WINEPREFIX="${WINEPREFIX:-$CROSS_BUILD_DIR/wineprefix}" WINEDEBUG=-all /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1 || true
  fi
}
