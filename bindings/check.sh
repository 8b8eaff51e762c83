#!/usr/bin/env bash
# The bindings check of the build and of CI: regenerates the bindings from the header into a temporary
# folder and fails (exit 1) on any difference with the committed files, showing the diff.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

dotnet run --project "$root/bindings/CircleLoss.Bindings.Generator/CircleLoss.Bindings.Generator.csproj" \
  -c Release -- --root "$root" --out-dir "$tmp" >/dev/null

status=0
for file in src/CircleLoss.Interop/Native/NativeMethods.g.cs tests/CircleLoss.Interop.Tests/Generated/NativeLayout.g.cs; do
  if ! diff -u --label "committed/$file" --label "generated/$file" "$root/$file" "$tmp/$file"; then
    status=1
  fi
done

if [ "$status" -ne 0 ]; then
  echo "bindings check: the committed bindings differ from what native/include/circleloss/circleloss.h generates." >&2
  echo "Run bindings/generate.sh and commit the result." >&2
  exit 1
fi
echo "bindings check: up to date with native/include/circleloss/circleloss.h"
