// The per-row loops of the CPU backend: the shared per-pair math applied along one row segment of a
// similarity tile. Each is compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time
// (GCC function multi-versioning: x86-64-v4, x86-64-v3, baseline), so one shipped binary runs everywhere and is fast where it can be.
#pragma once

#include <cstdint>

#include "math/circle_math.h"

namespace circleloss {
namespace cpu {

// One row segment: similarities s[0..cols) of query i against references j0..j0+cols.
template <class T>
struct RowSegment {
    const T* s;
    int64_t cols;
    int32_t query_label;
    const int32_t* ref_labels;  // ref_labels[0..cols) of this segment
    int64_t diagonal;           // column (within the segment) where j == i and the diagonal is removed; -1 if none
};

// Merges the segment's positive and negative logits into the row's running log-sum-exps.
// `scratch` holds `cols` values.
void accumulate_row_lse(const RowSegment<float>& row, const math::Params<float>& params, float* scratch,
                        math::OnlineLse<float>& positives, math::OnlineLse<float>& negatives);
void accumulate_row_lse(const RowSegment<double>& row, const math::Params<double>& params, double* scratch,
                        math::OnlineLse<double>& positives, math::OnlineLse<double>& negatives);

// Column-wise twin of accumulate_row_lse for self-similarity's upper triangle: the block s (rows ×
// cols, leading dimension ld) seen from its columns as queries (labels query_labels[0..cols)) against
// its rows as references (labels ref_labels[0..rows)). Writes each column's log-sum-exp state into
// positives[j] / negatives[j]. The block must not contain the diagonal. `scratch` holds 4 * cols values.
void accumulate_column_lse(const float* s, int64_t rows, int64_t cols, int64_t ld, const int32_t* ref_labels,
                           const int32_t* query_labels, const math::Params<float>& params, float* scratch,
                           math::OnlineLse<float>* positives, math::OnlineLse<float>* negatives);
void accumulate_column_lse(const double* s, int64_t rows, int64_t cols, int64_t ld, const int32_t* ref_labels,
                           const int32_t* query_labels, const math::Params<double>& params, double* scratch,
                           math::OnlineLse<double>* positives, math::OnlineLse<double>* negatives);

// The row's per-query statistics needed for its gradient.
template <class T>
struct RowState {
    T lp;     // LP_i
    T ln;     // LN_i
    T scale;  // c_i * upstream * sigma(LP_i + LN_i)
};

// out[j] = G_ij for the segment (out may alias row.s).
void row_gradient(const RowSegment<float>& row, const RowState<float>& state, const math::Params<float>& params,
                  float* out);
void row_gradient(const RowSegment<double>& row, const RowState<double>& state, const math::Params<double>& params,
                  double* out);

// For queries that are their own references: out[j] = G_ij + G_ji, where G_ji is the same similarity
// seen from query j against reference i. `column_*` are the statistics and query labels of the
// segment's columns as queries; `query_as_ref_label` is ref_labels[i].
template <class T>
struct ColumnStates {
    const T* lp;
    const T* ln;
    const T* scale;
    const int32_t* query_labels;
    int32_t query_as_ref_label;
};
void row_gradient_symmetric(const RowSegment<float>& row, const RowState<float>& state,
                            const ColumnStates<float>& columns, const math::Params<float>& params, float* out);
void row_gradient_symmetric(const RowSegment<double>& row, const RowState<double>& state,
                            const ColumnStates<double>& columns, const math::Params<double>& params, double* out);

}  // namespace cpu
}  // namespace circleloss
