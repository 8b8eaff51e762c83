#!/usr/bin/env bash
# Installs the freshly packed packages into samples/Consumer from a folder that holds only them (and
# the packages they depend on), in an empty NuGet cache, then runs it: on linux-x64 as a normal app and
# as a published self-contained app; for each other RID given, as a self-contained app published for
# that RID and run under its emulator (eng/cross/common.sh: qemu-aarch64, wine). Each must print the
# golden loss.
#   eng/consumer-check.sh [rid...]   (after eng/pack.sh; default: linux-x64)
set -euo pipefail
rids=("$@")
((${#rids[@]})) || rids=(linux-x64)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(tr -d '[:space:]' < version.txt)"
packages="$root/artifacts/packages"
feed="$root/artifacts/consumer-feed"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$feed"
mkdir -p "$feed"
cp "$packages"/CircleLoss.Interop."$version".nupkg "$packages"/CircleLoss.Interop.runtime.*."$version".nupkg "$feed"/
# The managed package's own dependencies, taken from the NuGet cache its build restored into.
global="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
python3 - "$root/src/CircleLoss.Interop/obj/project.assets.json" "$global" "$feed" <<'PY'
import json, shutil, sys, os
assets, cache, feed = sys.argv[1:]
for key, lib in json.load(open(assets))["libraries"].items():
    if lib.get("type") != "package":
        continue
    name, version = key.split("/")
    nupkg = os.path.join(cache, lib["path"], f"{name.lower()}.{version.lower()}.nupkg")
    shutil.copy(nupkg, feed)
PY
# A self-contained publish also needs the .NET runtime pack: restore it once into the normal cache with
# a throwaway project, then put it in the feed beside ours.
mkdir -p "$work/runtime-pack"
cat > "$work/runtime-pack/RuntimePack.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <RuntimeIdentifiers>$(echo "${rids[*]}" | tr ' ' ';')</RuntimeIdentifiers>
    <SelfContained>true</SelfContained>
  </PropertyGroup>
</Project>
XML
dotnet restore "$work/runtime-pack/RuntimePack.csproj" -nologo -v q
python3 - "$work/runtime-pack/obj/project.assets.json" "$global" "$feed" <<'PY'
import json, shutil, sys, os, glob
assets, cache, feed = sys.argv[1:]
for download in json.load(open(assets))["project"]["frameworks"]["net10.0"].get("downloadDependencies", []):
    name, version = download["name"], download["version"].strip("[]").split(",")[0].strip()
    nupkg = os.path.join(cache, name.lower(), version, f"{name.lower()}.{version}.nupkg")
    if os.path.exists(nupkg):  # packs the SDK carries itself are not in the cache
        shutil.copy(nupkg, feed)
PY
golden="$root/tests/data/golden/01_self_n8_d4.json"
cp -r samples/Consumer samples/Directory.Build.props samples/Directory.Packages.props "$work"/
export NUGET_PACKAGES="$work/nuget-cache"
cd "$work/Consumer"
for rid in "${rids[@]}"; do
  if [ "$rid" = linux-x64 ]; then
    echo "==> restore from $feed only"
    dotnet restore --source "$feed" -p:CircleLossVersion="$version" -nologo -v q
    echo "==> run"
    dotnet run --no-restore -c Release -p:CircleLossVersion="$version" -- "$golden"
  fi
  echo "==> publish self-contained ($rid) and run it"
  dotnet publish -c Release -r "$rid" --self-contained --source "$feed" -p:CircleLossVersion="$version" \
    -o "$work/published-$rid" -nologo -v q
  case "$rid" in
    linux-x64) "$work/published-$rid/Consumer" "$golden" ;;
    linux-arm64) (source "$root/eng/cross/common.sh"; cross_run "$rid" "$work/published-$rid/Consumer" "$golden") ;;
    win-x64)
      # wine maps the Unix root to drive Z:, so the golden file's path is Z:<path>.
      (source "$root/eng/cross/common.sh"; cross_prepare_emulator "$rid"
        cross_run "$rid" "$work/published-$rid/Consumer.exe" "Z:${golden//\//\\}") ;;
    *) echo "no way to run $rid here" >&2; exit 1 ;;
  esac
done
