// The CUDA provider: the table of provider_api.h over the kernels of kernels.cu and cuBLAS.
//
// Scheme (both passes work on tiles of the similarity matrix, never on all of N×M at once):
// - forward: for each tile (query rows I, reference rows J), S_IJ = X_I·R_Jᵀ by cuBLAS, then one kernel
//   folds the tile into per-row running log-sum-exps of positives and negatives (lse_tile). Tiles are
//   visited row block by row block, column tiles in order, so each row's state sees its columns in a
//   fixed order. A per-row kernel turns the state into LP, LN, l_i and the mask; one block reduces.
// - backward: per row, scale_i = c_i·σ(LP_i + LN_i); per tile, S_IJ again (or from the forward, when
//   forward_backward can keep every tile within the workspace limit), one kernel turns it into G_IJ in
//   place, then dX_I (+)= G_IJ·R_J and dR_J (+)= G_IJᵀ·X_I by cuBLAS. When the queries are their own
//   references the kernel forms H_IJ = G_IJ + (G_JI)ᵀ from the same S tile and dX_I (+)= H_IJ·X_J is
//   the only product.
// Determinism: fixed tile shapes (from the sizes and the workspace limit only), one stream, no
// floating-point atomics, cuBLAS products accumulated in a fixed order.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <new>
#include <string>

#include "kernels.cuh"
#include "provider_api.h"

namespace circleloss {
namespace cuda {
namespace {

// ---- errors -----------------------------------------------------------------------------------------

struct Failure {
    circleloss_status status;
    std::string message;
    std::string argument;  // the C name of the argument at fault, or ""
};

// The argument of this thread's last failed provider call (read by the core right after the failure).
thread_local char g_last_argument[128];

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
    char buffer[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buffer, sizeof buffer, fmt, args);
    va_end(args);
    return buffer;
}

[[noreturn]] void fail(circleloss_status status, std::string message) { throw Failure{status, std::move(message), {}}; }

// A failure about one argument: the message is its C name followed by `rest`.
[[noreturn]] void fail_argument(circleloss_status status, const char* argument, const std::string& rest) {
    throw Failure{status, argument + rest, argument};
}

void check_cuda(cudaError_t error, const char* what) {
    if (error == cudaSuccess) return;
    const circleloss_status status =
        error == cudaErrorMemoryAllocation ? CIRCLELOSS_STATUS_OUT_OF_MEMORY : CIRCLELOSS_STATUS_DEVICE_ERROR;
    fail(status, format("%s failed: %s (%s)", what, cudaGetErrorName(error), cudaGetErrorString(error)));
}

const char* cublas_status_name(cublasStatus_t s) {
    switch (s) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
        default: return "unknown cuBLAS status";
    }
}

void check_cublas(cublasStatus_t s, const char* what) {
    if (s == CUBLAS_STATUS_SUCCESS) return;
    fail(s == CUBLAS_STATUS_ALLOC_FAILED ? CIRCLELOSS_STATUS_OUT_OF_MEMORY : CIRCLELOSS_STATUS_DEVICE_ERROR,
         format("%s failed: %s (%d)", what, cublas_status_name(s), static_cast<int>(s)));
}

void write_message(char* out, size_t size, const std::string& message) {
    if (!out || size == 0) return;
    const size_t n = std::min(size - 1, message.size());
    std::memcpy(out, message.data(), n);
    out[n] = '\0';
}

// Runs `body`, turning every failure into a status and a message: nothing is thrown across the ABI.
template <class Body>
circleloss_status guarded(char* error, size_t error_size, Body&& body) {
    g_last_argument[0] = '\0';
    try {
        body();
        write_message(error, error_size, "");
        return CIRCLELOSS_STATUS_OK;
    } catch (const Failure& f) {
        write_message(error, error_size, f.message);
        write_message(g_last_argument, sizeof g_last_argument, f.argument);
        return f.status;
    } catch (const std::bad_alloc&) {
        write_message(error, error_size, "the CUDA provider ran out of host memory");
        return CIRCLELOSS_STATUS_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        write_message(error, error_size, std::string("internal error in the CUDA provider: ") + e.what());
        return CIRCLELOSS_STATUS_INTERNAL_ERROR;
    } catch (...) {
        write_message(error, error_size, "internal error in the CUDA provider: unknown exception");
        return CIRCLELOSS_STATUS_INTERNAL_ERROR;
    }
}

std::string version_text(int v) { return format("%d.%d", v / 1000, (v % 1000) / 10); }

std::string gib(uint64_t bytes) { return format("%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024)); }

constexpr int kMinimumMajor = 8;  // sm_80: the oldest SASS in the library; PTX is compute_90

// ---- device buffers ---------------------------------------------------------------------------------

// A grow-only device allocation, reused across calls of one session.
class DeviceBuffer {
  public:
    DeviceBuffer() = default;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { release(); }

    void* ensure(uint64_t bytes, const char* what) {
        if (bytes <= capacity_) return data_;
        release();
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, static_cast<size_t>(bytes));
        if (e != cudaSuccess) {
            (void)cudaGetLastError();  // clear the (non-sticky) allocation error
            fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY,
                 format("cudaMalloc of %" PRIu64 " bytes for the %s failed: %s", bytes, what, cudaGetErrorString(e)));
        }
        data_ = p;
        capacity_ = bytes;
        return data_;
    }
    void release() {
        if (data_) cudaFree(data_);
        data_ = nullptr;
        capacity_ = 0;
    }
    uint64_t capacity() const { return capacity_; }

  private:
    void* data_ = nullptr;
    uint64_t capacity_ = 0;
};

// Carves aligned pieces out of one allocation: first a pass that counts, then one that hands out.
class Layout {
  public:
    template <class T>
    T* take(uint64_t count) {
        const uint64_t offset = size_;
        size_ = align(size_ + count * sizeof(T));
        return base_ ? reinterpret_cast<T*>(static_cast<char*>(base_) + offset) : nullptr;
    }
    uint64_t size() const { return size_; }
    void start(void* base) {
        base_ = base;
        size_ = 0;
    }
    static uint64_t align(uint64_t bytes) { return (bytes + 255) & ~uint64_t(255); }

