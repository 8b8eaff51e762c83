#!/usr/bin/env bash
# Produces every package into artifacts/packages (one version for all: version.txt):
#   CircleLoss.Interop (managed, + .snupkg), CircleLoss.Interop.runtime.{linux-x64,linux-arm64,win-x64}
#   (native core; the last two cross-built by eng/cross/build.sh into $BUILD_DIR/cross),
#   CircleLoss.Interop.Cuda.linux-x64 (when the CUDA provider was built), the circleloss dotnet tool,
#   and the PowerShell module (folder and .nupkg) when its packer exists.
# Expects the native library in build/lib (./build.sh pack builds it first).
#   eng/pack.sh [Configuration]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
configuration="${1:-Release}"
out="$root/artifacts/packages"
native_dir="${CIRCLELOSS_NATIVE_DIR:-$root/build/lib}"
cross_dir="${CIRCLELOSS_CROSS_BUILD_DIR:-${BUILD_DIR:-$root/build}/cross}"
export CircleLossCrossBuildDir="$cross_dir"  # read by every project (Directory.Build.props)
rm -rf "$out"
mkdir -p "$out"

echo "==> native dependency check"
eng/check-native-deps.sh "$native_dir/libcircleloss.so"
for cross_native in "$cross_dir/linux-arm64/lib/libcircleloss.so" "$cross_dir/win-x64/bin/circleloss.dll"; do
  [ -f "$cross_native" ] || { echo "missing $cross_native: run eng/cross/build.sh first (./build.sh pack does)" >&2; exit 1; }
  eng/check-native-deps.sh "$cross_native"
done

pack() {
  echo "==> dotnet pack $1"
  dotnet pack "$1" -c "$configuration" -o "$out" -nologo -v q -p:CircleLossNativeDir="$native_dir" -p:ContinuousIntegrationBuild=true
}

pack src/CircleLoss.Interop.Runtime.linux-x64/CircleLoss.Interop.Runtime.linux-x64.csproj
pack src/CircleLoss.Interop.Runtime.linux-arm64/CircleLoss.Interop.Runtime.linux-arm64.csproj
pack src/CircleLoss.Interop.Runtime.win-x64/CircleLoss.Interop.Runtime.win-x64.csproj
pack src/CircleLoss.Interop/CircleLoss.Interop.csproj
pack src/CircleLoss.Interop.TorchSharp/CircleLoss.Interop.TorchSharp.csproj
pack src/CircleLoss.Interop.Distributed/CircleLoss.Interop.Distributed.csproj
if [ -f "$native_dir/libcircleloss_cuda.so" ]; then
  pack src/CircleLoss.Interop.Cuda.linux-x64/CircleLoss.Interop.Cuda.linux-x64.csproj
else
  echo "==> no CUDA provider in $native_dir: CircleLoss.Interop.Cuda.linux-x64 not packed"
fi
if [ -f src/CircleLoss.Cli/CircleLoss.Cli.csproj ]; then
  pack src/CircleLoss.Cli/CircleLoss.Cli.csproj
fi
if [ -x src/CircleLoss.PowerShell/pack-module.sh ]; then
  # The module ships the CPU library; the ~200 MB CUDA provider stays in its own NuGet package.
  echo "==> PowerShell module"
  CIRCLELOSS_MODULE_CUDA="${CIRCLELOSS_MODULE_CUDA:-0}" src/CircleLoss.PowerShell/pack-module.sh "$configuration"
fi
echo "==> packages in $out:"
ls -1 "$out"
