#!/usr/bin/env bash
# Restores samples/TorchSharpTraining as a user's project would get its packages: CircleLoss.Interop.TorchSharp (and
# CircleLoss.Interop, its runtime package) from artifacts/packages (./build.sh pack), TorchSharp-cpu from the
# configured package sources. Then trains the sample; it exits non-zero unless the adapter's training lifts the
# held-out Recall@1. Prints the sample's table.
#   eng/torchsharp-sample-check.sh [epochs]   (default 30)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(tr -d '[:space:]' < version.txt)"
packages="$root/artifacts/packages"
[ -f "$packages/CircleLoss.Interop.TorchSharp.$version.nupkg" ] || { echo "no CircleLoss.Interop.TorchSharp.$version.nupkg in $packages: run ./build.sh pack" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The sample with the files it links, at the same relative places.
mkdir -p "$work/samples" "$work/tests" "$work/src/CircleLoss.Cli/Data"
cp -r samples/TorchSharpTraining samples/Directory.Build.props samples/Directory.Packages.props "$work/samples/"
cp -r tests/Shared "$work/tests/"
cp src/CircleLoss.Cli/Data/digits.csv.gz src/CircleLoss.Cli/Data/NOTICE.md "$work/src/CircleLoss.Cli/Data/"
rm -rf "$work/samples/TorchSharpTraining/bin" "$work/samples/TorchSharpTraining/obj"

# The local packages in addition to the configured sources (no <clear/>), so TorchSharp-cpu comes from the usual
# cache. This repository's own packages of this version are dropped from that cache first: they are build outputs,
# and NuGet would otherwise reuse a stale copy of the same version.
cat > "$work/samples/TorchSharpTraining/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="circleloss-local" value="$packages" />
  </packageSources>
</configuration>
XML
global="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
for id in circleloss.interop circleloss.interop.runtime.linux-x64 circleloss.interop.torchsharp; do
  rm -rf "${global:?}/$id/$version"
done

cd "$work/samples/TorchSharpTraining"
echo "==> restore (CircleLoss packages from $packages)"
dotnet restore -p:CircleLossVersion="$version" -nologo -v q
echo "==> train"
dotnet run -c Release --no-restore -p:CircleLossVersion="$version" -- --epochs "${1:-30}"