  private:
    void* base_ = nullptr;
    uint64_t size_ = 0;
};

// ---- the session context ----------------------------------------------------------------------------

struct Context {
    int device = 0;
    cudaStream_t stream = nullptr;
    bool owns_stream = true;  // false when the caller's stream (config->cuda_stream) is used
    cublasHandle_t blas = nullptr;
    bool allow_tf32 = false;
    uint64_t workspace_limit = 0;
    std::string description;
    std::mutex mutex;        // one computation at a time per session (they share stream and buffers)
    DeviceBuffer scratch;    // tiles and per-row state: counted against workspace_limit
    DeviceBuffer staging;    // device copies of host inputs and outputs (HOST memory problems)
    unsigned long long* host_flags = nullptr;  // pinned: results of the value checks

    ~Context() {
        if (host_flags) cudaFreeHost(host_flags);
        if (blas) cublasDestroy(blas);
        if (stream && owns_stream) cudaStreamDestroy(stream);
    }
};

void use_device(const Context& ctx) { check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice"); }

// ---- cuBLAS with row-major operands -----------------------------------------------------------------
// cuBLAS is column-major: a row-major a×b matrix is its column-major b×a transpose.

cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                    const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    const float alpha = 1.0f;
    return cublasSgemm(h, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                    const double* a, int lda, const double* b, int ldb, double beta, double* c, int ldc) {
    const double alpha = 1.0;
    return cublasDgemm(h, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}

int to_int(int64_t v) { return static_cast<int>(v); }  // callers keep every dimension below 2^31

// S (rows×cols, row-major) = X_I · R_Jᵀ
template <class T>
void similarity(cublasHandle_t h, const Tile& t, int64_t d, const T* x, const T* r, T* s) {
    check_cublas(gemm(h, CUBLAS_OP_T, CUBLAS_OP_N, to_int(t.cols), to_int(t.rows), to_int(d), r + t.j0 * d, to_int(d),
                      x + t.i0 * d, to_int(d), T(0), s, to_int(t.cols)),
                 "cuBLAS similarity product");
}

// dX_I (rows×d) (+)= G (rows×cols) · B_J (cols×d)
template <class T>
void gradient_rows(cublasHandle_t h, const Tile& t, int64_t d, const T* g, const T* b, T* dx, bool accumulate) {
    check_cublas(gemm(h, CUBLAS_OP_N, CUBLAS_OP_N, to_int(d), to_int(t.rows), to_int(t.cols), b + t.j0 * d, to_int(d),
                      g, to_int(t.cols), accumulate ? T(1) : T(0), dx + t.i0 * d, to_int(d)),
                 "cuBLAS gradient product G·R");
}

// dR_J (cols×d) (+)= Gᵀ (cols×rows) · X_I (rows×d)
template <class T>
void gradient_columns(cublasHandle_t h, const Tile& t, int64_t d, const T* g, const T* x, T* dr, bool accumulate) {
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
math::Params<T> params_of(const circleloss_options& o) {
    math::Params<T> p;
    p.gamma = static_cast<T>(o.gamma);
    p.margin = static_cast<T>(o.margin);
    p.keras_gradient = o.gradient_mode == CIRCLELOSS_GRADIENT_KERAS ? 1 : 0;
    return p;
}

// The resolved sizes of a problem (the core has validated them).
struct Sizes {
    int64_t n, d, m;
    bool refs_are_queries;
    int64_t loss_length;
};

Sizes sizes_of(const circleloss_problem& p, const circleloss_options& o) {
    Sizes s;
    s.n = p.n;
    s.d = p.d;
    s.m = (p.ref_embeddings && p.ref_labels) ? p.m : p.n;
    s.refs_are_queries = p.ref_embeddings == nullptr;
    s.loss_length = o.reduction == CIRCLELOSS_REDUCTION_NONE ? p.n : 1;
    if (s.d > std::numeric_limits<int>::max()) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->d",
             format(" is %" PRId64 "; the CUDA backend supports at most %d (cuBLAS dimensions are int)", s.d,
                    std::numeric_limits<int>::max()));
    }
    return s;
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
Plan plan_tiles(int64_t n, int64_t m, uint64_t tile_bytes_available, bool want_keep_all, uint64_t limit,
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
void layout_rows(Layout& l, RowScratch<T>& r, int64_t n, bool forward, bool backward) {
    r.acc = forward ? l.take<RowAccum<T>>(static_cast<uint64_t>(n)) : nullptr;
    r.state = l.take<T>(static_cast<uint64_t>(2 * n));
    r.scale = backward ? l.take<T>(static_cast<uint64_t>(n)) : nullptr;
    r.divisor = l.take<double>(1);
    r.flags = l.take<unsigned long long>(kFlagCount);
}

uint64_t workspace_limit_of(const Context& ctx) { return ctx.workspace_limit; }

// ---- value checks of device inputs ------------------------------------------------------------------

template <class T>
T read_element(const Context& ctx, const T* device_array, uint64_t index) {
    T v{};
    check_cuda(cudaMemcpyAsync(&v, device_array + index, sizeof(T), cudaMemcpyDeviceToHost, ctx.stream),
               "cudaMemcpyAsync (reading a bad value)");
    check_cuda(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize");
    return v;
}

// For DEVICE problems: the checks the core makes on host memory, as device reductions.
template <class T>
void check_device_values(Context& ctx, const DeviceProblem<T>& p, bool refs_given, bool check_upstream,
                         const T* saved_state, unsigned long long* flags) {
    check_cuda(cudaMemsetAsync(flags, 0xff, kFlagCount * sizeof(unsigned long long), ctx.stream), "cudaMemsetAsync");
    check_cuda(launch_find_bad(p.x, p.n * p.d, kBadNonFinite, flags + 0, ctx.stream), "value check kernel");
    if (refs_given) check_cuda(launch_find_bad(p.r, p.m * p.d, kBadNonFinite, flags + 1, ctx.stream), "value check kernel");
    if (p.w) check_cuda(launch_find_bad(p.w, p.n, kBadNonFiniteOrNegative, flags + 2, ctx.stream), "value check kernel");
    if (check_upstream && p.upstream) {
        check_cuda(launch_find_bad(p.upstream, p.loss_length, kBadNonFinite, flags + 3, ctx.stream), "value check kernel");
    }
    if (saved_state) {
        check_cuda(launch_find_bad(saved_state, 2 * p.n, kBadNanOrPositiveInf, flags + 4, ctx.stream),
                   "value check kernel");
    }
    check_cuda(cudaMemcpyAsync(ctx.host_flags, flags, kFlagCount * sizeof(unsigned long long), cudaMemcpyDeviceToHost,
                               ctx.stream),
               "cudaMemcpyAsync (value checks)");
    check_cuda(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize (value checks)");
    const unsigned long long none = ~0ull;
    const unsigned long long* f = ctx.host_flags;
    if (f[0] != none) {
        const double v = static_cast<double>(read_element(ctx, p.x, f[0]));
        fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->embeddings",
             format(" has a non-finite value (%g) at row %" PRId64 ", column %" PRId64, v,
                    static_cast<int64_t>(f[0]) / p.d, static_cast<int64_t>(f[0]) % p.d));
    }
    if (f[1] != none) {
        const double v = static_cast<double>(read_element(ctx, p.r, f[1]));
        fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->ref_embeddings",
             format(" has a non-finite value (%g) at row %" PRId64 ", column %" PRId64, v,
                    static_cast<int64_t>(f[1]) / p.d, static_cast<int64_t>(f[1]) % p.d));
    }
    if (f[2] != none) {
        const double v = static_cast<double>(read_element(ctx, p.w, f[2]));
        if (!std::isfinite(v)) {
            fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->sample_weights",
                 format(" has a non-finite value (%g) at index %llu", v, f[2]));
        }
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->sample_weights",
             format(" must be >= 0; index %llu is %g", f[2], v));
    }
    if (f[3] != none) {
        const double v = static_cast<double>(read_element(ctx, p.upstream, f[3]));
        fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->upstream",
             format(" has a non-finite value (%g) at index %llu", v, f[3]));
    }
    if (f[4] != none) {
        const double v = static_cast<double>(read_element(ctx, saved_state, f[4]));
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "saved_state",
             format("[%llu] is %g: not a state written by circleloss_forward", f[4], v));
    }
}

