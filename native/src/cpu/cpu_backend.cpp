#include "cpu/cpu_backend.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"
#include "math/circle_math.h"

namespace circleloss {
namespace cpu {
namespace {

using math::OnlineLse;
using math::Params;

// Tile sizes are constants, never derived from the thread count, so every output element is computed
// by the same sequence of operations whatever the number of threads: results are bitwise identical.
constexpr int64_t kRowBlock = 64;
constexpr int64_t kColumnTile = 1024;

void configure_openblas_once() {
    static std::once_flag once;
    // Our own pool parallelises over tiles; each GEMM call runs single-threaded inside a worker.
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

// C (rows×cols, ldc) = A (rows×k) · B(cols×k)ᵀ
void gemm_abt(int64_t rows, int64_t cols, int64_t k, const float* a, const float* b, float* c) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows), static_cast<blasint>(cols),
                static_cast<blasint>(k), 1.0f, a, static_cast<blasint>(k), b, static_cast<blasint>(k), 0.0f, c,
                static_cast<blasint>(cols));
}
void gemm_abt(int64_t rows, int64_t cols, int64_t k, const double* a, const double* b, double* c) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows), static_cast<blasint>(cols),
                static_cast<blasint>(k), 1.0, a, static_cast<blasint>(k), b, static_cast<blasint>(k), 0.0, c,
                static_cast<blasint>(cols));
}

// C (rows×k) (+)= G (rows×cols) · B (cols×k)
void gemm_ab(int64_t rows, int64_t cols, int64_t k, const float* g, const float* b, float* c, bool accumulate) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(rows), static_cast<blasint>(k),
                static_cast<blasint>(cols), 1.0f, g, static_cast<blasint>(cols), b, static_cast<blasint>(k),
                accumulate ? 1.0f : 0.0f, c, static_cast<blasint>(k));
}
void gemm_ab(int64_t rows, int64_t cols, int64_t k, const double* g, const double* b, double* c, bool accumulate) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(rows), static_cast<blasint>(k),
                static_cast<blasint>(cols), 1.0, g, static_cast<blasint>(cols), b, static_cast<blasint>(k),
                accumulate ? 1.0 : 0.0, c, static_cast<blasint>(k));
}

// C (cols×k) (+)= G (rows×cols)ᵀ · A (rows×k)
void gemm_atb(int64_t rows, int64_t cols, int64_t k, const float* g, const float* a, float* c, bool accumulate) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<blasint>(cols), static_cast<blasint>(k),
                static_cast<blasint>(rows), 1.0f, g, static_cast<blasint>(cols), a, static_cast<blasint>(k),
                accumulate ? 1.0f : 0.0f, c, static_cast<blasint>(k));
}
void gemm_atb(int64_t rows, int64_t cols, int64_t k, const double* g, const double* a, double* c, bool accumulate) {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<blasint>(cols), static_cast<blasint>(k),
                static_cast<blasint>(rows), 1.0, g, static_cast<blasint>(cols), a, static_cast<blasint>(k),
                accumulate ? 1.0 : 0.0, c, static_cast<blasint>(k));
}

// A typed view of a validated problem.
template <class T>
struct Problem {
    int64_t n, d, m;
    const T* x;
    const T* r;
    const int32_t* y;
    const int32_t* ry;
    const T* w;         // NULL: all ones
    const T* upstream;  // NULL: ones
    bool refs_are_queries;
    bool remove_diagonal;
    int reduction;
    Params<T> params;

    T weight(int64_t i) const { return w ? w[i] : T(1); }
    int kind(int64_t i, int64_t j) const {
        return math::pair_kind(y[i], ry[j], i == j, remove_diagonal);
    }
};

