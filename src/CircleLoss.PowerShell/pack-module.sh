#!/usr/bin/env bash
# Packs the PowerShell module CircleLoss:
#   artifacts/module/CircleLoss/              the module folder (Import-Module ./artifacts/module/CircleLoss)
#   artifacts/module/CircleLoss.<ver>.nupkg   the module package, as a gallery serves it: register
#                                             artifacts/module as a local repository and Install-PSResource
#                                             (or Install-Module) CircleLoss from it
# then checks the package as a user gets it: in a fresh pwsh with its own (empty) module and repository
# store, installs CircleLoss from artifacts/module and computes golden case 01.
# Expects the native library in build/lib (or CIRCLELOSS_NATIVE_DIR); ./build.sh pack builds it first.
# The CUDA provider (libcircleloss_cuda.so) is packed too when it is there; CIRCLELOSS_MODULE_CUDA=0 leaves it out.
#   src/CircleLoss.PowerShell/pack-module.sh [Configuration]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
configuration="${1:-Release}"
native_dir="${CIRCLELOSS_NATIVE_DIR:-$root/build/lib}"
out="$root/artifacts/module"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "==> build the module ($configuration)"
include_cuda=true
[ "${CIRCLELOSS_MODULE_CUDA:-1}" = "0" ] && include_cuda=false
dotnet build "$here/CircleLoss.PowerShell.csproj" -c "$configuration" -nologo -v q -p:CircleLossNativeDir="$native_dir" \
  -p:ModuleIncludeCudaProvider="$include_cuda" -p:RequireEveryCircleLossNative=true
layout="$here/bin/$configuration/module/CircleLoss"

rm -rf "$out"
mkdir -p "$out"
cp -R "$layout" "$out/CircleLoss"
dotnet tool restore >/dev/null

echo "==> package the module"
dotnet pwsh -NoProfile -NonInteractive -File "$here/Pack-Module.ps1" -ModuleFolder "$out/CircleLoss" -Destination "$out" \
  -GoldenCase "$root/tests/data/golden/01_self_n8_d4.json"
ls -1 "$out"
