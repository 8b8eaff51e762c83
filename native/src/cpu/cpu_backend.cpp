#include "cpu/cpu_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "errors.h"
#include "cpu/gemm.h"
#include "cpu/phase_timers.h"
#include "cpu/row_kernels.h"
#include "cpu/streamed_passes.h"
#include "cpu/typed_problem.h"
#include "math/circle_math.h"
#include "platform/platform.h"

namespace circleloss {
namespace cpu {
namespace {

// ---- similarities ----------------------------------------------------------------------------------

// S = X Rᵀ (n×m, row-major). For self-similarity only the upper panels are computed and ever read:
// panel I (rows i0..i0+256) covers columns i0..n, so its diagonal block is whole.
template <class T, class L>
void similarity_matrix(const Workers& pool, const Problem<T, L>& p, T* s) {
    if (p.n == 0 || p.m == 0) return;
    const int64_t panels = blocks(p.n, kPanelRows);
    if (!p.refs_are_queries) {
        pool.parallel_for(panels, [&](int64_t panel, int) {
            const int64_t i0 = panel * kPanelRows, rows = std::min(kPanelRows, p.n - i0);
            gemm(false, true, rows, p.m, p.d, p.x + i0 * p.d, p.d, p.r, p.d, s + i0 * p.m, p.m, false);
        });
        return;
    }
    pool.parallel_for(panels, [&](int64_t panel, int) {
        const int64_t i0 = panel * kPanelRows, rows = std::min(kPanelRows, p.n - i0);
        gemm(false, true, rows, p.n - i0, p.d, p.x + i0 * p.d, p.d, p.x + i0 * p.d, p.d, s + i0 * p.m + i0, p.m, false);
    });
}

// ---- forward ---------------------------------------------------------------------------------------

// Self-similarity from the upper panels alone. Row i's logits are its own panel's segment (columns
// i0..n) plus column i of every panel above. The panels' rows are merged row-wise and, for the columns
// right of each diagonal block, column-wise into a partial per (panel, column); each row then merges
// its partials in panel order. How the work is cut into tasks changes no result: every row and every
// (panel, column) partial is accumulated by one task, in a fixed order.
template <class T, class L>
void row_stats_symmetric(const Workers& pool, const Problem<T, L>& p, const T* s, Scratch<T>& scratch, RowStats<T>& stats) {
    const int64_t panels = blocks(p.n, kPanelRows);
    std::vector<OnlineLse<T>> row_pos(static_cast<size_t>(p.n), math::lse_empty<T>());
    std::vector<OnlineLse<T>> row_neg(static_cast<size_t>(p.n), math::lse_empty<T>());
    std::vector<OnlineLse<T>> col_pos(static_cast<size_t>(panels * p.n), math::lse_empty<T>());
    std::vector<OnlineLse<T>> col_neg(static_cast<size_t>(panels * p.n), math::lse_empty<T>());
    // A task: rows [begin, end) of a panel row-wise, then its column blocks [first_block, last_block).
    struct Task {
        int64_t panel, begin, end, first_block, last_block;
    };
    std::vector<Task> tasks;
    // Enough panels for the threads: a task per panel (its rows and columns stay in one thread's cache).
    // Too few (small n): tasks of 64 rows or one 512-column block, panel by panel, so all threads work.
    const bool whole_panels = panels >= 4 * pool.participants;
    for (int64_t panel = 0; panel < panels; ++panel) {
        const int64_t i0 = panel * kPanelRows, rows = std::min(kPanelRows, p.n - i0);
        const int64_t column_blocks = blocks(p.n - i0 - rows, kColumnBlock);
        if (whole_panels) {
            tasks.push_back({panel, i0, i0 + rows, 0, column_blocks});
            continue;
        }
        for (int64_t i = i0; i < i0 + rows; i += kRowBlock) tasks.push_back({panel, i, std::min(i + kRowBlock, i0 + rows), 0, 0});
        for (int64_t b = 0; b < column_blocks; ++b) tasks.push_back({panel, 0, 0, b, b + 1});
    }
    pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t index, int slot) {
        const Task& task = tasks[static_cast<size_t>(index)];
        const int64_t i0 = task.panel * kPanelRows, rows = std::min(kPanelRows, p.n - i0);
        for (int64_t i = task.begin; i < task.end; ++i) {
            accumulate_row_lse(p.segment(i, s + i * p.m + i0, i0, p.n - i0), p.params, scratch.get(slot),
                               row_pos[static_cast<size_t>(i)], row_neg[static_cast<size_t>(i)]);
        }
        for (int64_t b = task.first_block; b < task.last_block; ++b) {
            const int64_t j0 = i0 + rows + b * kColumnBlock, cols = std::min(kColumnBlock, p.n - j0);
            const size_t at = static_cast<size_t>(task.panel * p.n + j0);
            accumulate_column_lse(s + i0 * p.m + j0, rows, cols, p.m, p.ry + i0, p.y + j0, p.params, scratch.get(slot),
                                  col_pos.data() + at, col_neg.data() + at);
        }
    });
    pool.parallel_for(blocks(p.n, kRowBlock), [&](int64_t block, int) {
        const int64_t begin = block * kRowBlock, end = std::min(p.n, begin + kRowBlock);
        for (int64_t j = begin; j < end; ++j) {
            OnlineLse<T> pos = row_pos[static_cast<size_t>(j)], neg = row_neg[static_cast<size_t>(j)];
            for (int64_t panel = 0; panel < j / kPanelRows; ++panel) {
                pos = math::lse_merge(pos, col_pos[static_cast<size_t>(panel * p.n + j)]);
                neg = math::lse_merge(neg, col_neg[static_cast<size_t>(panel * p.n + j)]);
            }
            stats.finish(j, pos, neg);
        }
    });
}

template <class T, class L>
void row_stats_materialised(const Workers& pool, const Problem<T, L>& p, const T* s, Scratch<T>& scratch, RowStats<T>& stats) {
    if (p.refs_are_queries) {
        row_stats_symmetric(pool, p, s, scratch, stats);
        return;
    }
    pool.parallel_for(blocks(p.n, kRowBlock), [&](int64_t block, int slot) {
        const int64_t i0 = block * kRowBlock, rows = std::min(kRowBlock, p.n - i0);
        for (int64_t i = i0; i < i0 + rows; ++i) {
            OnlineLse<T> pos = math::lse_empty<T>(), neg = math::lse_empty<T>();
            accumulate_row_lse(p.segment(i, s + i * p.m, 0, p.m), p.params, scratch.get(slot), pos, neg);
            stats.finish(i, pos, neg);
        }
    });
}

// Per-row loss, mask and the reduced loss; writes the forward outputs.
template <class T, class L>
void write_forward_outputs(const circleloss_forward_output& out, const Problem<T, L>& p, const RowStats<T>& stats) {
    T* loss = static_cast<T*>(out.loss);
    T* per_sample = static_cast<T*>(out.per_sample_loss);
    T* saved = static_cast<T*>(out.saved_state);
    double total = 0, valid_count = 0, valid_weight = 0;
    for (int64_t i = 0; i < p.n; ++i) {
        const T lp = stats.lp[static_cast<size_t>(i)], ln = stats.ln[static_cast<size_t>(i)];
        const math::RowLoss<T> row = math::row_loss(lp, ln);
        const T weighted = p.weight(i) * row.loss;  // reduction NONE's output
        if (per_sample) per_sample[i] = row.loss;
        if (out.mask) out.mask[i] = row.valid ? 1 : 0;
        if (saved) {
            saved[2 * i] = lp;
            saved[2 * i + 1] = ln;
        }
        if (p.reduction == math::kReduceNone) {
            loss[i] = weighted;
        } else if (row.valid) {
            total += math::weighted_row_loss(p.weight(i), row.loss);
            valid_count += 1;
            valid_weight += static_cast<double>(p.weight(i));
        }
    }
    if (p.reduction != math::kReduceNone) {
        const double own = math::reduction_divisor(p.reduction, valid_count, valid_weight);
        loss[0] = static_cast<T>(math::reduced_loss(total, math::call_divisor(own, p.supplied_divisor)));
        if (out.reduction_terms) {
            out.reduction_terms[0] = total;
            out.reduction_terms[1] = own;
        }
    }
}

// ---- backward --------------------------------------------------------------------------------------

// scale_i = c_i · upstream · sigma(LP_i + LN_i): every pair of row i shares it.
template <class T, class L>
void compute_scales(const Problem<T, L>& p, RowStats<T>& stats) {
    stats.scale.assign(static_cast<size_t>(p.n), T(0));
    std::vector<char> valid(static_cast<size_t>(p.n));
    double valid_count = 0, valid_weight = 0;
    for (int64_t i = 0; i < p.n; ++i) {
        valid[static_cast<size_t>(i)] = math::row_loss(stats.lp[static_cast<size_t>(i)], stats.ln[static_cast<size_t>(i)]).valid;
        if (valid[static_cast<size_t>(i)]) {
            valid_count += 1;
            valid_weight += static_cast<double>(p.weight(i));
        }
    }
    const double divisor =
        math::call_divisor(math::reduction_divisor(p.reduction, valid_count, valid_weight), p.supplied_divisor);
    for (int64_t i = 0; i < p.n; ++i) {
        const bool v = valid[static_cast<size_t>(i)] != 0;
        const T upstream = p.upstream ? p.upstream[p.reduction == math::kReduceNone ? i : 0] : T(1);
        const T coefficient = math::row_coefficient(p.reduction, v, p.weight(i), upstream, divisor);
        stats.scale[static_cast<size_t>(i)] =
            math::row_gradient_scale(stats.lp[static_cast<size_t>(i)], stats.ln[static_cast<size_t>(i)], coefficient);
    }
}

template <class T, class L>
void gradients_materialised(const Workers& pool, const circleloss_gradient_output& out, const Problem<T, L>& p,
                            const RowStats<T>& stats, T* s) {
    T* dx = static_cast<T*>(out.grad_embeddings);
    T* dr = static_cast<T*>(out.grad_ref_embeddings);
    if (p.refs_are_queries) {
        // H is symmetric: form its upper panels only (row panel I over columns i0..n, so the diagonal
        // block is whole), then dX_I = H[I, i0:]·X[i0:] + H[:i0, I]ᵀ·X[:i0], reading the part left of
        // the diagonal block from the panels above. No lower triangle is ever written.
        {
            CIRCLELOSS_PHASE(kGradientCoefficients);
            // 64 rows a task (a row's segment starts at its panel's diagonal block).
            pool.parallel_for(blocks(p.n, kRowBlock), [&](int64_t block, int) {
                const int64_t begin = block * kRowBlock, end = std::min(p.n, begin + kRowBlock);
                const int64_t i0 = begin / kPanelRows * kPanelRows;
                for (int64_t i = begin; i < end; ++i) gradient_row(p, stats, i, s + i * p.m + i0, i0, p.n - i0);
            });
        }
        CIRCLELOSS_PHASE(kGradientProducts);
        pool.parallel_for(blocks(p.n, kPanelRows), [&](int64_t panel, int) {
            const int64_t i0 = panel * kPanelRows, rows = std::min(kPanelRows, p.n - i0);
            gemm(false, false, rows, p.d, p.n - i0, s + i0 * p.m + i0, p.m, p.x + i0 * p.d, p.d, dx + i0 * p.d, p.d,
                 false);
            if (i0 > 0) gemm(true, false, rows, p.d, i0, s + i0, p.m, p.x, p.d, dx + i0 * p.d, p.d, true);
        });
        return;
    }
    {
        CIRCLELOSS_PHASE(kGradientCoefficients);
        pool.parallel_for(blocks(p.n, kRowBlock), [&](int64_t block, int) {
            const int64_t i0 = block * kRowBlock, rows = std::min(kRowBlock, p.n - i0);
            for (int64_t i = i0; i < i0 + rows; ++i) gradient_row(p, stats, i, s + i * p.m, 0, p.m);
        });
    }
    CIRCLELOSS_PHASE(kGradientProducts);
    pool.parallel_for(blocks(p.n, kPanelRows), [&](int64_t block, int) {
        const int64_t i0 = block * kPanelRows, rows = std::min(kPanelRows, p.n - i0);
        if (p.m == 0) {
            std::fill(dx + i0 * p.d, dx + (i0 + rows) * p.d, T(0));
            return;
        }
        gemm(false, false, rows, p.d, p.m, s + i0 * p.m, p.m, p.r, p.d, dx + i0 * p.d, p.d, false);
    });
    pool.parallel_for(blocks(p.m, kPanelRows), [&](int64_t block, int) {
        const int64_t j0 = block * kPanelRows, cols = std::min(kPanelRows, p.m - j0);
        if (p.n == 0) {
            std::fill(dr + j0 * p.d, dr + (j0 + cols) * p.d, T(0));
            return;
        }
        gemm(true, false, cols, p.d, p.n, s + j0, p.m, p.x, p.d, dr + j0 * p.d, p.d, false);
    });
}

// ---- the three calls -------------------------------------------------------------------------------

template <class T>
struct Work {
    Budget<T> budget;
    BufferCache::Lease matrix_buffer;  // materialised plan: n×m similarities
    Scratch<T> scratch;
    RowStats<T> stats;
    template <class L>
    Work(const Problem<T, L>& p, int threads, uint64_t limit, PlanPolicy policy, BufferCache& cache)
        : budget(plan_for(p, threads, limit, policy)),
          matrix_buffer(cache.acquire(budget.plan == Plan::Materialised ? static_cast<size_t>(p.n * p.m) * sizeof(T) : 0)),
          scratch(cache, budget.participants, budget.plan == Plan::Materialised
                                           ? static_cast<size_t>(std::max<int64_t>(p.m, 4 * kColumnBlock))
                                           : static_cast<size_t>((kRowBlock + 1) * kColumnTile)),
          stats(p.n) {}
    bool materialised() const { return budget.plan == Plan::Materialised; }
    T* matrix() const { return static_cast<T*>(matrix_buffer.data()); }
};

template <class T, class L>
Work<T> make_work(ThreadPool& pool, uint64_t limit, PlanPolicy policy, BufferCache& cache, const Problem<T, L>& p) {
    CIRCLELOSS_PHASE(kSetup);
    return Work<T>(p, pool.num_threads(), limit, policy, cache);
}

template <class T, class L>
void similarities(const Workers& pool, const Problem<T, L>& p, Work<T>& w) {
    CIRCLELOSS_PHASE(kSimilarities);
    similarity_matrix(pool, p, w.matrix());
}

template <class T, class L>
void compute_stats(const Workers& pool, const Problem<T, L>& p, Work<T>& w) {
    if (w.materialised()) {
        similarities(pool, p, w);
        CIRCLELOSS_PHASE(kRowStatistics);
        row_stats_materialised(pool, p, w.matrix(), w.scratch, w.stats);
    } else {
        CIRCLELOSS_PHASE(kStreamedStatistics);
        row_stats_streamed(pool, p, w.scratch, w.stats);
    }
}

template <class T, class L>
void compute_gradients(const Workers& pool, const circleloss_gradient_output& out, const Problem<T, L>& p, Work<T>& w,
                       bool similarities_ready) {
    {
        CIRCLELOSS_PHASE(kScales);
        compute_scales(p, w.stats);
    }
    if (w.materialised()) {
        if (!similarities_ready) similarities(pool, p, w);
        gradients_materialised(pool, out, p, w.stats, w.matrix());
    } else {
        CIRCLELOSS_PHASE(kStreamedGradients);
        if (w.budget.dx_partitions > 0 && p.n > 0) {
            gradients_streamed_one_pass(pool, out, p, w.stats, w.scratch, w.budget.dx_partitions);
        } else {
            gradients_streamed(pool, out, p, w.stats, w.scratch);
        }
    }
}

template <class T, class L>
void run_forward(ThreadPool& pool, uint64_t limit, PlanPolicy policy, BufferCache& cache, const circleloss_forward_output& out, const Problem<T, L>& p) {
    Work<T> w = make_work(pool, limit, policy, cache, p);
    const Workers workers{pool, w.budget.participants};
    compute_stats(workers, p, w);
    CIRCLELOSS_PHASE(kForwardOutputs);
    write_forward_outputs(out, p, w.stats);
}

template <class T, class L>
void run_backward(ThreadPool& pool, uint64_t limit, PlanPolicy policy, BufferCache& cache, const circleloss_gradient_output& out, const Problem<T, L>& p,
                  const T* state) {
    Work<T> w = make_work(pool, limit, policy, cache, p);
    for (int64_t i = 0; i < p.n; ++i) {
        w.stats.lp[static_cast<size_t>(i)] = state[2 * i];
        w.stats.ln[static_cast<size_t>(i)] = state[2 * i + 1];
    }
    compute_gradients(Workers{pool, w.budget.participants}, out, p, w, false);
}

template <class T, class L>
void run_forward_backward(ThreadPool& pool, uint64_t limit, PlanPolicy policy, BufferCache& cache, const circleloss_forward_output& fwd,
                          const circleloss_gradient_output& grad, const Problem<T, L>& p) {
    Work<T> w = make_work(pool, limit, policy, cache, p);
    const Workers workers{pool, w.budget.participants};
    compute_stats(workers, p, w);
    compute_gradients(workers, grad, p, w, true);
    CIRCLELOSS_PHASE(kForwardOutputs);
    write_forward_outputs(fwd, p, w.stats);
}

}  // namespace