template <class T>
Problem<T> typed(const ResolvedProblem& p, const ResolvedOptions& o) {
    Problem<T> t;
    t.n = p.n;
    t.d = p.d;
    t.m = p.m;
    t.x = static_cast<const T*>(p.embeddings);
    t.r = static_cast<const T*>(p.ref_embeddings);
    t.y = p.labels;
    t.ry = p.ref_labels;
    t.w = static_cast<const T*>(p.sample_weights);
    t.upstream = static_cast<const T*>(p.upstream);
    t.refs_are_queries = p.refs_are_queries;
    t.remove_diagonal = o.remove_diagonal;
    t.reduction = static_cast<int>(o.reduction);
    t.params.gamma = static_cast<T>(o.gamma);
    t.params.margin = static_cast<T>(o.margin);
    t.params.keras_gradient = o.gradient_mode == CIRCLELOSS_GRADIENT_KERAS ? 1 : 0;
    return t;
}

int64_t blocks(int64_t count, int64_t block) { return (count + block - 1) / block; }

// Scratch for one participant: one similarity tile.
template <class T>
struct Scratch {
    std::vector<std::vector<T>> tiles;
    Scratch(int participants) : tiles(static_cast<size_t>(participants)) {
        for (auto& t : tiles) t.resize(static_cast<size_t>(kRowBlock * kColumnTile));
    }
    T* tile(int slot) { return tiles[static_cast<size_t>(slot)].data(); }
};

template <class T>
uint64_t tile_scratch_bytes(int participants) {
    return static_cast<uint64_t>(participants) * kRowBlock * kColumnTile * sizeof(T);
}

// ---- forward ---------------------------------------------------------------------------------------

// LP_i and LN_i for rows [i0, i0 + rows), written to state[2 i], state[2 i + 1].
template <class T>
void forward_row_block(const Problem<T>& p, int64_t i0, int64_t rows, T* s_tile, T* state) {
    std::vector<OnlineLse<T>> pos(static_cast<size_t>(rows), math::lse_empty<T>());
    std::vector<OnlineLse<T>> neg(static_cast<size_t>(rows), math::lse_empty<T>());
    for (int64_t j0 = 0; j0 < p.m; j0 += kColumnTile) {
        const int64_t cols = std::min(kColumnTile, p.m - j0);
        gemm_abt(rows, cols, p.d, p.x + i0 * p.d, p.r + j0 * p.d, s_tile);
        for (int64_t ii = 0; ii < rows; ++ii) {
            const int64_t i = i0 + ii;
            T* s_row = s_tile + ii * cols;
            // Pass 1: logits in place and the tile row's maxima; pass 2: shifted sums. Two passes keep the
            // exponentials out of the branchy max tracking.
            T max_pos = math::neg_infinity<T>();
            T max_neg = math::neg_infinity<T>();
            for (int64_t jj = 0; jj < cols; ++jj) {
                const int kind = p.kind(i, j0 + jj);
                if (kind == math::kPairPositive) {
                    const T logit = math::positive_logit(s_row[jj], p.params);
                    s_row[jj] = logit;
                    max_pos = math::cl_max(max_pos, logit);
                } else if (kind == math::kPairNegative) {
                    const T logit = math::negative_logit(s_row[jj], p.params);
                    s_row[jj] = logit;
                    max_neg = math::cl_max(max_neg, logit);
                }
            }
            T sum_pos = 0;
            T sum_neg = 0;
            for (int64_t jj = 0; jj < cols; ++jj) {
                const int kind = p.kind(i, j0 + jj);
                if (kind == math::kPairPositive) {
                    sum_pos += math::cl_exp(s_row[jj] - max_pos);
                } else if (kind == math::kPairNegative) {
                    sum_neg += math::cl_exp(s_row[jj] - max_neg);
                }
            }
            pos[static_cast<size_t>(ii)] = math::lse_merge(pos[static_cast<size_t>(ii)], OnlineLse<T>{max_pos, sum_pos});
            neg[static_cast<size_t>(ii)] = math::lse_merge(neg[static_cast<size_t>(ii)], OnlineLse<T>{max_neg, sum_neg});
        }
    }
    for (int64_t ii = 0; ii < rows; ++ii) {
        state[2 * (i0 + ii)] = math::lse_value(pos[static_cast<size_t>(ii)]);
        state[2 * (i0 + ii) + 1] = math::lse_value(neg[static_cast<size_t>(ii)]);
    }
}