// ---- the passes -------------------------------------------------------------------------------------

struct ForwardTargets {
    void* loss = nullptr;  // device
    void* per_sample = nullptr;
    uint8_t* mask = nullptr;
    void* saved_state = nullptr;  // device, optional (the state is also kept in scratch)
    double* reduction_terms = nullptr;  // device, optional
};

struct GradientTargets {
    void* dx = nullptr;  // device
    void* dr = nullptr;  // device, NULL when the queries are their own references
};

template <class T>
void run_forward_pass(Context& ctx, const DeviceProblem<T>& p, const circleloss_options& o, const Plan& plan,
                      RowScratch<T>& rs, const ForwardTargets& out) {
    const PairLabels labels{p.y, p.ry, p.wide_labels ? 1 : 0, o.remove_diagonal, p.diagonal_offset};
    const math::Params<T> params = params_of<T>(o);
    check_cuda(launch_init_accum(rs.acc, p.n, ctx.stream), "init kernel");
    for (int64_t bi = 0; bi < plan.row_blocks; ++bi) {
        for (int64_t bj = 0; bj < plan.col_blocks; ++bj) {
            const Tile t = plan.tile(bi, bj, p.n, p.m);
            T* s = rs.tiles + (plan.keep_all ? static_cast<uint64_t>(bi * plan.col_blocks + bj) * plan.tile_elements : 0);
            similarity(ctx.blas, t, p.d, p.x, p.r, s);
            check_cuda(launch_lse_tile(s, t, labels, params, rs.acc, ctx.stream), "forward tile kernel");
        }
    }
    const bool none = o.reduction == CIRCLELOSS_REDUCTION_NONE;
    check_cuda(launch_finalize_forward(rs.acc, p.n, p.w, rs.state, static_cast<T*>(out.per_sample), out.mask,
                                       none ? static_cast<T*>(out.loss) : nullptr, ctx.stream),
               "forward finalize kernel");
    check_cuda(launch_reduce(rs.state, p.w, p.n, static_cast<int>(o.reduction), p.reduction_divisor,
                             none ? nullptr : static_cast<T*>(out.loss), rs.divisor, out.reduction_terms, ctx.stream),
               "reduction kernel");
    if (out.saved_state && p.n > 0) {
        check_cuda(cudaMemcpyAsync(out.saved_state, rs.state, static_cast<size_t>(2 * p.n) * sizeof(T),
                                   cudaMemcpyDeviceToDevice, ctx.stream),
                   "cudaMemcpyAsync (saved state)");
    }
}

