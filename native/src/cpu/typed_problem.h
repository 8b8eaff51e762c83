// The typed view of a resolved problem that the CPU passes share: element type T and label type L, the
// per-row statistics, the per-thread scratch, and the plan (matrix kept or streamed, how many threads)
// within the workspace limit. Tile sizes are constants, so results never depend on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu_backend.h"
#include "cpu/row_kernels.h"
#include "errors.h"
#include "math/circle_math.h"

namespace circleloss {
namespace cpu {

using math::OnlineLse;
using math::Params;

// Tile sizes are constants, never derived from the thread count, so every output element is computed
// by the same sequence of operations whatever the number of threads: results are bitwise identical.
constexpr int64_t kRowBlock = 64;
constexpr int64_t kColumnTile = 1024;
// Row panel height of the materialised products: large enough for OpenBLAS to run near its peak in
// each single-threaded call, small enough to balance the panels over the threads.
constexpr int64_t kPanelRows = 256;
static_assert(kPanelRows % kRowBlock == 0, "row blocks never straddle two panels");
// Column block of the column-wise log-sum-exp: a 256 × 512 block stays in L2 for its two passes.
constexpr int64_t kColumnBlock = 512;

// A typed view of a validated problem: element type T, label type L.
template <class T, class L>
struct Problem {
    int64_t n, d, m;
    const T* x;
    const T* r;
    const L* y;
    const L* ry;
    const T* w;         // NULL: all ones
    const T* upstream;  // NULL: ones
    bool refs_are_queries;
    bool remove_diagonal;
    int64_t diagonal_offset;   // row i's diagonal pair is reference i + diagonal_offset
    int reduction;
    double supplied_divisor;   // > 0: the batch's divisor (problem->reduction_divisor); 0: the call's own
    Params<T> params;

    T weight(int64_t i) const { return w ? w[i] : T(1); }

