#!/usr/bin/env bash
# The bindings check of the build and of CI: regenerates the bindings from the header into a temporary
# folder and fails (exit 1) on any difference with the committed files, showing the diff. The generator
# owns the *.g.cs files of the folders it writes to, so one it no longer writes is a difference too.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

dotnet run --project "$root/bindings/CircleLoss.Bindings.Generator/CircleLoss.Bindings.Generator.csproj" \
  -c Release -- --root "$root" --out-dir "$tmp" >/dev/null

status=0
mapfile -t generated < <(cd "$tmp" && find . -type f -name '*.g.cs' | sed 's|^\./||' | LC_ALL=C sort)
if [ "${#generated[@]}" -eq 0 ]; then
  echo "bindings check: the generator wrote no files." >&2
  exit 2
fi
for file in "${generated[@]}"; do
  committed="$root/$file"
  [ -f "$committed" ] || committed=/dev/null
  if ! diff -u --label "committed/$file" --label "generated/$file" "$committed" "$tmp/$file"; then
    status=1
  fi
done

for dir in $(printf '%s\n' "${generated[@]}" | xargs -n1 dirname | LC_ALL=C sort -u); do
  for committed in "$root/$dir"/*.g.cs; do
    [ -e "$committed" ] || continue
    if [ ! -e "$tmp/$dir/$(basename "$committed")" ]; then
      echo "bindings check: $dir/$(basename "$committed") is no longer generated; remove it." >&2
      status=1
    fi
  done
done

if [ "$status" -ne 0 ]; then
  echo "bindings check: the committed bindings differ from what native/include/circleloss/circleloss.h generates." >&2
  echo "Run bindings/generate.sh and commit the result." >&2
  exit 1
fi
echo "bindings check: up to date with native/include/circleloss/circleloss.h (${#generated[@]} files)"