// `state` holds LP, LN per row; `divisor_ready` when the forward pass of this call computed it.
template <class T>
void run_backward_pass(Context& ctx, const DeviceProblem<T>& p, const circleloss_options& o, const Plan& plan,
                       RowScratch<T>& rs, const T* state, bool tiles_ready, bool divisor_ready,
                       const GradientTargets& out) {
    const PairLabels labels{p.y, p.ry, p.wide_labels ? 1 : 0, o.remove_diagonal, p.diagonal_offset};
    const math::Params<T> params = params_of<T>(o);
    T* dx = static_cast<T*>(out.dx);
    T* dr = static_cast<T*>(out.dr);
    const int reduction = static_cast<int>(o.reduction);
    if (!divisor_ready) {
        check_cuda(launch_reduce<T>(state, p.w, p.n, reduction, p.reduction_divisor, nullptr, rs.divisor, nullptr,
                                    ctx.stream),
                   "reduction kernel");
    }
    check_cuda(launch_row_scale(state, p.w, p.upstream, p.n, reduction, rs.divisor, rs.scale, ctx.stream),
               "row scale kernel");
    if (p.m == 0 && p.n > 0) {
        check_cuda(cudaMemsetAsync(dx, 0, static_cast<size_t>(p.n * p.d) * sizeof(T), ctx.stream), "cudaMemsetAsync");
    }
    if (p.n == 0 && p.m > 0 && dr) {
        check_cuda(cudaMemsetAsync(dr, 0, static_cast<size_t>(p.m * p.d) * sizeof(T), ctx.stream), "cudaMemsetAsync");
    }
    const bool symmetric = p.refs_are_queries;
    for (int64_t bi = 0; bi < plan.row_blocks; ++bi) {
        for (int64_t bj = 0; bj < plan.col_blocks; ++bj) {
            const Tile t = plan.tile(bi, bj, p.n, p.m);
            T* s = rs.tiles + (plan.keep_all ? static_cast<uint64_t>(bi * plan.col_blocks + bj) * plan.tile_elements : 0);
            if (!tiles_ready) similarity(ctx.blas, t, p.d, p.x, p.r, s);
            check_cuda(launch_gradient_tile(s, t, labels, symmetric, state, rs.scale, params, ctx.stream),
                       "gradient tile kernel");
            gradient_rows(ctx.blas, t, p.d, s, p.r, dx, bj > 0);
            if (!symmetric) gradient_columns(ctx.blas, t, p.d, s, p.x, dr, bi > 0);
        }
    }
}

