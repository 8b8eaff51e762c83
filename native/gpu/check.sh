#!/usr/bin/env bash
# GPU check of the CUDA provider, run as one command on a machine with an NVIDIA GPU:
#
#   native/gpu/check.sh            (writes under $OUT, or build-gpu-out/ when OUT is unset)
#
# 1. Builds the provider from source with the machine's nvcc for sm_90 (override with
#    CIRCLELOSS_GPU_ARCH), and gpu_check (public header + the core library) and gemm_bench.
#    The core library: build-cuda/lib/libcircleloss.so when it was carried along (the device machine
#    has no static OpenBLAS), else built here from source.
# 2. gpu_check: every golden case and random irregular cases against the CPU backend, determinism,
#    device-side value checks, the workspace limit; stream_check: a session on the caller's CUDA
#    stream (config->cuda_stream) is ordered behind the caller's work and equals one on its own stream.
# 3. Benchmarks: N=M=8192, D=512 and N=4096, M=262144, D=128 (float32, device memory), against the
#    cuBLAS products alone (gemm_bench) and PyTorch autograd (torch_reference.py), which also checks
#    the provider's float32 results against a float64 evaluation at those sizes.
# 4. compute-sanitizer memcheck over a reduced gpu_check, where the tool works, with the time left.
# Every stage is cut to end before CIRCLELOSS_GPU_DEADLINE (440 s); the table prints last, and
# results.md, logs and machine.txt are written under $OUT.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${OUT:-$root/build-gpu-out}"
work="${CIRCLELOSS_GPU_WORK:-/tmp/circleloss-gpu}"
arch="${CIRCLELOSS_GPU_ARCH:-90}"
jobs="$(nproc 2>/dev/null || echo 4)"
mkdir -p "$out"
rm -rf "$work"
mkdir -p "$work/lib" "$work/bin" "$work/dump"
cd "$root" || exit 1
start=$SECONDS
deadline="${CIRCLELOSS_GPU_DEADLINE:-440}"  # seconds: every stage is cut to end by then, so the table prints
stamp() { echo "[$((SECONDS - start)) s] $*"; }
# The time a stage may take: its own limit, or what is left before the deadline (0: skip the stage).
budget() {
    local left=$((deadline - (SECONDS - start) - 15))
    if [ "$left" -lt 20 ]; then echo 0; elif [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
}
exec > >(tee "$out/check.log") 2>&1
status_build=ok status_check=skipped status_stream=skipped status_sanitizer=skipped status_bench=skipped status_torch=skipped

if ! command -v nvcc >/dev/null 2>&1; then
    for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
        if [ -x "$d/nvcc" ]; then export PATH="$d:$PATH"; break; fi
    done
fi
cuda_root="$(dirname "$(dirname "$(command -v nvcc)")")"
export LD_LIBRARY_PATH="$work/lib:$cuda_root/lib64:${LD_LIBRARY_PATH:-}"

# ---- machine --------------------------------------------------------------------------------------
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv 2>&1
    echo "nvcc: $(nvcc --version | grep -o 'release [0-9.]*, V[0-9.]*')"
    echo "cmake: $(cmake --version | head -n 1)"
    echo "host c++: $({ c++ --version || g++ --version; } 2>/dev/null | head -n 1)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') x $(nproc)"
    echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
    python3 -c 'import torch; print("torch:", torch.__version__, "cuda", torch.version.cuda)' 2>&1
} | tee "$out/machine.txt"

# ---- build ----------------------------------------------------------------------------------------
stamp "building"
if [ -f build-cuda/lib/libcircleloss.so ]; then
    cp build-cuda/lib/libcircleloss.so "$work/lib/"
    echo "core: carried build-cuda/lib/libcircleloss.so"
else
    echo "core: building from source"
    cmake -S . -B "$work/core" -DCMAKE_BUILD_TYPE=Release -DCIRCLELOSS_CUDA=OFF -DCIRCLELOSS_BUILD_TESTS=OFF \
        >"$work/core-configure.log" 2>&1 &&
        cmake --build "$work/core" -j"$jobs" --target circleloss >"$work/core-build.log" 2>&1 &&
        cp "$work/core/lib/libcircleloss.so" "$work/lib/" || {
        tail -n 30 "$work/core-configure.log" "$work/core-build.log"
        status_build="core build failed"
    }
fi

static=OFF
for d in "$cuda_root/lib64" "$cuda_root/lib" "$cuda_root/targets/x86_64-linux/lib"; do
    if [ -f "$d/libcublas_static.a" ] && [ -f "$d/libcublasLt_static.a" ]; then static=ON; fi
done
build_provider() {  # $1: ON/OFF for -Werror
    rm -rf "$work/provider"
    cmake -S native/src/cuda -B "$work/provider" -DCMAKE_BUILD_TYPE=Release -DCIRCLELOSS_CUDA_ARCHITECTURES="$arch" \
        -DCIRCLELOSS_CUBLAS_STATIC="$static" -DCIRCLELOSS_CUDA_WERROR="$1" >"$work/provider-configure.log" 2>&1 &&
        cmake --build "$work/provider" -j"$jobs" >"$work/provider-build.log" 2>&1
}
if build_provider ON; then
    echo "provider: built with -Werror, sm_$arch, static cuBLAS $static"
