// The GEMM of win-x64: Eigen's products (gemm_eigen_kernels.cpp, compiled once per x86-64 level), the
// level chosen once per process for the CPU, and the product floor's multi-threaded products as row
// blocks over std::thread (Eigen parallelises only with OpenMP, whose runtime would be one more DLL).
#include "cpu/gemm.h"

#include <Eigen/Core>

#include <algorithm>
#include <thread>
#include <vector>

#include "cpu/x86_level.h"

namespace circleloss {
namespace cpu {

#define CIRCLELOSS_DECLARE_GEMM_KERNELS(isa)                                                                      \
    namespace isa {                                                                                               \
    void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,           \
              const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate);                               \
    void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,          \
              const double* b, int64_t ldb, double* c, int64_t ldc, bool accumulate);                             \
    void syrk_upper(int64_t n, int64_t d, const float* x, float* c);                                              \
    void syrk_upper(int64_t n, int64_t d, const double* x, double* c);                                            \
    }
CIRCLELOSS_DECLARE_GEMM_KERNELS(isa_x86_64)
CIRCLELOSS_DECLARE_GEMM_KERNELS(isa_x86_64_v3)
CIRCLELOSS_DECLARE_GEMM_KERNELS(isa_x86_64_v4)
#undef CIRCLELOSS_DECLARE_GEMM_KERNELS

namespace {

// Threads per product for products called on this thread: more than one only inside
// with_multithreaded_gemm (per thread, so other sessions' products stay single-threaded meanwhile).
thread_local int product_threads = 1;

template <class T>
void gemm_on_this_thread(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
                         const T* b, int64_t ldb, T* c, int64_t ldc, bool accumulate) {
    switch (x86_level()) {
        case X86Level::V4: return isa_x86_64_v4::gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        case X86Level::V3: return isa_x86_64_v3::gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        default: return isa_x86_64::gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }
}

template <class T>
void syrk_upper_on_this_thread(int64_t n, int64_t d, const T* x, T* c) {
    switch (x86_level()) {
        case X86Level::V4: return isa_x86_64_v4::syrk_upper(n, d, x, c);
        case X86Level::V3: return isa_x86_64_v3::syrk_upper(n, d, x, c);
        default: return isa_x86_64::syrk_upper(n, d, x, c);
    }
}

// Runs work(t) for t in [0, threads) on `threads` threads (the calling thread takes t = 0).
template <class F>
void run_on_threads(int threads, const F& work) {
    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(threads - 1));
    for (int t = 1; t < threads; ++t) workers.emplace_back([&work, t] { work(t); });
    work(0);
    for (auto& worker : workers) worker.join();
}

template <class T>
void gemm_any(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
              int64_t ldb, T* c, int64_t ldc, bool accumulate) {
    const int threads = static_cast<int>(std::min<int64_t>(product_threads, m / 64));
    if (threads <= 1) return gemm_on_this_thread(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    // Row blocks of C: rows r0..r1 of op(A) are columns of A when A is transposed.
    const int64_t rows = (m + threads - 1) / threads;
    run_on_threads(threads, [&](int t) {
        const int64_t r0 = t * rows, r1 = std::min(m, r0 + rows);
        if (r0 >= r1) return;
        gemm_on_this_thread(trans_a, trans_b, r1 - r0, n, k, trans_a ? a + r0 : a + r0 * lda, lda, b, ldb, c + r0 * ldc,
                            ldc, accumulate);
    });
}

template <class T>
void syrk_upper_any(int64_t n, int64_t d, const T* x, T* c) {
    const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(product_threads, n / 64)));
    if (n < 512) return syrk_upper_on_this_thread(n, d, x, c);
    // Row blocks dealt round-robin; block [r0, r1) computes C[r0:r1, r0:n] = X[r0:r1] · X[r0:n]ᵀ with the
    // general product (for large n it beats Eigen's triangular product, measured in docs/platforms.md).
    const int64_t block = std::max<int64_t>(256, n / (8 * threads));
    run_on_threads(threads, [&](int t) {
        for (int64_t r0 = t * block; r0 < n; r0 += threads * block) {
            const int64_t r1 = std::min(n, r0 + block);
            gemm_on_this_thread(false, true, r1 - r0, n - r0, d, x + r0 * d, d, x + r0 * d, d, c + r0 * n + r0, n, false);
        }
    });
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool accumulate) {
    gemm_any(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc, bool accumulate) {
    gemm_any(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
void syrk_upper(int64_t n, int64_t d, const float* x, float* c) { syrk_upper_any(n, d, x, c); }
void syrk_upper(int64_t n, int64_t d, const double* x, double* c) { syrk_upper_any(n, d, x, c); }

void use_single_threaded_gemm() {}  // Eigen is built without OpenMP: single-threaded unless split above

void with_multithreaded_gemm(int threads, const std::function<void()>& products) {
    struct Restore {
        ~Restore() { product_threads = 1; }
    } restore;
    product_threads = std::max(threads, 1);
    products();
}

std::string gemm_description() {
    return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
           std::to_string(EIGEN_MINOR_VERSION) + ", kernels " + x86_level_name(x86_level());
}

}  // namespace cpu
}  // namespace circleloss