// ---- calls: staging of host memory, workspace, and the passes ---------------------------------------

enum class CallKind { kForward, kBackward, kForwardBackward };

template <class T>
void run_call(Context& ctx, CallKind kind, const circleloss_forward_output* fwd, const circleloss_gradient_output* grad,
              const circleloss_options& o, const circleloss_problem& problem, const void* saved_state_in) {
    const Sizes z = sizes_of(problem, o);
    const bool host = problem.memory == CIRCLELOSS_MEMORY_HOST;
    const bool do_forward = kind != CallKind::kBackward;
    const bool do_backward = kind != CallKind::kForward;
    const bool refs_given = problem.ref_embeddings != nullptr;
    const uint64_t nd = static_cast<uint64_t>(z.n * z.d);
    const uint64_t md = static_cast<uint64_t>(z.m * z.d);
    const uint64_t n = static_cast<uint64_t>(z.n);
    const uint64_t m = static_cast<uint64_t>(z.m);

    // Device views of inputs and outputs; for host memory, staged copies.
    DeviceProblem<T> p;
    p.n = z.n;
    p.d = z.d;
    p.m = z.m;
    p.refs_are_queries = z.refs_are_queries;
    p.loss_length = z.loss_length;
    p.wide_labels = problem.label_type == CIRCLELOSS_LABELS_INT64;  // validated by the core
    p.diagonal_offset = problem.diagonal_offset;
    p.reduction_divisor = problem.reduction_divisor;
    const uint64_t label_bytes = p.wide_labels ? sizeof(int64_t) : sizeof(int32_t);
    ForwardTargets fo;
    GradientTargets go;
    const T* saved_state = static_cast<const T*>(saved_state_in);
    const uint64_t upstream_count = static_cast<uint64_t>(z.loss_length);

    Layout staging;
    struct Staged {
        T* x = nullptr;
        T* r = nullptr;
        void* y = nullptr;
        void* ry = nullptr;
        T* w = nullptr;
        T* upstream = nullptr;
        T* state_in = nullptr;
        T* loss = nullptr;
        T* per_sample = nullptr;
        uint8_t* mask = nullptr;
        T* state_out = nullptr;
        double* terms = nullptr;
        T* dx = nullptr;
        T* dr = nullptr;
    } st;
    auto lay_out_staging = [&] {
        st.x = staging.take<T>(nd);
        st.r = refs_given ? staging.take<T>(md) : nullptr;
        st.y = staging.take<unsigned char>(n * label_bytes);
        st.ry = problem.ref_labels ? staging.take<unsigned char>(m * label_bytes) : nullptr;
        st.w = problem.sample_weights ? staging.take<T>(n) : nullptr;
        st.upstream = (do_backward && problem.upstream) ? staging.take<T>(upstream_count) : nullptr;
        st.state_in = kind == CallKind::kBackward ? staging.take<T>(2 * n) : nullptr;
        if (do_forward) {
            st.loss = staging.take<T>(static_cast<uint64_t>(z.loss_length));
            st.per_sample = fwd->per_sample_loss ? staging.take<T>(n) : nullptr;
            st.mask = fwd->mask ? staging.take<uint8_t>(n) : nullptr;
            st.state_out = fwd->saved_state ? staging.take<T>(2 * n) : nullptr;
            st.terms = fwd->reduction_terms ? staging.take<double>(CIRCLELOSS_REDUCTION_TERMS) : nullptr;
        }
        if (do_backward) {
            st.dx = staging.take<T>(nd);
            st.dr = refs_given ? staging.take<T>(md) : nullptr;
        }
    };
    if (host) {
        staging.start(nullptr);
        lay_out_staging();
        void* base = ctx.staging.ensure(staging.size(), "device copies of the host arrays");
        staging.start(base);
        lay_out_staging();
        auto upload = [&](void* dst, const void* src, uint64_t bytes) {
            if (bytes == 0 || !src || !dst) return;  // absent, or not used by this call
            check_cuda(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice, ctx.stream),
                       "cudaMemcpyAsync (host to device)");
        };
        upload(st.x, problem.embeddings, nd * sizeof(T));
        upload(st.r, problem.ref_embeddings, md * sizeof(T));
        upload(st.y, problem.labels, n * label_bytes);
        upload(st.ry, problem.ref_labels, m * label_bytes);
        upload(st.w, problem.sample_weights, n * sizeof(T));
        upload(st.upstream, problem.upstream, upstream_count * sizeof(T));
        upload(st.state_in, saved_state_in, 2 * n * sizeof(T));
        p.x = st.x;
        p.r = refs_given ? st.r : st.x;
        p.y = st.y;
        p.ry = problem.ref_labels ? st.ry : st.y;
        p.w = st.w;
        p.upstream = do_backward ? st.upstream : nullptr;
        saved_state = st.state_in;
        fo.loss = st.loss;
        fo.per_sample = st.per_sample;
        fo.mask = st.mask;
        fo.saved_state = st.state_out;
        fo.reduction_terms = st.terms;
        go.dx = st.dx;
        go.dr = st.dr;
    } else {
        p.x = static_cast<const T*>(problem.embeddings);
        p.r = refs_given ? static_cast<const T*>(problem.ref_embeddings) : p.x;
        p.y = problem.labels;
        p.ry = problem.ref_labels ? problem.ref_labels : problem.labels;
        p.w = static_cast<const T*>(problem.sample_weights);
        p.upstream = do_backward ? static_cast<const T*>(problem.upstream) : nullptr;
        if (do_forward) {
            fo.loss = fwd->loss;
            fo.per_sample = fwd->per_sample_loss;
            fo.mask = fwd->mask;
            fo.saved_state = fwd->saved_state;
            fo.reduction_terms = fwd->reduction_terms;
        }
        if (do_backward) {
            go.dx = grad->grad_embeddings;
            go.dr = refs_given ? grad->grad_ref_embeddings : nullptr;
        }
    }

    // Scratch: per-row arrays, then tiles in what the limit leaves.
    RowScratch<T> rs;
    Layout rows;
    rows.start(nullptr);
    layout_rows(rows, rs, z.n, do_forward, do_backward);
    const uint64_t fixed = rows.size();
    const uint64_t limit = workspace_limit_of(ctx);
    if (fixed > limit) {
        fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY,
             format("the CUDA backend needs %" PRIu64 " bytes of workspace for the per-row state of %" PRId64
                    " rows alone; the session's limit is %" PRIu64 " bytes",
                    fixed, z.n, limit));
    }
    const Plan plan = plan_tiles<T>(z.n, z.m, limit - fixed, kind == CallKind::kForwardBackward, limit, fixed);
    const uint64_t total = fixed + Layout::align(plan.buffer_elements() * sizeof(T));
    void* scratch = ctx.scratch.ensure(total, "workspace");
    rows.start(scratch);
    layout_rows(rows, rs, z.n, do_forward, do_backward);
    rs.tiles = reinterpret_cast<T*>(static_cast<char*>(scratch) + fixed);

    if (!host) {
        check_device_values(ctx, p, refs_given, do_backward, kind == CallKind::kBackward ? saved_state : nullptr,
                            rs.flags);
    }

    if (do_forward) run_forward_pass(ctx, p, o, plan, rs, fo);
    if (do_backward) {
        const T* state = do_forward ? rs.state : saved_state;
        run_backward_pass(ctx, p, o, plan, rs, state, do_forward && plan.keep_all, do_forward, go);
    }

    if (host) {
        auto download = [&](void* dst, const void* src, uint64_t bytes) {
            if (bytes == 0 || !dst) return;
            check_cuda(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost, ctx.stream),
                       "cudaMemcpyAsync (device to host)");
        };
        // Finish and check everything before the first host output is written.
        check_cuda(cudaStreamSynchronize(ctx.stream), "the CUDA computation");
        if (do_forward) {
            download(fwd->loss, st.loss, static_cast<uint64_t>(z.loss_length) * sizeof(T));
            download(fwd->per_sample_loss, st.per_sample, n * sizeof(T));
            download(fwd->mask, st.mask, n);
            download(fwd->saved_state, st.state_out, 2 * n * sizeof(T));
            download(fwd->reduction_terms, st.terms, CIRCLELOSS_REDUCTION_TERMS * sizeof(double));
        }
        if (do_backward) {
            download(grad->grad_embeddings, st.dx, nd * sizeof(T));
            if (refs_given) download(grad->grad_ref_embeddings, st.dr, md * sizeof(T));
        }
    }
    check_cuda(cudaStreamSynchronize(ctx.stream), "the CUDA computation");
}

