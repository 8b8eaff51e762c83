// The benchmark yardstick (circleloss_measure_product_floor): the minimal products of a forward+backward
// call, timed, with the GEMM's own threading.
#include <algorithm>
#include <chrono>
#include <memory>

#include "cpu/cpu_backend.h"
#include "cpu/gemm.h"

namespace circleloss {
namespace cpu {
namespace {

// The minimal products with OpenBLAS's own threading (one large call each), timed.
template <class T>
double product_floor(const ResolvedProblem& rp, int threads) {
    const int64_t n = rp.n, m = rp.m, d = rp.d;
    const T* x = static_cast<const T*>(rp.embeddings);
    const T* r = static_cast<const T*>(rp.ref_embeddings);
    std::unique_ptr<T[]> s(new T[static_cast<size_t>(std::max<int64_t>(n * m, 1))]);
    std::unique_ptr<T[]> dx(new T[static_cast<size_t>(std::max<int64_t>(n * d, 1))]);
    std::unique_ptr<T[]> dr(new T[static_cast<size_t>(std::max<int64_t>(m * d, 1))]);
    // Touch the buffers first so page faults are not timed.
    std::fill(s.get(), s.get() + std::max<int64_t>(n * m, 1), T(0));
    std::fill(dx.get(), dx.get() + std::max<int64_t>(n * d, 1), T(0));
    std::fill(dr.get(), dr.get() + std::max<int64_t>(m * d, 1), T(0));
    std::chrono::steady_clock::duration elapsed{};
    with_multithreaded_gemm(threads, [&] {
        const auto start = std::chrono::steady_clock::now();
        if (n > 0 && m > 0) {
            if (rp.refs_are_queries) {
                syrk_upper(n, d, x, s.get());
                gemm(false, false, n, d, n, s.get(), n, x, d, dx.get(), d, false);
            } else {
                gemm(false, true, n, m, d, x, d, r, d, s.get(), m, false);
                gemm(false, false, n, d, m, s.get(), m, r, d, dx.get(), d, false);
                gemm(true, false, m, d, n, s.get(), m, x, d, dr.get(), d, false);
            }
        }
        elapsed = std::chrono::steady_clock::now() - start;
    });
    return std::chrono::duration<double>(elapsed).count();
}

}  // namespace

double CpuBackend::measure_product_floor(const ResolvedProblem& problem) {
    if (problem.dtype == CIRCLELOSS_DTYPE_FLOAT32) return product_floor<float>(problem, num_threads());
    return product_floor<double>(problem, num_threads());
}

}  // namespace cpu
}  // namespace circleloss
