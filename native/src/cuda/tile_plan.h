// The shapes of a call on the device: row-major products through cuBLAS, the problem as device views with
// its parameters in the element type, and the tile plan within the workspace limit.
#pragma once

#include <cinttypes>
#include <limits>

#include "kernels.cuh"
#include "provider_support.h"

namespace circleloss {
namespace cuda {

// ---- cuBLAS with row-major operands -----------------------------------------------------------------
// cuBLAS is column-major: a row-major a×b matrix is its column-major b×a transpose.

inline cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                    const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    const float alpha = 1.0f;
    return cublasSgemm(h, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}
inline cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                    const double* a, int lda, const double* b, int ldb, double beta, double* c, int ldc) {
    const double alpha = 1.0;
    return cublasDgemm(h, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}

inline int to_int(int64_t v) { return static_cast<int>(v); }  // callers keep every dimension below 2^31

// S (rows×cols, row-major) = X_I · R_Jᵀ
template <class T>
inline void similarity(cublasHandle_t h, const Tile& t, int64_t d, const T* x, const T* r, T* s) {
    check_cublas(gemm(h, CUBLAS_OP_T, CUBLAS_OP_N, to_int(t.cols), to_int(t.rows), to_int(d), r + t.j0 * d, to_int(d),
                      x + t.i0 * d, to_int(d), T(0), s, to_int(t.cols)),
                 "cuBLAS similarity product");
}

// dX_I (rows×d) (+)= G (rows×cols) · B_J (cols×d)
template <class T>
inline void gradient_rows(cublasHandle_t h, const Tile& t, int64_t d, const T* g, const T* b, T* dx, bool accumulate) {
    check_cublas(gemm(h, CUBLAS_OP_N, CUBLAS_OP_N, to_int(d), to_int(t.rows), to_int(t.cols), b + t.j0 * d, to_int(d),
                      g, to_int(t.cols), accumulate ? T(1) : T(0), dx + t.i0 * d, to_int(d)),
                 "cuBLAS gradient product G·R");
}

// dR_J (cols×d) (+)= Gᵀ (cols×rows) · X_I (rows×d)
template <class T>
inline void gradient_columns(cublasHandle_t h, const Tile& t, int64_t d, const T* g, const T* x, T* dr, bool accumulate) {
    check_cublas(gemm(h, CUBLAS_OP_N, CUBLAS_OP_T, to_int(d), to_int(t.cols), to_int(t.rows), x + t.i0 * d, to_int(d),
                      g, to_int(t.cols), accumulate ? T(1) : T(0), dr + t.j0 * d, to_int(d)),
                 "cuBLAS gradient product Gᵀ·X");
}

// ---- problems ---------------------------------------------------------------------------------------

// A problem with every pointer on the device and the references resolved.
template <class T>
struct DeviceProblem {
    int64_t n = 0, d = 0, m = 0;
    const T* x = nullptr;
    const T* r = nullptr;
    const void* y = nullptr;   // labels of label_type
    const void* ry = nullptr;
    bool wide_labels = false;  // int64_t labels (circleloss_label_type INT64), else int32_t
    const T* w = nullptr;
    const T* upstream = nullptr;
    bool refs_are_queries = true;
    int64_t loss_length = 1;
    int64_t diagonal_offset = 0;     // problem->diagonal_offset (0 for self-similarity: validated by the core)
    double reduction_divisor = 0;    // problem->reduction_divisor: > 0 replaces the call's own divisor
};

template <class T>
math::Params<T> params_of(const circleloss_resolved_options& o) {
    math::Params<T> p;
    p.gamma = static_cast<T>(o.gamma);
    p.margin = static_cast<T>(o.margin);
    p.keras_gradient = o.gradient_mode == CIRCLELOSS_GRADIENT_KERAS ? 1 : 0;
    return p;
}

// The resolved sizes of a problem (the core has validated them).
// cuBLAS takes int dimensions: the other sizes are tiled, but D is a dimension of every product.
inline void require_cublas_dimension(int64_t d) {
    if (d > std::numeric_limits<int>::max()) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->d",
                      format(" is %" PRId64 "; the CUDA backend supports at most %d (cuBLAS dimensions are int)", d,
                             std::numeric_limits<int>::max()));
    }
}

// ---- the tile plan and the workspace ----------------------------------------------------------------

