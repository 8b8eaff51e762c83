#!/usr/bin/env bash
# The shipped core library must need nothing at run time beyond the operating system:
#   Linux (x86-64, arm64): glibc, libstdc++, libgcc_s and libm (OpenBLAS is linked in); prints the NEEDED
#     entries and the highest GLIBC / GLIBCXX symbol versions it requires (the distribution floor).
#   Windows (x86-64 DLL): system DLLs only (KERNEL32, msvcrt...; libstdc++, libgcc and winpthread are
#     linked in, so no MinGW DLL has to sit beside it); prints the import table.
# Fails on any other dependency, and on exported symbols other than circleloss_*.
#   eng/check-native-deps.sh [path/to/libcircleloss.so | path/to/circleloss.dll]
set -euo pipefail
lib="${1:-build/lib/libcircleloss.so}"
[ -f "$lib" ] || { echo "no such file: $lib" >&2; exit 1; }
status=0

# Lists the libraries read from stdin; each must match the regular expression $1, else it is flagged with
# the reason $2 and the check fails.
only_allowed() {
  local allowed="$1" why="$2" name
  while read -r name; do
    if [[ "$name" =~ $allowed ]]; then
      echo "  $name"
    else
      echo "  $name   <-- not allowed ($why)" >&2
      status=1
    fi
  done
}

check_pe() {
  local objdump=x86_64-w64-mingw32-objdump
  local allowed='^(KERNEL32|kernel32|msvcrt|ADVAPI32|advapi32|ntdll|USER32|user32|api-ms-win-[a-z0-9-]+)\.dll$'
  echo "DLLs imported by $lib:"
  only_allowed "$allowed" "system DLLs only: no MinGW runtime DLL beside the library" \
    < <($objdump -p "$lib" | sed -n -E 's/^\s*DLL Name: (.*)$/\1/p')
  local exports
  exports=$($objdump -p "$lib" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | sed -n -E 's/^\s*\[\s*[0-9]+\] (.*)$/\1/p')
  echo "exports: $(echo "$exports" | wc -l) functions"
  if echo "$exports" | grep -v -q '^circleloss_'; then
    echo "exports symbols other than circleloss_*:" >&2
    echo "$exports" | grep -v '^circleloss_' | head >&2
    status=1
  fi
}

check_elf() {
  local machine prefix="" loader
  machine=$(readelf -h "$lib" | sed -n -E 's/^\s*Machine:\s*(.*)$/\1/p')
  case "$machine" in
    *AArch64*) prefix="aarch64-linux-gnu-"; loader='ld-linux-aarch64\.so\.1' ;;
    *) loader='ld-linux-x86-64\.so\.2' ;;
  esac
  local allowed="^(libc\\.so\\.6|libm\\.so\\.6|libstdc\\+\\+\\.so\\.6|libgcc_s\\.so\\.1|$loader|libpthread\\.so\\.0|libdl\\.so\\.2|librt\\.so\\.1)$"
  echo "NEEDED by $lib ($machine):"
  only_allowed "$allowed" "only glibc, libstdc++, libgcc_s, libm" \
    < <(readelf -d "$lib" | sed -n -E 's/.*\(NEEDED\).*\[(.*)\].*/\1/p')
  local glibc glibcxx
  glibc=$("${prefix}objdump" -T "$lib" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V | tail -1)
  glibcxx=$("${prefix}objdump" -T "$lib" | grep -o 'GLIBCXX_[0-9][0-9.]*' | sort -u -V | tail -1 || true)
  echo "highest symbol versions required: ${glibc:-none} ${glibcxx:-}"
  local exported
  exported=$("${prefix}nm" -D --defined-only "$lib" | awk '{print $3}' | grep -v -c '^circleloss_' || true)
  if [ "$exported" -ne 0 ]; then
    echo "exports symbols other than circleloss_*:" >&2
    "${prefix}nm" -D --defined-only "$lib" | awk '{print $3}' | grep -v '^circleloss_' | head >&2
    status=1
  fi
}

if [ "$(head -c 2 "$lib")" = "MZ" ]; then check_pe; else check_elf; fi
exit $status
