#!/usr/bin/env bash
# The shipped core library must need nothing at run time beyond glibc, libstdc++, libgcc_s and libm
# (OpenBLAS is linked in). Prints its NEEDED entries and the highest GLIBC / GLIBCXX symbol versions
# it requires (the floor of the Linux distributions it runs on); fails on any other dependency.
#   eng/check-native-deps.sh [path/to/libcircleloss.so]
set -euo pipefail
lib="${1:-build/lib/libcircleloss.so}"
[ -f "$lib" ] || { echo "no such file: $lib" >&2; exit 1; }
allowed='^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1)$'
status=0
echo "NEEDED by $lib:"
while read -r needed; do
  if [[ "$needed" =~ $allowed ]]; then
    echo "  $needed"
  else
    echo "  $needed   <-- not allowed (only glibc, libstdc++, libgcc_s, libm)" >&2
    status=1
  fi
done < <(readelf -d "$lib" | sed -n -E 's/.*\(NEEDED\).*\[(.*)\].*/\1/p')
glibc=$(objdump -T "$lib" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V | tail -1)
glibcxx=$(objdump -T "$lib" | grep -o 'GLIBCXX_[0-9][0-9.]*' | sort -u -V | tail -1 || true)
echo "highest symbol versions required: ${glibc:-none} ${glibcxx:-}"
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v -c '^circleloss_' || true)
if [ "$exported" -ne 0 ]; then
  echo "exports symbols other than circleloss_*:" >&2
  nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^circleloss_' | head >&2
  status=1
fi
exit $status