constexpr uint64_t kDefaultWorkspaceLimit = uint64_t(1) << 30;  // 1 GiB (or half the free memory, if less)
constexpr uint64_t kTileTargetBytes = uint64_t(32) << 20;      // a tile that stays in L2 between its two passes
constexpr int64_t kMinTileColumns = 4096;                     // columns of a tile when N leaves room
constexpr int64_t kMinProgressColumns = 256;                  // below this, the limit is too small to work in

struct Plan {
    int64_t rows = 0;  // rows of a full tile (bn)
    int64_t cols = 0;  // columns of a full tile (bm)
    int64_t row_blocks = 0;
    int64_t col_blocks = 0;
    bool keep_all = false;  // every tile of S stays in the workspace for the backward pass
    uint64_t tile_elements = 0;

    Tile tile(int64_t bi, int64_t bj, int64_t n, int64_t m) const {
        Tile t;
        t.i0 = bi * rows;
        t.j0 = bj * cols;
        t.rows = std::min(rows, n - t.i0);
        t.cols = std::min(cols, m - t.j0);
        return t;
    }
    uint64_t buffer_elements() const {
        return keep_all ? static_cast<uint64_t>(row_blocks * col_blocks) * tile_elements : tile_elements;
    }
};

// Chooses the tile shape from the sizes and the bytes left for tiles. The shape depends on nothing
// else (not on free memory, not on timing), which keeps the results reproducible.
template <class T>
inline Plan plan_tiles(int64_t n, int64_t m, uint64_t tile_bytes_available, bool want_keep_all, uint64_t limit,
                uint64_t fixed_bytes) {
    Plan plan;
    if (n == 0 || m == 0) return plan;
    const uint64_t available_elements = tile_bytes_available / sizeof(T);
    const uint64_t target = std::min<uint64_t>(available_elements, kTileTargetBytes / sizeof(T));
    const uint64_t needed = static_cast<uint64_t>(std::min<int64_t>(m, kMinProgressColumns));
    if (target < needed) {
        fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY,
             format("the CUDA backend needs at least %" PRIu64 " bytes of workspace for this problem (%" PRIu64
                    " for per-row state and a tile of %" PRIu64 " similarities); the session's limit is %" PRIu64
                    " bytes",
                    fixed_bytes + Layout::align(needed * sizeof(T)), fixed_bytes, needed, limit));
    }
    const int64_t by_rows = static_cast<int64_t>(target / static_cast<uint64_t>(n));
    int64_t cols = std::min<int64_t>(m, std::max<int64_t>(kMinTileColumns, by_rows));
    cols = std::min<int64_t>(cols, static_cast<int64_t>(target));
    cols = std::min<int64_t>(cols, std::numeric_limits<int>::max());
    int64_t rows = std::min<int64_t>(n, static_cast<int64_t>(target / static_cast<uint64_t>(cols)));
    rows = std::max<int64_t>(rows, 1);
    plan.rows = rows;
    plan.cols = cols;
    plan.row_blocks = (n + rows - 1) / rows;
    plan.col_blocks = (m + cols - 1) / cols;
    plan.tile_elements = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
    if (want_keep_all) {
        const uint64_t all = static_cast<uint64_t>(plan.row_blocks * plan.col_blocks) * plan.tile_elements;
        if (all <= available_elements) plan.keep_all = true;
    }
    return plan;
}

// Per-row scratch: accumulators, state, scales, the divisor and the value-check flags.
template <class T>
struct RowScratch {
    RowAccum<T>* acc = nullptr;
    T* state = nullptr;
    T* scale = nullptr;
    double* divisor = nullptr;
    unsigned long long* flags = nullptr;  // first bad index of embeddings, refs, weights, upstream, state
    T* tiles = nullptr;
};

constexpr int kFlagCount = 5;

template <class T>
inline void layout_rows(Layout& l, RowScratch<T>& r, int64_t n, bool forward, bool backward) {
    r.acc = forward ? l.take<RowAccum<T>>(static_cast<uint64_t>(n)) : nullptr;
    r.state = l.take<T>(static_cast<uint64_t>(2 * n));
    r.scale = backward ? l.take<T>(static_cast<uint64_t>(n)) : nullptr;
    r.divisor = l.take<double>(1);
    r.flags = l.take<unsigned long long>(kFlagCount);
}

inline uint64_t workspace_limit_of(const Context& ctx) { return ctx.workspace_limit; }

}  // namespace cuda
}  // namespace circleloss