void dispatch(Context& ctx, CallKind kind, const circleloss_forward_output* fwd, const circleloss_gradient_output* grad,
              const circleloss_options* options, const circleloss_problem* problem, const void* saved_state) {
    std::lock_guard<std::mutex> lock(ctx.mutex);
    use_device(ctx);
    if (problem->dtype == CIRCLELOSS_DTYPE_FLOAT64) {
        run_call<double>(ctx, kind, fwd, grad, *options, *problem, saved_state);
    } else {
        run_call<float>(ctx, kind, fwd, grad, *options, *problem, saved_state);
    }
}

// ---- the provider table -----------------------------------------------------------------------------

circleloss_status probe(char* detail, size_t detail_size) {
    std::string text;
    const circleloss_status status = guarded(detail, detail_size, [&] {
        // The static runtime finds the driver by loading libcuda.so.1; say so plainly when it is missing.
        void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!driver) {
            const char* why = dlerror();
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 std::string("the NVIDIA driver is not installed: libcuda.so.1 could not be loaded (") +
                     (why ? why : "unknown error") + ")");
        }
        dlclose(driver);
        int driver_version = 0;
        (void)cudaDriverGetVersion(&driver_version);
        int count = 0;
        const cudaError_t e = cudaGetDeviceCount(&count);
        if (e == cudaErrorInsufficientDriver) {
            (void)cudaGetLastError();
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("the NVIDIA driver is too old: it supports CUDA %s, this provider needs CUDA %s or newer",
                        version_text(driver_version).c_str(), version_text(CUDART_VERSION).c_str()));
        }
        if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
            (void)cudaGetLastError();
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("no CUDA device found (driver for CUDA %s)", version_text(driver_version).c_str()));
        }
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("the CUDA driver could not be initialised: %s (%s)", cudaGetErrorName(e), cudaGetErrorString(e)));
        }
        text = format("CUDA runtime %s, driver %s; ", version_text(CUDART_VERSION).c_str(),
                                  version_text(driver_version).c_str());
        int usable = 0;
        for (int i = 0; i < count; ++i) {
            cudaDeviceProp prop;
            if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
            const bool ok = prop.major >= kMinimumMajor;
            usable += ok ? 1 : 0;
            text += format("%sdevice %d: %s (compute capability %d.%d, %s)%s", i ? "; " : "", i, prop.name, prop.major,
                           prop.minor, gib(prop.totalGlobalMem).c_str(), ok ? "" : " [unsupported: needs 8.0 or newer]");
        }
        if (usable == 0) {
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE, "no supported CUDA device (compute capability 8.0 or newer): " + text);
        }
    });
    if (status == CIRCLELOSS_STATUS_OK) write_message(detail, detail_size, text);  // the devices
    return status;
}

