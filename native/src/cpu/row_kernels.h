// The per-row loops of the CPU backend: the shared per-pair math applied along one row segment of a
// similarity tile. On x86-64 each is compiled for AVX-512, AVX2 and baseline x86-64 and picked for the
// CPU (Linux: GCC function multi-versioning at load time; Windows: one build per level and a run-time
// choice, row_kernels_dispatch.cpp), so one shipped binary runs everywhere and is fast where it can be.
#pragma once

#include <cstdint>

#include "math/circle_math.h"

namespace circleloss {
namespace cpu {

// One row segment: similarities s[0..cols) of query i against references j0..j0+cols. L is the
// label type (int32_t or int64_t, circleloss_label_type).
template <class T, class L>
struct RowSegment {
    const T* s;
    int64_t cols;
    L query_label;
    const L* ref_labels;        // ref_labels[0..cols) of this segment
    int64_t diagonal;           // column (within the segment) where j == i and the diagonal is removed; -1 if none
};

// The row's per-query statistics needed for its gradient.
template <class T>
struct RowState {
    T lp;     // LP_i
    T ln;     // LN_i
    T scale;  // c_i * upstream * sigma(LP_i + LN_i)
};

// For queries that are their own references: the statistics and query labels of a segment's columns
// as queries; `query_as_ref_label` is ref_labels[i].
template <class T, class L>
struct ColumnStates {
    const T* lp;
    const T* ln;
    const T* scale;
    const L* query_labels;
    L query_as_ref_label;
};

// The kernels, for each element type T and label type L:
//
// accumulate_row_lse: merges the segment's positive and negative logits into the row's running
//   log-sum-exps. `scratch` holds `cols` values.
// accumulate_column_lse: column-wise twin of accumulate_row_lse for self-similarity's upper triangle:
//   the block s (rows × cols, leading dimension ld) seen from its columns as queries (labels
//   query_labels[0..cols)) against its rows as references (labels ref_labels[0..rows)). Writes each
//   column's log-sum-exp state into positives[j] / negatives[j]. The block must not contain the
//   diagonal. `scratch` holds 4 * cols values.
// row_gradient: out[j] = G_ij for the segment (out may alias row.s).
// row_gradient_symmetric: for queries that are their own references, out[j] = G_ij + G_ji, where G_ji
//   is the same similarity seen from query j against reference i.
// (Kept defined: row_kernels_dispatch.cpp declares each ISA's set with it.)
#define CIRCLELOSS_DECLARE_ROW_KERNELS(T, L)                                                                       \
    void accumulate_row_lse(const RowSegment<T, L>& row, const math::Params<T>& params, T* scratch,                \
                            math::OnlineLse<T>& positives, math::OnlineLse<T>& negatives);                         \
    void accumulate_column_lse(const T* s, int64_t rows, int64_t cols, int64_t ld, const L* ref_labels,           \
                               const L* query_labels, const math::Params<T>& params, T* scratch,                  \
                               math::OnlineLse<T>* positives, math::OnlineLse<T>* negatives);                     \
    void row_gradient(const RowSegment<T, L>& row, const RowState<T>& state, const math::Params<T>& params, T* out); \
    void row_gradient_symmetric(const RowSegment<T, L>& row, const RowState<T>& state,                            \
                                const ColumnStates<T, L>& columns, const math::Params<T>& params, T* out);

CIRCLELOSS_DECLARE_ROW_KERNELS(float, int32_t)
CIRCLELOSS_DECLARE_ROW_KERNELS(float, int64_t)
CIRCLELOSS_DECLARE_ROW_KERNELS(double, int32_t)
CIRCLELOSS_DECLARE_ROW_KERNELS(double, int64_t)

}  // namespace cpu
}  // namespace circleloss
