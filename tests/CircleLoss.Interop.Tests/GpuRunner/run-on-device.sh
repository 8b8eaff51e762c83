#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, from the repository root, after GpuRunner/prepare.sh staged build-gpucheck/:
# builds the CUDA provider from source (sm_90 unless CIRCLELOSS_GPU_ARCH says otherwise), then runs the façade's
# tests (the CUDA ones included) and a host-vs-device-buffer timing. Output: stdout and $OUT/log.txt.
set -uo pipefail
start=$SECONDS
out=${OUT:-/tmp/out}
mkdir -p /tmp/cl/lib "$out"
if ! command -v nvcc >/dev/null 2>&1; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && export PATH="$d:$PATH" && break; done
fi
cuda_root=$(dirname "$(dirname "$(command -v nvcc)")")
static=OFF
for d in "$cuda_root/lib64" "$cuda_root/lib" "$cuda_root/targets/x86_64-linux/lib"; do
  [ -f "$d/libcublas_static.a" ] && [ -f "$d/libcublasLt_static.a" ] && static=ON
done
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/machine.txt"
xz -dc build-gpucheck/libcircleloss.so.xz > /tmp/cl/lib/libcircleloss.so
cmake -S native/src/cuda -B /tmp/cl/prov -DCMAKE_BUILD_TYPE=Release -DCIRCLELOSS_CUDA_ARCHITECTURES="${CIRCLELOSS_GPU_ARCH:-90}" \
  -DCIRCLELOSS_CUBLAS_STATIC=$static -DCIRCLELOSS_CUDA_WERROR=OFF >/tmp/cl/cfg.log 2>&1 &&
  cmake --build /tmp/cl/prov -j"$(nproc)" >/tmp/cl/build.log 2>&1 || { tail -40 /tmp/cl/cfg.log /tmp/cl/build.log; exit 2; }
cp /tmp/cl/prov/lib/libcircleloss_cuda.so /tmp/cl/lib/
echo "[$((SECONDS - start)) s] provider built (static cuBLAS $static)"
export LD_LIBRARY_PATH="$cuda_root/lib64:${LD_LIBRARY_PATH:-}"
export CIRCLELOSS_NATIVE_PATH=/tmp/cl/lib/libcircleloss.so DOTNET_BUNDLE_EXTRACT_BASE_DIR=/tmp/cl/bundle DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
chmod +x build-gpucheck/out/CircleLoss.Interop.Tests
RUNNER_BENCH=1 timeout 300 build-gpucheck/out/CircleLoss.Interop.Tests DeviceGpuTests ProductFloorTests DeviceBufferTests \
  ReliabilityTests LifetimeTests ConcurrencyTests GoldenTests 2>&1 | tee "$out/log.txt"
rc=${PIPESTATUS[0]}
echo "[$((SECONDS - start)) s] done (exit $rc)"
exit "$rc"