circleloss_status create(void** out_context, const circleloss_session_config* config, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        *out_context = nullptr;
        int count = 0;
        check_cuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
        const int index = config ? config->device_index : 0;
        if (index < 0 || index >= count) {
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("config->device_index is %d but this machine has %d CUDA device(s)", index, count));
        }
        cudaDeviceProp prop;
        check_cuda(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
        if (prop.major < kMinimumMajor) {
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("CUDA device %d (%s) has compute capability %d.%d; the CUDA backend needs 8.0 or newer", index,
                        prop.name, prop.major, prop.minor));
        }
        Context* ctx = new Context();
        try {
            ctx->device = index;
            use_device(*ctx);
            if (config && config->cuda_stream) {
                ctx->stream = static_cast<cudaStream_t>(config->cuda_stream);
                ctx->owns_stream = false;
                // A handle that is not a stream fails here rather than in the first call.
                const cudaError_t state = cudaStreamQuery(ctx->stream);
                if (state != cudaSuccess && state != cudaErrorNotReady) {
                    fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "config->cuda_stream",
                                  format(" is not a usable CUDA stream of device %d: %s", index,
                                         cudaGetErrorString(state)));
                }
            } else {
                check_cuda(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking), "cudaStreamCreate");
            }
            check_cublas(cublasCreate(&ctx->blas), "cublasCreate");
            check_cublas(cublasSetStream(ctx->blas, ctx->stream), "cublasSetStream");
            check_cublas(cublasSetPointerMode(ctx->blas, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
            ctx->allow_tf32 = config && (config->flags & CIRCLELOSS_SESSION_FLAG_ALLOW_TF32) != 0;
            check_cublas(cublasSetMathMode(ctx->blas, ctx->allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                         "cublasSetMathMode");
            check_cuda(cudaMallocHost(reinterpret_cast<void**>(&ctx->host_flags), kFlagCount * sizeof(unsigned long long)),
                       "cudaMallocHost");
            size_t free_bytes = 0, total_bytes = 0;
            check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
            const bool defaulted = !config || config->workspace_limit_bytes == 0;
            ctx->workspace_limit =
                defaulted ? std::min<uint64_t>(kDefaultWorkspaceLimit, free_bytes / 2) : config->workspace_limit_bytes;
            int runtime = 0, driver = 0, blas_version = 0;
            (void)cudaRuntimeGetVersion(&runtime);
            (void)cudaDriverGetVersion(&driver);
            (void)cublasGetVersion(ctx->blas, &blas_version);
            ctx->description = format(
                "CUDA device %d: %s (compute capability %d.%d, %d SMs, %s), runtime %s, driver %s, cuBLAS %d.%d.%d, "
                "workspace limit %s%s, TF32 %s, %s stream",
                index, prop.name, prop.major, prop.minor, prop.multiProcessorCount, gib(prop.totalGlobalMem).c_str(),
                version_text(runtime).c_str(), version_text(driver).c_str(), blas_version / 10000,
                (blas_version / 100) % 100, blas_version % 100, gib(ctx->workspace_limit).c_str(),
                defaulted ? " (default)" : "", ctx->allow_tf32 ? "allowed" : "off",
                ctx->owns_stream ? "own" : "caller's");
        } catch (...) {
            delete ctx;
            throw;
        }
        *out_context = ctx;
    });
}

