// The CUDA provider's kernels, as host-callable launchers (kernels.cu). Every kernel applies the shared
// per-pair and per-row math of math/circle_math.h unchanged; they differ from the CPU backend only in
// how the work is spread over threads. All reductions run in a fixed order (fixed launch shapes, tree
// merges, no floating-point atomics), so the same inputs give bitwise the same outputs on a given GPU.
#pragma once

#include <cuda_runtime_api.h>
#include <stdint.h>

#include "math/circle_math.h"

namespace circleloss {
namespace cuda {

// The running, max-shifted log-sum-exp of one query row over the reference tiles seen so far.
template <class T>
struct RowAccum {
    math::OnlineLse<T> pos;
    math::OnlineLse<T> neg;
};

// Which pairs are positives and negatives: query labels y (rows), reference labels ry (columns), both
// int64_t when `wide` (circleloss_label_type INT64), else int32_t.
struct PairLabels {
    const void* y;
    const void* ry;
    int wide;
    int remove_diagonal;
    int64_t diagonal_offset;  // pair (i, i + diagonal_offset) is the removed diagonal (problem->diagonal_offset)
};

// One tile of the similarity matrix: `rows` query rows from i0, `cols` reference rows from j0, stored
// row-major with leading dimension `cols`.
struct Tile {
    int64_t i0;
    int64_t j0;
    int64_t rows;
    int64_t cols;
};

// What a value check looks for.
enum BadValueRule : int {
    kBadNonFinite = 0,          // NaN or ±inf (embeddings, upstream)
    kBadNonFiniteOrNegative = 1,  // ... or < 0 (sample weights)
    kBadNanOrPositiveInf = 2    // NaN or +inf (saved state: -inf is an empty set)
};

// Sets every row's accumulator to the empty set.
template <class T>
cudaError_t launch_init_accum(RowAccum<T>* acc, int64_t n, cudaStream_t stream);

// Folds a similarity tile into the per-row accumulators of its rows (tile columns after the columns
// already seen, in order).
template <class T>
cudaError_t launch_lse_tile(const T* s, Tile tile, PairLabels labels, math::Params<T> params, RowAccum<T>* acc,
                            cudaStream_t stream);

// Per row: LP, LN into state[2i], state[2i+1]; optional per-sample loss, mask, and w_i·l_i (reduction NONE).
template <class T>
cudaError_t launch_finalize_forward(const RowAccum<T>* acc, int64_t n, const T* weights, T* state, T* per_sample,
                                    uint8_t* mask, T* weighted_loss, cudaStream_t stream);

// The scalar reduction from the state (one block, fixed order, accumulated in double): writes
// loss[0] when `loss` is not NULL, and into divisor[0] the divisor the call uses: `supplied_divisor`
// (problem->reduction_divisor) when > 0, else its own. When `terms` is not NULL, also the call's
// reduction terms: terms[0] = sum of w_i l_i mask_i, terms[1] = its own divisor.
template <class T>
cudaError_t launch_reduce(const T* state, const T* weights, int64_t n, int reduction, double supplied_divisor, T* loss,
                          double* divisor, double* terms, cudaStream_t stream);

// scale_i = row_gradient_scale(LP_i, LN_i, c_i · upstream) for every row.
template <class T>
cudaError_t launch_row_scale(const T* state, const T* weights, const T* upstream, int64_t n, int reduction,
                             const double* divisor, T* scale, cudaStream_t stream);

// Turns a similarity tile into the gradient tile in place: G_ij, or H_ij = G_ij + G_ji when the queries
// are their own references (`symmetric`).
template <class T>
cudaError_t launch_gradient_tile(T* s, Tile tile, PairLabels labels, bool symmetric, const T* state, const T* scale,
                                 math::Params<T> params, cudaStream_t stream);

// The smallest index i < count where data[i] breaks `rule`, min-ed into *first_bad (set it to
// UINT64_MAX before). Integer atomics only: the answer does not depend on timing.
template <class T>
cudaError_t launch_find_bad(const T* data, int64_t count, BadValueRule rule, unsigned long long* first_bad,
                            cudaStream_t stream);

}  // namespace cuda
}  // namespace circleloss
