// The matrix products of the CPU backend, one interface over the GEMM each target links:
//   linux-x64, linux-arm64: Debian's static OpenBLAS (DYNAMIC_ARCH: kernels chosen at run time for the CPU),
//   win-x64: Eigen, compiled once per x86-64 level (baseline SSE2, x86-64-v3 AVX2+FMA, x86-64-v4 AVX-512)
//            with the level chosen at run time (PE has no ifunc; Debian ships no Windows OpenBLAS).
// docs/platforms.md says why and what each measures.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace circleloss {
namespace cpu {

// C (m×n, ldc) = op(A) · op(B) (+ C when accumulating); row-major; op = transpose when asked. With
// accumulate false, C is only written (NaNs in it do not propagate).
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool accumulate);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc, bool accumulate);

// The upper triangle of C (n×n, leading dimension n) = X · Xᵀ for X (n×d, leading dimension d); the
// strictly lower triangle is scratch (it may be written).
void syrk_upper(int64_t n, int64_t d, const float* x, float* c);
void syrk_upper(int64_t n, int64_t d, const double* x, double* c);

// Every product runs on the calling thread: the backend's own pool parallelises over tiles. Called once
// per backend; idempotent.
void use_single_threaded_gemm();

// Runs `products` with each product itself spread over `threads` threads (the product floor: the bare
// products at full machine width), then returns to single-threaded products. Calls are serialised.
void with_multithreaded_gemm(int threads, const std::function<void()>& products);

// The GEMM and the kernels it chose for this CPU, for circleloss_session_describe.
std::string gemm_description();

}  // namespace cpu
}  // namespace circleloss