void destroy(void* context) {
    Context* ctx = static_cast<Context*>(context);
    if (!ctx) return;
    if (cudaSetDevice(ctx->device) == cudaSuccess) (void)cudaStreamSynchronize(ctx->stream);
    delete ctx;
}

const char* last_error_argument() { return g_last_argument; }

const char* describe(void* context) {
    const Context* ctx = static_cast<const Context*>(context);
    return ctx ? ctx->description.c_str() : "";
}

circleloss_status forward(void* context, const circleloss_forward_output* output, const circleloss_options* options,
                          const circleloss_problem* problem, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        dispatch(*static_cast<Context*>(context), CallKind::kForward, output, nullptr, options, problem, nullptr);
    });
}

circleloss_status backward(void* context, const circleloss_gradient_output* output, const circleloss_options* options,
                           const circleloss_problem* problem, const void* saved_state, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        dispatch(*static_cast<Context*>(context), CallKind::kBackward, nullptr, output, options, problem, saved_state);
    });
}

circleloss_status forward_backward(void* context, const circleloss_forward_output* forward_output,
                                   const circleloss_gradient_output* gradient_output, const circleloss_options* options,
                                   const circleloss_problem* problem, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        dispatch(*static_cast<Context*>(context), CallKind::kForwardBackward, forward_output, gradient_output, options,
                 problem, nullptr);
    });
}

circleloss_status device_alloc(void* context, void** out_pointer, uint64_t bytes, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        Context& ctx = *static_cast<Context*>(context);
        use_device(ctx);
        *out_pointer = nullptr;
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, static_cast<size_t>(bytes == 0 ? 1 : bytes));
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY,
                 format("cudaMalloc of %" PRIu64 " bytes failed: %s", bytes, cudaGetErrorString(e)));
        }
        *out_pointer = p;
    });
}

circleloss_status device_free(void* context, void* pointer, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        if (!pointer) return;
        Context& ctx = *static_cast<Context*>(context);
        use_device(ctx);
        check_cuda(cudaFree(pointer), "cudaFree");
    });
}

circleloss_status device_copy(void* context, void* destination, const void* source, uint64_t bytes,
                              circleloss_copy_kind kind, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        Context& ctx = *static_cast<Context*>(context);
        use_device(ctx);
        if (bytes == 0) return;
        cudaMemcpyKind k = cudaMemcpyDeviceToDevice;
        if (kind == CIRCLELOSS_COPY_HOST_TO_DEVICE) k = cudaMemcpyHostToDevice;
        if (kind == CIRCLELOSS_COPY_DEVICE_TO_HOST) k = cudaMemcpyDeviceToHost;
        check_cuda(cudaMemcpyAsync(destination, source, static_cast<size_t>(bytes), k, ctx.stream), "cudaMemcpyAsync");
        check_cuda(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize (copy)");
    });
}

circleloss_status synchronize(void* context, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        Context& ctx = *static_cast<Context*>(context);
        use_device(ctx);
        check_cuda(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize");
    });
}

const circleloss_provider_api kApi = {
    CIRCLELOSS_PROVIDER_ABI_VERSION,
    probe,
    create,
    destroy,
    describe,
    forward,
    backward,
    forward_backward,
    device_alloc,
    device_free,
    device_copy,
    synchronize,
    last_error_argument,
};

}  // namespace
}  // namespace cuda
}  // namespace circleloss

extern "C" __attribute__((visibility("default"))) const circleloss_provider_api* circleloss_cuda_provider_entry(void) {
    return &circleloss::cuda::kApi;
}