else
    grep -E -i "error|warning" "$work/provider-configure.log" "$work/provider-build.log" | head -n 20 | tee "$out/provider-warnings.txt"
    if build_provider OFF; then
        echo "provider: built WITHOUT -Werror (warnings above), sm_$arch, static cuBLAS $static"
        status_build="ok (warnings with this nvcc, see provider-warnings.txt)"
    else
        tail -n 40 "$work/provider-configure.log" "$work/provider-build.log"
        status_build="provider build failed"
    fi
fi
cp "$work/provider/lib/libcircleloss_cuda.so" "$work/lib/" 2>/dev/null
ls -la "$work/lib"
cxx="${CXX:-$(command -v c++ || command -v g++ || command -v clang++)}"
"$cxx" -std=c++17 -O2 -Wall -Wextra -Inative/include -Inative/tests native/gpu/gpu_check.cpp native/gpu/batch_part_check.cpp \
    native/tests/golden_cases.cpp -L"$work/lib" -lcircleloss \
    -Wl,-rpath,"$work/lib" -o "$work/bin/gpu_check" || status_build="gpu_check build failed"
"$cxx" -std=c++17 -O2 -Wall -Wextra -Inative/include -I"$cuda_root/include" native/gpu/stream_check.cpp \
    -L"$work/lib" -lcircleloss -L"$cuda_root/lib64" -lcudart -Wl,-rpath,"$work/lib" -o "$work/bin/stream_check" ||
    status_build="stream_check build failed"
host_cxx="$(sed -n 's/^CMAKE_CUDA_HOST_COMPILER:[A-Z]*=//p' "$work/provider/CMakeCache.txt" 2>/dev/null)"
nvcc ${host_cxx:+-ccbin "$host_cxx"} -O2 -arch="sm_$arch" native/gpu/gemm_bench.cu -lcublas -o "$work/bin/gemm_bench" ||
    status_build="gemm_bench build failed"
stamp "build: $status_build"

# ---- correctness ----------------------------------------------------------------------------------
have_check=0
if [ -x "$work/bin/gpu_check" ] && [ -f "$work/lib/libcircleloss_cuda.so" ]; then have_check=1; fi
if [ "$have_check" = 1 ] && [ "$(budget 180)" -gt 0 ]; then
    stamp "gpu_check"
    timeout "$(budget 180)" "$work/bin/gpu_check" tests/data/golden --log "$out/gpu_check.log"
    rc=$?
    status_check=$([ $rc -eq 0 ] && echo passed || echo "FAILED (exit $rc)")
    grep -m 20 FAIL "$out/gpu_check.log"
    stamp "gpu_check: $status_check"
fi
if [ -x "$work/bin/stream_check" ] && [ "$have_check" = 1 ] && [ "$(budget 30)" -gt 0 ]; then
    timeout "$(budget 30)" "$work/bin/stream_check" | tee "$out/stream_check.log"
    rc=${PIPESTATUS[0]}
    status_stream=$([ "$rc" -eq 0 ] && echo passed || echo "FAILED (exit $rc)")
    stamp "stream_check: $status_stream"
fi

# ---- benchmarks -----------------------------------------------------------------------------------
if [ "$have_check" = 1 ] && [ "$(budget 120)" -gt 0 ]; then
    stamp "benchmarks"
    timeout "$(budget 120)" "$work/bin/gpu_check" tests/data/golden --only-bench --dump "$work/dump" \
        --log "$out/bench.log" | tee "$work/bench.txt"
    rc=${PIPESTATUS[0]}
    status_bench=$([ "$rc" -eq 0 ] && echo ok || echo "failed (exit $rc)")
fi
if [ -x "$work/bin/gemm_bench" ] && [ "$(budget 60)" -gt 0 ]; then
    stamp "cuBLAS products alone"
    timeout "$(budget 60)" "$work/bin/gemm_bench" | tee "$work/gemm.txt"
fi
if ls "$work/dump/"*.meta.json >/dev/null 2>&1 && [ "$(budget 150)" -gt 0 ]; then
    stamp "torch reference"
    PYTHONUNBUFFERED=1 timeout "$(budget 150)" python3 native/gpu/torch_reference.py --dump "$work/dump" \
        --json "$out/torch.json" | tee "$work/torch.txt"
    rc=${PIPESTATUS[0]}
    status_torch=$([ "$rc" -eq 0 ] && echo "agrees with float64" || echo "FAILED (exit $rc)")
fi