template <class T>
void compute_state(ThreadPool& pool, const Problem<T>& p, Scratch<T>& scratch, T* state) {
    pool.parallel_for(blocks(p.n, kRowBlock), [&](int64_t block, int slot) {
        const int64_t i0 = block * kRowBlock;
        forward_row_block(p, i0, std::min(kRowBlock, p.n - i0), scratch.tile(slot), state);
    });
}

// Per-row loss, mask and the reduced loss from the state; writes the forward outputs.
template <class T>
void write_forward_outputs(const circleloss_forward_output& out, const Problem<T>& p, const T* state) {
    T* loss = static_cast<T*>(out.loss);
    T* per_sample = static_cast<T*>(out.per_sample_loss);
    double total = 0;
    double valid_count = 0;
    double valid_weight = 0;
    for (int64_t i = 0; i < p.n; ++i) {
        const math::RowLoss<T> row = math::row_loss(state[2 * i], state[2 * i + 1]);
        const T weighted = p.weight(i) * row.loss;
        if (per_sample) per_sample[i] = row.loss;
        if (out.mask) out.mask[i] = row.valid ? 1 : 0;
        if (p.reduction == math::kReduceNone) {
            loss[i] = weighted;
        } else if (row.valid) {
            total += static_cast<double>(weighted);
            valid_count += 1;
            valid_weight += static_cast<double>(p.weight(i));
        }
    }
    if (p.reduction != math::kReduceNone) {
        const double divisor = math::reduction_divisor(p.reduction, valid_count, valid_weight);
        loss[0] = divisor == 0 ? T(0) : static_cast<T>(total / divisor);
    }
    if (out.saved_state) {
        std::memcpy(out.saved_state, state, static_cast<size_t>(2 * p.n) * sizeof(T));
    }
}

// ---- backward --------------------------------------------------------------------------------------

// scale_i = c_i · upstream · sigma(LP_i + LN_i): every pair of row i shares it.
template <class T>
std::vector<T> row_scales(const Problem<T>& p, const T* state) {
    std::vector<T> scale(static_cast<size_t>(p.n));
    std::vector<math::RowLoss<T>> rows(static_cast<size_t>(p.n));
    double valid_count = 0;
    double valid_weight = 0;
    for (int64_t i = 0; i < p.n; ++i) {
        rows[static_cast<size_t>(i)] = math::row_loss(state[2 * i], state[2 * i + 1]);
        if (rows[static_cast<size_t>(i)].valid) {
            valid_count += 1;
            valid_weight += static_cast<double>(p.weight(i));
        }
    }
    const double divisor = math::reduction_divisor(p.reduction, valid_count, valid_weight);
    for (int64_t i = 0; i < p.n; ++i) {
        const bool valid = rows[static_cast<size_t>(i)].valid;
        T coefficient;
        if (p.reduction == math::kReduceNone) {
            coefficient = valid ? p.weight(i) * (p.upstream ? p.upstream[i] : T(1)) : T(0);
        } else {
            const double c = math::reduction_coefficient(static_cast<double>(p.weight(i)), valid, divisor);
            coefficient = static_cast<T>(c * (p.upstream ? static_cast<double>(p.upstream[0]) : 1.0));
        }
        scale[static_cast<size_t>(i)] = math::row_gradient_scale(state[2 * i], state[2 * i + 1], coefficient);
    }
    return scale;
}

// Turns a similarity tile (rows i0.., cols j0..) into the gradient tile G in place. For queries that
// are their own references it forms H = G_IJ + (G_JI)ᵀ, so that dX = H·X needs one product.
template <class T>
void gradient_tile(const Problem<T>& p, const T* state, const T* scale, int64_t i0, int64_t rows, int64_t j0,
                   int64_t cols, T* tile) {
    for (int64_t ii = 0; ii < rows; ++ii) {
        const int64_t i = i0 + ii;
        T* row = tile + ii * cols;
        const T lp_i = state[2 * i], ln_i = state[2 * i + 1], scale_i = scale[i];
        for (int64_t jj = 0; jj < cols; ++jj) {
            const int64_t j = j0 + jj;
            const T s = row[jj];
            T g = math::pair_gradient(s, p.kind(i, j), lp_i, ln_i, scale_i, p.params);
            if (p.refs_are_queries) {
                // The same similarity seen from row j as the query and row i as the reference.
                g += math::pair_gradient(s, p.kind(j, i), state[2 * j], state[2 * j + 1], scale[j], p.params);
            }
            row[jj] = g;
        }
    }
}

