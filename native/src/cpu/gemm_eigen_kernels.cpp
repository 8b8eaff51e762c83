// Eigen's matrix products, compiled once per x86-64 level: CMake builds this file three times with
// -march=x86-64, -march=x86-64-v3 and -march=x86-64-v4, each into its own namespace
// (CIRCLELOSS_GEMM_ISA_NAMESPACE); gemm_eigen.cpp chooses one at run time.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <vector>

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

// Eigen's blocked product packs panels of A and B into scratch that it allocates and frees on every call;
// with the Windows heap that is fresh, page-faulting memory each time, and the backend makes thousands of
// panel-sized calls. Packing buffers are kept in a pool instead: each call takes one (its own, so
// concurrent calls never share), grows it if needed and gives it back. (Not thread_local: MinGW runs
// thread_local destructors after the thread's emulated TLS is gone.)
template <class T>
class PackingPool {
public:
    struct Buffer {
        T* data = nullptr;
        Eigen::Index capacity = 0;
    };
    ~PackingPool() {
        for (Buffer& b : free_) Eigen::internal::aligned_free(b.data);
    }
    Buffer take(Eigen::Index count) {
        Buffer b;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!free_.empty()) {
                b = free_.back();
                free_.pop_back();
            }
        }
        if (b.capacity < count) {
            Eigen::internal::aligned_free(b.data);
            b.data = nullptr;
            b.capacity = 0;
            b.data = static_cast<T*>(Eigen::internal::aligned_malloc(static_cast<size_t>(count) * sizeof(T)));
            b.capacity = count;
        }
        return b;
    }
    void give_back(const Buffer& b) {
        std::lock_guard<std::mutex> lock(mutex_);
        free_.push_back(b);
    }

private:
    std::mutex mutex_;
    std::vector<Buffer> free_;
};

template <class T>
PackingPool<T>& packing_pool() {
    static PackingPool<T> pool;
    return pool;
}

// Eigen's blocking sizes for one product, over buffers from the pool for the duration of the call.
template <class T>
class PooledBlocking : public Eigen::internal::level3_blocking<T, T> {
public:
    // rows × cols is the column-major result Eigen computes (the transpose of our row-major C).
    PooledBlocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
        Eigen::Index kc = depth, mc = rows, nc = cols;
        Eigen::internal::computeProductBlockingSizes<T, T, 1>(kc, mc, nc, Eigen::Index(1));
        this->m_mc = mc;
        this->m_nc = nc;
        this->m_kc = kc;
        a_ = packing_pool<T>().take(mc * kc);
        try {
            b_ = packing_pool<T>().take(kc * nc);
        } catch (...) {
            packing_pool<T>().give_back(a_);
            throw;
        }
        this->m_blockA = a_.data;
        this->m_blockB = b_.data;
    }
    ~PooledBlocking() {
        packing_pool<T>().give_back(a_);
        packing_pool<T>().give_back(b_);
    }
    PooledBlocking(const PooledBlocking&) = delete;
    PooledBlocking& operator=(const PooledBlocking&) = delete;

private:
    typename PackingPool<T>::Buffer a_, b_;
};

// C += op(A) · op(B), row-major C; the storage orders say how op(A) and op(B) are laid out.
template <class T, int AOrder, int BOrder>
void multiply_add(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c, int64_t ldc) {
    using Product = Eigen::internal::general_matrix_matrix_product<Eigen::Index, T, AOrder, false, T, BOrder, false,
                                                                   Eigen::RowMajor, 1>;
    PooledBlocking<T> blocking(n, m, k);  // Eigen computes the row-major product as its column-major transpose
    Product::run(m, n, k, a, lda, b, ldb, c, 1, ldc, T(1), blocking);
}

template <class T>
void gemm_impl(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
               int64_t ldb, T* c, int64_t ldc, bool accumulate) {
    if (m == 0 || n == 0) return;
    if (!accumulate) {
        for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    }
    if (k == 0) return;
    // op(A) is m × k: row-major with leading dimension lda, or, transposed, column-major with the same.
    constexpr int Row = Eigen::RowMajor, Col = Eigen::ColMajor;
    if (trans_a && trans_b) multiply_add<T, Col, Col>(m, n, k, a, lda, b, ldb, c, ldc);
    else if (trans_a) multiply_add<T, Col, Row>(m, n, k, a, lda, b, ldb, c, ldc);
    else if (trans_b) multiply_add<T, Row, Col>(m, n, k, a, lda, b, ldb, c, ldc);
    else multiply_add<T, Row, Row>(m, n, k, a, lda, b, ldb, c, ldc);
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
