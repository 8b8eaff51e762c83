#!/usr/bin/env bash
# Installs the freshly packed packages into samples/Consumer from a folder that holds only them (and
# the packages they depend on), in an empty NuGet cache, then runs it twice: as a normal app and as a
# published self-contained app. Both must print the golden loss.
#   eng/consumer-check.sh   (after eng/pack.sh)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(tr -d '[:space:]' < version.txt)"
packages="$root/artifacts/packages"
feed="$root/artifacts/consumer-feed"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$feed"
mkdir -p "$feed"
cp "$packages"/CircleLoss.Interop."$version".nupkg "$packages"/CircleLoss.Interop.runtime.linux-x64."$version".nupkg "$feed"/
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
cat > "$work/runtime-pack/RuntimePack.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
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
echo "==> restore from $feed only"
dotnet restore --source "$feed" -p:CircleLossVersion="$version" -nologo -v q
echo "==> run"
dotnet run --no-restore -c Release -p:CircleLossVersion="$version" -- "$golden"
echo "==> publish self-contained (linux-x64) and run"
dotnet publish -c Release -r linux-x64 --self-contained --source "$feed" -p:CircleLossVersion="$version" -o "$work/published" -nologo -v q
"$work/published/Consumer" "$golden"
