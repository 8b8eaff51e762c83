// The GEMM of the Linux targets: Debian's static OpenBLAS, linked into the core with its symbols hidden.
#include "cpu/gemm.h"

#include <cblas.h>

#include <mutex>

namespace circleloss {
namespace cpu {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool accumulate) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), accumulate ? 1.0f : 0.0f, c,
                static_cast<blasint>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc, bool accumulate) {
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), 1.0, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), accumulate ? 1.0 : 0.0, c,
                static_cast<blasint>(ldc));
}

void syrk_upper(int64_t n, int64_t d, const float* x, float* c) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, static_cast<blasint>(n), static_cast<blasint>(d), 1.0f, x,
                static_cast<blasint>(d), 0.0f, c, static_cast<blasint>(n));
}

void syrk_upper(int64_t n, int64_t d, const double* x, double* c) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, static_cast<blasint>(n), static_cast<blasint>(d), 1.0, x,
                static_cast<blasint>(d), 0.0, c, static_cast<blasint>(n));
}

void use_single_threaded_gemm() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

void with_multithreaded_gemm(int threads, const std::function<void()>& products) {
    static std::mutex openblas_threads;  // the thread count is global to OpenBLAS
    std::lock_guard<std::mutex> lock(openblas_threads);
    openblas_set_num_threads(threads);
    try {
        products();
    } catch (...) {
        openblas_set_num_threads(1);
        throw;
    }
    openblas_set_num_threads(1);
}

std::string gemm_description() {
    std::string config = openblas_get_config();
    while (!config.empty() && config.back() == ' ') config.pop_back();
    return config + ", kernel " + openblas_get_corename();
}

}  // namespace cpu
}  // namespace circleloss