CpuBackend::CpuBackend(int num_threads, uint64_t workspace_limit_bytes)
    : pool_(num_threads > 0 ? num_threads : default_num_threads()),
      workspace_limit_bytes_(workspace_limit_bytes),
      plan_policy_(plan_policy_from_environment()) {
    use_single_threaded_gemm();
}

PlanPolicy CpuBackend::plan_policy_from_environment() {
    const char* value = std::getenv("CIRCLELOSS_CPU_PLAN");
    if (!value || !*value || std::strcmp(value, "auto") == 0) return PlanPolicy::Auto;
    // "materialise" is what auto does since the matrix is kept whenever it fits (kept for scripts and tests).
    if (std::strcmp(value, "materialise") == 0) return PlanPolicy::Auto;
    if (std::strcmp(value, "stream") == 0) return PlanPolicy::Stream;
    fail(CIRCLELOSS_STATUS_INVALID_ARGUMENT, std::string("CIRCLELOSS_CPU_PLAN must be auto, materialise or stream (got '") +
                                                 value + "')");
}

int CpuBackend::default_num_threads() {
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

std::string CpuBackend::gemm_and_cpu_description() {
    return "GEMM: " + gemm_description() + "; CPU features: " + platform::cpu_features();
}

std::string CpuBackend::describe() const {
    return "CPU backend, " + std::to_string(num_threads()) + " thread(s); " + gemm_and_cpu_description();
}

namespace {

// Calls f with the problem typed by its element type and label type.
template <class F>
void with_typed(const ResolvedProblem& p, const ResolvedOptions& o, F&& f) {
    const bool wide_labels = p.label_type == CIRCLELOSS_LABELS_INT64;
    if (p.dtype == CIRCLELOSS_DTYPE_FLOAT32) {
        if (wide_labels) f(typed<float, int64_t>(p, o));
        else f(typed<float, int32_t>(p, o));
    } else {
        if (wide_labels) f(typed<double, int64_t>(p, o));
        else f(typed<double, int32_t>(p, o));
    }
}

}  // namespace

void CpuBackend::forward(const circleloss_forward_output& output, const ResolvedOptions& options,
                         const ResolvedProblem& problem) {
    with_typed(problem, options, [&](const auto& p) {
        run_forward(pool_, workspace_limit_bytes_, plan_policy_, buffers_, output, p);
    });
}

void CpuBackend::backward(const circleloss_gradient_output& output, const ResolvedOptions& options,
                          const ResolvedProblem& problem, const void* saved_state) {
    with_typed(problem, options, [&](const auto& p) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(p.x)>>;
        run_backward(pool_, workspace_limit_bytes_, plan_policy_, buffers_, output, p, static_cast<const T*>(saved_state));
    });
}

void CpuBackend::forward_backward(const circleloss_forward_output& forward_output,
                                  const circleloss_gradient_output& gradient_output, const ResolvedOptions& options,
                                  const ResolvedProblem& problem) {
    with_typed(problem, options, [&](const auto& p) {
        run_forward_backward(pool_, workspace_limit_bytes_, plan_policy_, buffers_, forward_output, gradient_output, p);
    });
}

}  // namespace cpu
}  // namespace circleloss