# ---- compute-sanitizer ----------------------------------------------------------------------------
sanitizer="$(command -v compute-sanitizer || echo "$cuda_root/bin/compute-sanitizer")"
if [ "$have_check" = 1 ] && [ -x "$sanitizer" ]; then
    limit="$(budget 120)"
    if [ "$limit" -gt 0 ]; then
        stamp "compute-sanitizer memcheck (reduced set, at most $limit s)"
        timeout "$limit" "$sanitizer" --tool memcheck --leak-check no --error-exitcode 86 \
            "$work/bin/gpu_check" tests/data/golden --quick --log "$work/sanitized-check.log" >"$work/sanitizer.log" 2>&1
        rc=$?
        tail -c 60000 "$work/sanitizer.log" >"$out/sanitizer.log"
        case $rc in
        0) status_sanitizer="no errors" ;;
        86) status_sanitizer="ERRORS (see sanitizer.log)" ;;
        124) status_sanitizer="timed out after $limit s" ;;
        *) status_sanitizer="exit $rc" ;;
        esac
        tail -n 5 "$work/sanitizer.log"
        stamp "compute-sanitizer: $status_sanitizer"
    else
        status_sanitizer="skipped (no time left)"
    fi
fi

# ---- table ----------------------------------------------------------------------------------------
stamp "done"
python3 - "$work" "$out" "$status_build" "$status_check" "$status_sanitizer" "$status_bench" "$status_torch" \
    "$status_stream" <<'EOF'
import json, os, re, sys
work, out, s_build, s_check, s_san, s_bench, s_torch, s_stream = sys.argv[1:9]

def lines(name, tag):
    p = os.path.join(work, name)
    if not os.path.exists(p):
        return {}
    r = {}
    for line in open(p):
        if line.startswith(tag + " "):
            parts = line.split()
            r[parts[1]] = {k: v for k, v in (t.split("=", 1) for t in parts[2:] if "=" in t)}
    return r

ours = lines("bench.txt", "BENCH")
gemm = lines("gemm.txt", "GEMM")
torch = {}
tp = os.path.join(out, "torch.json")
if os.path.exists(tp):
    torch = json.load(open(tp))

def f(x, fmt="{:.2f}"):
    try:
        return fmt.format(float(x))
    except (TypeError, ValueError):
        return "n/a"

machine = open(os.path.join(out, "machine.txt")).read().strip().splitlines()
md = ["# GPU check results", "", "```"] + machine + ["```", "",
      "| check | result |", "|---|---|",
      f"| build (provider from source, sm_90) | {s_build} |",
      f"| gpu_check (golden + random vs CPU, determinism, device value checks, workspace limit) | {s_check} |",
      f"| stream_check (a session on the caller's CUDA stream) | {s_stream} |",
      f"| compute-sanitizer memcheck (reduced gpu_check) | {s_san} |",
      f"| benchmarks | {s_bench} |",
      f"| float32 results at benchmark sizes vs float64 PyTorch | {s_torch} |", ""]
md += ["Times in ms (median; float32; device memory). 'cuBLAS' is the products alone at full size:",
       "forward = S = X·Rᵀ; forward+backward = S + dX (+ dR for a separate reference set).", "",
       "| problem | pass | ours fp32 | ours TF32 | cuBLAS fp32 | cuBLAS TF32 | PyTorch fp32 autograd | ours vs PyTorch |",
       "|---|---|---|---|---|---|---|---|"]
for name in ["self_n8192_d512", "refs_n4096_m262144_d128"]:
    o = ours.get(name, {})
    g = gemm.get(name, {})
    gt = gemm.get(name + "_tf32", {})
    t = torch.get(name, {})
    for label, ko, kt, kg, kp in [("forward", "fwd_ms", "fwd_tf32_ms", "fwd_ms", "torch_fwd_ms"),
                                  ("forward+backward", "fwdbwd_ms", "fwdbwd_tf32_ms", "fwdbwd_ms", "torch_fwdbwd_ms")]:
        try:
            speed = f"{float(t.get(kp)) / float(o.get(ko)):.1f}x faster"
        except (TypeError, ValueError, ZeroDivisionError):
            speed = "n/a"
        md.append(f"| {name} | {label} | {f(o.get(ko))} | {f(o.get(kt))} | {f(g.get(kg))} | {f(gt.get(kg))} | "
                  f"{f(t.get(kp))} | {speed} |")
if torch:
    md += ["", "| problem | loss (float64) | our float32 loss rel. error | dX error | dR error | PyTorch peak GiB |",
           "|---|---|---|---|---|---|"]
    for name, t in torch.items():
        md.append(f"| {name} | {f(t.get('loss_f64'), '{:.6f}')} | {f(t.get('loss_rel_err_ours'), '{:.1e}')} | "
                  f"{f(t.get('dx_err_ours'), '{:.1e}')} | {f(t.get('dr_err_ours'), '{:.1e}')} | {f(t.get('torch_peak_gib'), '{:.1f}')} |")
text = "\n".join(md) + "\n"
open(os.path.join(out, "results.md"), "w").write(text)
print(text)
EOF
case "$status_build $status_check $status_stream $status_torch" in
*FAIL* | *failed*) exit 1 ;;
esac
exit 0