template <class T>
void compute_gradients(ThreadPool& pool, const circleloss_gradient_output& out, const Problem<T>& p,
                       Scratch<T>& scratch, const T* state) {
    const std::vector<T> scale = row_scales(p, state);
    T* dx = static_cast<T*>(out.grad_embeddings);
    T* dr = static_cast<T*>(out.grad_ref_embeddings);

    // dX: each task owns a block of query rows and walks every column tile in order.
    pool.parallel_for(blocks(p.n, kRowBlock), [&](int64_t block, int slot) {
        const int64_t i0 = block * kRowBlock;
        const int64_t rows = std::min(kRowBlock, p.n - i0);
        T* tile = scratch.tile(slot);
        if (p.m == 0) {
            std::fill(dx + i0 * p.d, dx + (i0 + rows) * p.d, T(0));
            return;
        }
        for (int64_t j0 = 0; j0 < p.m; j0 += kColumnTile) {
            const int64_t cols = std::min(kColumnTile, p.m - j0);
            gemm_abt(rows, cols, p.d, p.x + i0 * p.d, p.r + j0 * p.d, tile);
            gradient_tile(p, state, scale.data(), i0, rows, j0, cols, tile);
            gemm_ab(rows, cols, p.d, tile, p.r + j0 * p.d, dx + i0 * p.d, j0 > 0);
        }
    });
    if (p.refs_are_queries) return;

    // dR: each task owns a tile of reference rows and walks every query block in order.
    pool.parallel_for(blocks(p.m, kColumnTile), [&](int64_t tile_index, int slot) {
        const int64_t j0 = tile_index * kColumnTile;
        const int64_t cols = std::min(kColumnTile, p.m - j0);
        T* tile = scratch.tile(slot);
        if (p.n == 0) {
            std::fill(dr + j0 * p.d, dr + (j0 + cols) * p.d, T(0));
            return;
        }
        for (int64_t i0 = 0; i0 < p.n; i0 += kRowBlock) {
            const int64_t rows = std::min(kRowBlock, p.n - i0);
            gemm_abt(rows, cols, p.d, p.x + i0 * p.d, p.r + j0 * p.d, tile);
            gradient_tile(p, state, scale.data(), i0, rows, j0, cols, tile);
            gemm_atb(rows, cols, p.d, tile, p.x + i0 * p.d, dr + j0 * p.d, i0 > 0);
        }
    });
}

template <class T>
void check_workspace(uint64_t limit, uint64_t needed) {
    if (needed > limit) {
        fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY, "the CPU backend needs " + std::to_string(needed) +
                                                  " bytes of workspace; the session's limit is " +
                                                  std::to_string(limit) + " bytes");
    }
}

template <class T>
void run_forward(ThreadPool& pool, uint64_t limit, const circleloss_forward_output& out, const Problem<T>& p) {
    const int participants = ThreadPool::participants_for(pool.num_threads(), blocks(p.n, kRowBlock));
    check_workspace<T>(limit, tile_scratch_bytes<T>(participants) + static_cast<uint64_t>(2 * p.n) * sizeof(T));
    std::vector<T> state(static_cast<size_t>(2 * p.n));
    Scratch<T> scratch(participants);
    compute_state(pool, p, scratch, state.data());
    write_forward_outputs(out, p, state.data());
}

template <class T>
void run_backward(ThreadPool& pool, uint64_t limit, const circleloss_gradient_output& out, const Problem<T>& p,
                  const T* state) {
    const int64_t tasks = std::max(blocks(p.n, kRowBlock), blocks(p.m, kColumnTile));
    const int participants = ThreadPool::participants_for(pool.num_threads(), tasks);
    check_workspace<T>(limit, tile_scratch_bytes<T>(participants) + static_cast<uint64_t>(p.n) * sizeof(T));
    Scratch<T> scratch(participants);
    compute_gradients(pool, out, p, scratch, state);
}

