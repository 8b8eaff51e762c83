// Eigen's matrix products, compiled once per x86-64 level: CMake builds this file three times with
// -march=x86-64, -march=x86-64-v3 and -march=x86-64-v4, each into its own namespace
// (CIRCLELOSS_GEMM_ISA_NAMESPACE); gemm_eigen.cpp chooses one at run time.
#include <cstdint>

#ifndef CIRCLELOSS_GEMM_ISA_NAMESPACE
#error "compiled once per x86-64 level with CIRCLELOSS_GEMM_ISA_NAMESPACE defined (native/windows.cmake)"
#endif

// Eigen's templates are emitted in every object that instantiates them, under the same names, so the
// linker would keep one copy (of whichever level came first) for all three levels: the AVX-512 build
// would run SSE2 code, or the baseline build AVX-512 code. Eigen's namespace is renamed per level.
#define CIRCLELOSS_PASTE_(a, b) a##b
#define CIRCLELOSS_PASTE(a, b) CIRCLELOSS_PASTE_(a, b)
#define Eigen CIRCLELOSS_PASTE(Eigen_, CIRCLELOSS_GEMM_ISA_NAMESPACE)
#include <Eigen/Core>

namespace circleloss {
namespace cpu {
namespace CIRCLELOSS_GEMM_ISA_NAMESPACE {
namespace {

template <class T>
using RowMajorMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstView = Eigen::Map<const RowMajorMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using View = Eigen::Map<RowMajorMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

template <class A, class B, class C>
void multiply(const A& a, const B& b, C& c, bool accumulate) {
    if (accumulate) c.noalias() += a * b;
    else c.noalias() = a * b;
}

template <class T>
void gemm_impl(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
               int64_t ldb, T* c, int64_t ldc, bool accumulate) {
    const ConstView<T> va(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
    const ConstView<T> vb(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
    View<T> vc(c, m, n, Eigen::OuterStride<>(ldc));
    if (trans_a && trans_b) multiply(va.transpose(), vb.transpose(), vc, accumulate);
    else if (trans_a) multiply(va.transpose(), vb, vc, accumulate);
    else if (trans_b) multiply(va, vb.transpose(), vc, accumulate);
    else multiply(va, vb, vc, accumulate);
}

template <class T>
void syrk_upper_impl(int64_t n, int64_t d, const T* x, T* c) {
    const ConstView<T> vx(x, n, d, Eigen::OuterStride<>(d));
    View<T> vc(c, n, n, Eigen::OuterStride<>(n));
    vc.template triangularView<Eigen::Upper>() = vx * vx.transpose();
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool accumulate) {
    gemm_impl(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc, bool accumulate) {
    gemm_impl(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
void syrk_upper(int64_t n, int64_t d, const float* x, float* c) { syrk_upper_impl(n, d, x, c); }
void syrk_upper(int64_t n, int64_t d, const double* x, double* c) { syrk_upper_impl(n, d, x, c); }

}  // namespace CIRCLELOSS_GEMM_ISA_NAMESPACE
}  // namespace cpu
}  // namespace circleloss
