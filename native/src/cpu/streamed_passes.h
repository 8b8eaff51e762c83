// The streamed plan's passes (typed_problem.h: Plan::Streamed): the similarity tiles are computed on the
// fly, once for the statistics and once more for the gradients, so memory does not grow with n·m.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu/gemm.h"
#include "cpu/typed_problem.h"
#include "math/circle_math.h"

namespace circleloss {
namespace cpu {

// Forward: each task owns a block of query rows and walks the column tiles, keeping an online
// log-sum-exp per row.
template <class T, class L>
inline void row_stats_streamed(const Workers& pool, const Problem<T, L>& p, Scratch<T>& scratch, RowStats<T>& stats) {
    pool.parallel_for(blocks(p.n, kRowBlock), [&](int64_t block, int slot) {
        const int64_t i0 = block * kRowBlock, rows = std::min(kRowBlock, p.n - i0);
        T* tile = scratch.get(slot);
        T* row_scratch = tile + kRowBlock * kColumnTile;
        std::vector<OnlineLse<T>> pos(static_cast<size_t>(rows), math::lse_empty<T>());
        std::vector<OnlineLse<T>> neg(static_cast<size_t>(rows), math::lse_empty<T>());
        for (int64_t j0 = 0; j0 < p.m; j0 += kColumnTile) {
            const int64_t cols = std::min(kColumnTile, p.m - j0);
            gemm(false, true, rows, cols, p.d, p.x + i0 * p.d, p.d, p.r + j0 * p.d, p.d, tile, cols, false);
            for (int64_t ii = 0; ii < rows; ++ii) {
                accumulate_row_lse(p.segment(i0 + ii, tile + ii * cols, j0, cols), p.params, row_scratch,
                                   pos[static_cast<size_t>(ii)], neg[static_cast<size_t>(ii)]);
            }
        }
        for (int64_t ii = 0; ii < rows; ++ii) stats.finish(i0 + ii, pos[static_cast<size_t>(ii)], neg[static_cast<size_t>(ii)]);
    });
}

// The streamed plans' gradient tile: recompute the similarities of rows i0.. against references j0..
// (rows × cols, dense), then turn them into G (or H) in place.
template <class T, class L>
inline void gradient_tile(const Problem<T, L>& p, const RowStats<T>& stats, int64_t i0, int64_t rows, int64_t j0,
                          int64_t cols, T* tile) {
    gemm(false, true, rows, cols, p.d, p.x + i0 * p.d, p.d, p.r + j0 * p.d, p.d, tile, cols, false);
    for (int64_t ii = 0; ii < rows; ++ii) gradient_row(p, stats, i0 + ii, tile + ii * cols, j0, cols);
}

// One side of the two-pass streamed backward: `references` false gives dX (a task per block of query rows,
// walking the column tiles), true gives dR (a task per column tile, walking the query blocks). Each task
// recomputes the gradient tiles of its block in order and multiplies them out into its rows of `grad`.
template <class T, class L>
inline void streamed_gradient_side(const Workers& pool, const Problem<T, L>& p, const RowStats<T>& stats,
                                   Scratch<T>& scratch, bool references, T* grad) {
    const int64_t owned = references ? p.m : p.n, walked = references ? p.n : p.m;
    const int64_t own_block = references ? kColumnTile : kRowBlock, walk_block = references ? kRowBlock : kColumnTile;
    pool.parallel_for(blocks(owned, own_block), [&](int64_t block, int slot) {
        const int64_t a0 = block * own_block, a_rows = std::min(own_block, owned - a0);
        T* tile = scratch.get(slot);
        if (walked == 0) {
            std::fill(grad + a0 * p.d, grad + (a0 + a_rows) * p.d, T(0));
            return;
        }
        for (int64_t b0 = 0; b0 < walked; b0 += walk_block) {
            const int64_t b_rows = std::min(walk_block, walked - b0);
            if (references) {  // the tile is b_rows queries × a_rows references: dR += tileᵀ·X
                gradient_tile(p, stats, b0, b_rows, a0, a_rows, tile);
                gemm(true, false, a_rows, p.d, b_rows, tile, a_rows, p.x + b0 * p.d, p.d, grad + a0 * p.d, p.d, b0 > 0);
            } else {  // the tile is a_rows queries × b_rows references: dX += tile·R
                gradient_tile(p, stats, a0, a_rows, b0, b_rows, tile);
                gemm(false, false, a_rows, p.d, b_rows, tile, b_rows, p.r + b0 * p.d, p.d, grad + a0 * p.d, p.d, b0 > 0);
            }
        }
    });
}

template <class T, class L>
inline void gradients_streamed(const Workers& pool, const circleloss_gradient_output& out, const Problem<T, L>& p,
                               const RowStats<T>& stats, Scratch<T>& scratch) {
    // dX: each task owns a block of query rows and walks every column tile in order; dR (with references):
    // each task owns a tile of reference rows and walks every query block in order.
    streamed_gradient_side(pool, p, stats, scratch, false, static_cast<T*>(out.grad_embeddings));
    if (!p.refs_are_queries) streamed_gradient_side(pool, p, stats, scratch, true, static_cast<T*>(out.grad_ref_embeddings));
}

// With references and room for partial sums: one pass. Partition k owns column tiles k, k+K, ...; for
// each it forms every G tile once and uses it twice: dR for its own tiles, dX into its partial sum.
template <class T, class L>
inline void gradients_streamed_one_pass(const Workers& pool, const circleloss_gradient_output& out,
                                        const Problem<T, L>& p, const RowStats<T>& stats, Scratch<T>& scratch,
                                        int64_t partitions) {
    T* dx = static_cast<T*>(out.grad_embeddings);
    T* dr = static_cast<T*>(out.grad_ref_embeddings);
    std::vector<T> partial(static_cast<size_t>(partitions * p.n * p.d), T(0));
    const int64_t tiles = blocks(p.m, kColumnTile);
    pool.parallel_for(partitions, [&](int64_t k, int slot) {
        T* tile = scratch.get(slot);
        T* acc = partial.data() + k * p.n * p.d;
        for (int64_t t = k; t < tiles; t += partitions) {
            const int64_t j0 = t * kColumnTile, cols = std::min(kColumnTile, p.m - j0);
            for (int64_t i0 = 0; i0 < p.n; i0 += kRowBlock) {
                const int64_t rows = std::min(kRowBlock, p.n - i0);
                gradient_tile(p, stats, i0, rows, j0, cols, tile);
                gemm(true, false, cols, p.d, rows, tile, cols, p.x + i0 * p.d, p.d, dr + j0 * p.d, p.d, i0 > 0);
                gemm(false, false, rows, p.d, cols, tile, cols, p.r + j0 * p.d, p.d, acc + i0 * p.d, p.d, true);
            }
        }
    });
    // dX = the partial sums added in partition order.
    pool.parallel_for(blocks(p.n, kRowBlock), [&](int64_t block, int) {
        const int64_t begin = block * kRowBlock * p.d, end = std::min(p.n, (block + 1) * kRowBlock) * p.d;
        for (int64_t e = begin; e < end; ++e) {
            T sum = partial[static_cast<size_t>(e)];
            for (int64_t k = 1; k < partitions; ++k) sum += partial[static_cast<size_t>(k * p.n * p.d + e)];
            dx[e] = sum;
        }
    });
}

}  // namespace cpu
}  // namespace circleloss
