#!/usr/bin/env bash
# Stages the façade's GPU check for a machine with an NVIDIA GPU and no .NET SDK (see README.md here):
# the tests published self-contained into build-gpucheck/out, and the core library (build/lib) compressed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
stage="$root/build-gpucheck"
test -f "$root/build/lib/libcircleloss.so" || { echo "build the core library first: ./build.sh native" >&2; exit 1; }
rm -rf "$stage/out"
mkdir -p "$stage"
dotnet publish "$root/tests/CircleLoss.Interop.Tests/GpuRunner/GpuRunner.csproj" -c Release -r linux-x64 --self-contained \
    -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -o "$stage/out"
xz -T2 -6 -c "$root/build/lib/libcircleloss.so" >"$stage/libcircleloss.so.xz"
du -sh "$stage/out" "$stage/libcircleloss.so.xz"
echo "carry build-gpucheck/out and build-gpucheck/libcircleloss.so.xz; run: bash tests/CircleLoss.Interop.Tests/GpuRunner/run-on-device.sh"