template <class T>
void run_forward_backward(ThreadPool& pool, uint64_t limit, const circleloss_forward_output& fwd,
                          const circleloss_gradient_output& grad, const Problem<T>& p) {
    const int64_t tasks = std::max(blocks(p.n, kRowBlock), blocks(p.m, kColumnTile));
    const int participants = ThreadPool::participants_for(pool.num_threads(), tasks);
    check_workspace<T>(limit, tile_scratch_bytes<T>(participants) + static_cast<uint64_t>(3 * p.n) * sizeof(T));
    std::vector<T> state(static_cast<size_t>(2 * p.n));
    Scratch<T> scratch(participants);
    compute_state(pool, p, scratch, state.data());
    // Gradients first: if they fail (they cannot, once memory is held) the forward outputs stay untouched.
    compute_gradients(pool, grad, p, scratch, state.data());
    write_forward_outputs(fwd, p, state.data());
}

}  // namespace

CpuBackend::CpuBackend(int num_threads, uint64_t workspace_limit_bytes)
    : pool_(num_threads > 0 ? num_threads : default_num_threads()), workspace_limit_bytes_(workspace_limit_bytes) {
    configure_openblas_once();
}

int CpuBackend::default_num_threads() {
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

std::string CpuBackend::gemm_and_cpu_description() {
    std::string features;
    __builtin_cpu_init();
    const struct {
        const char* name;
        bool present;
    } isa[] = {{"sse4.2", __builtin_cpu_supports("sse4.2") != 0}, {"avx", __builtin_cpu_supports("avx") != 0},
               {"avx2", __builtin_cpu_supports("avx2") != 0},     {"fma", __builtin_cpu_supports("fma") != 0},
               {"avx512f", __builtin_cpu_supports("avx512f") != 0}};
    for (const auto& f : isa) {
        if (!f.present) continue;
        if (!features.empty()) features += ' ';
        features += f.name;
    }
    std::string config = openblas_get_config();
    while (!config.empty() && config.back() == ' ') config.pop_back();
    return "GEMM: " + config + ", kernel " + openblas_get_corename() + "; CPU features: " +
           (features.empty() ? std::string("baseline x86-64") : features);
}

std::string CpuBackend::describe() const {
    return "CPU backend, " + std::to_string(num_threads()) + " thread(s); " + gemm_and_cpu_description();
}

void CpuBackend::forward(const circleloss_forward_output& output, const ResolvedOptions& options,
                         const ResolvedProblem& problem) {
    if (problem.dtype == CIRCLELOSS_DTYPE_FLOAT32) {
        run_forward(pool_, workspace_limit_bytes_, output, typed<float>(problem, options));
    } else {
        run_forward(pool_, workspace_limit_bytes_, output, typed<double>(problem, options));
    }
}

void CpuBackend::backward(const circleloss_gradient_output& output, const ResolvedOptions& options,
                          const ResolvedProblem& problem, const void* saved_state) {
    if (problem.dtype == CIRCLELOSS_DTYPE_FLOAT32) {
        run_backward(pool_, workspace_limit_bytes_, output, typed<float>(problem, options),
                     static_cast<const float*>(saved_state));
    } else {
        run_backward(pool_, workspace_limit_bytes_, output, typed<double>(problem, options),
                     static_cast<const double*>(saved_state));
    }
}

void CpuBackend::forward_backward(const circleloss_forward_output& forward_output,
                                  const circleloss_gradient_output& gradient_output, const ResolvedOptions& options,
                                  const ResolvedProblem& problem) {
    if (problem.dtype == CIRCLELOSS_DTYPE_FLOAT32) {
        run_forward_backward(pool_, workspace_limit_bytes_, forward_output, gradient_output,
                             typed<float>(problem, options));
    } else {
        run_forward_backward(pool_, workspace_limit_bytes_, forward_output, gradient_output,
                             typed<double>(problem, options));
    }
}

}  // namespace cpu
}  // namespace circleloss