    // Row i's similarities to references j0..j0+cols, stored at s.
    RowSegment<T, L> segment(int64_t i, const T* s, int64_t j0, int64_t cols) const {
        const int64_t j = i + diagonal_offset;  // validated: |offset| <= max(n, m), no overflow
        const int64_t diagonal = (remove_diagonal && j >= j0 && j < j0 + cols) ? j - j0 : -1;
        return RowSegment<T, L>{s, cols, y[i], ry + j0, diagonal};
    }
};

template <class T, class L>
Problem<T, L> typed(const ResolvedProblem& p, const ResolvedOptions& o) {
    Problem<T, L> t;
    t.n = p.n;
    t.d = p.d;
    t.m = p.m;
    t.x = static_cast<const T*>(p.embeddings);
    t.r = static_cast<const T*>(p.ref_embeddings);
    t.y = static_cast<const L*>(p.labels);
    t.ry = static_cast<const L*>(p.ref_labels);
    t.w = static_cast<const T*>(p.sample_weights);
    t.upstream = static_cast<const T*>(p.upstream);
    t.refs_are_queries = p.refs_are_queries;
    t.remove_diagonal = o.remove_diagonal;
    t.diagonal_offset = p.diagonal_offset;
    t.reduction = static_cast<int>(o.reduction);
    t.supplied_divisor = p.reduction_divisor;
    t.params.gamma = static_cast<T>(o.gamma);
    t.params.margin = static_cast<T>(o.margin);
    t.params.keras_gradient = o.gradient_mode == CIRCLELOSS_GRADIENT_KERAS ? 1 : 0;
    return t;
}

inline int64_t blocks(int64_t count, int64_t block) { return (count + block - 1) / block; }

// Per-row statistics: LP_i, LN_i, and (for backward) the gradient scale of each row.
template <class T>
struct RowStats {
    std::vector<T> lp, ln, scale;
    explicit RowStats(int64_t n) : lp(static_cast<size_t>(n)), ln(static_cast<size_t>(n)) {}
    RowState<T> row(int64_t i) const {
        return RowState<T>{lp[static_cast<size_t>(i)], ln[static_cast<size_t>(i)],
                           scale.empty() ? T(0) : scale[static_cast<size_t>(i)]};
    }
    template <class L>
    ColumnStates<T, L> columns(const Problem<T, L>& p, int64_t i, int64_t j0) const {
        return ColumnStates<T, L>{lp.data() + j0, ln.data() + j0, scale.data() + j0, p.y + j0, p.ry[i]};
    }
    // Row i's log-sum-exps from its merged running states.
    void finish(int64_t i, const OnlineLse<T>& pos, const OnlineLse<T>& neg) {
        lp[static_cast<size_t>(i)] = math::lse_value(pos);
        ln[static_cast<size_t>(i)] = math::lse_value(neg);
    }
};

// Turns similarities into gradient coefficients in place: G_ij, or for queries that are their own
// references H_ij = G_ij + G_ji (so that dX = H·X is one product).
template <class T, class L>
inline void gradient_row(const Problem<T, L>& p, const RowStats<T>& stats, int64_t i, T* s_row, int64_t j0, int64_t cols) {
    const RowSegment<T, L> seg = p.segment(i, s_row, j0, cols);
    if (p.refs_are_queries) {
        row_gradient_symmetric(seg, stats.row(i), stats.columns(p, i, j0), p.params, s_row);
    } else {
        row_gradient(seg, stats.row(i), p.params, s_row);
    }
}

// Per-participant scratch (uninitialised: every use writes before it reads), from the session's buffer
// cache, acquired before any output is written.
template <class T>
struct Scratch {
    BufferCache::Lease lease;
    size_t elements;
    Scratch(BufferCache& cache, int participants, size_t elements_per_participant)
        : lease(cache.acquire(static_cast<size_t>(participants) * elements_per_participant * sizeof(T))),
          elements(elements_per_participant) {}
    T* get(int slot) { return static_cast<T*>(lease.data()) + static_cast<size_t>(slot) * elements; }
};

// How a call is carried out: the whole n×m similarity matrix in memory when it fits the budget (one
// similarity product, the symmetric half of it for self-similarity), else streamed tile by tile.
enum class Plan { Materialised, Streamed };

template <class T>
struct Budget {
    Plan plan;
    int participants;
    int64_t dx_partitions;  // streamed, with references: >0 = one backward pass with partial dX sums
};

// The session's pool, limited to the participants that a call's workspace has scratch for.
struct Workers {
    ThreadPool& pool;
    int participants;
    void parallel_for(int64_t count, const std::function<void(int64_t, int)>& task) const {
        pool.parallel_for(count, participants, task);
    }
};

// The streamed backward with references walks column tiles in this many fixed partitions, each with
// its own dX accumulator, summed in order: deterministic whatever the thread count.
constexpr int64_t kReferencePartitions = 16;

// How many of `threads` participants fit: `shared` bytes once, `each` per participant (at least one).
inline int participants_within(int threads, uint64_t shared, uint64_t each, uint64_t limit) {
    const uint64_t fit = (limit - shared) / each;
    return static_cast<int>(std::max<uint64_t>(1, std::min<uint64_t>(static_cast<uint64_t>(threads), fit)));
}

// The whole matrix is kept whenever it fits the workspace limit (the session's WorkspaceLimitBytes,
// 1 GiB by default): one similarity product instead of two, the similarities read from memory rather
// than recomputed. Beyond the limit the call streams, and its memory no longer grows with n·m; a
// session that wants flat memory sets a smaller limit.
// The plan is chosen as if for one thread, so that it is a function of the problem and the limit only
// (the plans round differently, so a choice that followed the thread count would change the results);
// then as many of the session's threads take part as the limit has scratch for. A limit that fits one
// thread never fails: the call runs with fewer threads instead.
template <class T, class L>
Budget<T> plan_for(const Problem<T, L>& p, int threads, uint64_t limit, PlanPolicy policy) {
    const uint64_t row_bytes = static_cast<uint64_t>(p.m) * sizeof(T);
    const uint64_t state_bytes = static_cast<uint64_t>(3 * p.n) * sizeof(T);
    const uint64_t matrix = static_cast<uint64_t>(p.n) * row_bytes;
    // The matrix, a row (or four column blocks) of scratch per participant, and for self-similarity the
    // per-panel column log-sum-exps.
    const uint64_t row_scratch = std::max<uint64_t>(row_bytes, 4 * kColumnBlock * sizeof(T));
    const uint64_t panel_partials =
        p.refs_are_queries ? static_cast<uint64_t>(blocks(p.n, kPanelRows) * p.n) * 4 * sizeof(T) : 0;
    const uint64_t materialised_shared = matrix + state_bytes + panel_partials;
    if (policy == PlanPolicy::Auto && materialised_shared + row_scratch <= limit) {
        return {Plan::Materialised, participants_within(threads, materialised_shared, row_scratch, limit), 0};
    }
    const uint64_t tile_scratch = static_cast<uint64_t>(kRowBlock + 1) * kColumnTile * sizeof(T);
    if (state_bytes + tile_scratch > limit) {
        fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY, "the CPU backend needs at least " + std::to_string(state_bytes + tile_scratch) +
                                                  " bytes of workspace; the session's limit is " + std::to_string(limit) +
                                                  " bytes");
    }
    // One backward pass over the similarity tiles (S computed once for both dX and dR) needs a partial
    // dX per partition; without room for them, dX and dR take a pass each.
    int64_t partitions = 0;
    uint64_t streamed_shared = state_bytes;
    if (!p.refs_are_queries) {
        partitions = std::min<int64_t>(kReferencePartitions, blocks(p.m, kColumnTile));
        const uint64_t partials = static_cast<uint64_t>(partitions) * static_cast<uint64_t>(p.n * p.d) * sizeof(T);
        if (state_bytes + partials + tile_scratch > limit) {
            partitions = 0;
        } else {
            streamed_shared += partials;
        }
    }
    return {Plan::Streamed, participants_within(threads, streamed_shared, tile_scratch, limit), partitions};
}

}  // namespace cpu
}  // namespace circleloss
