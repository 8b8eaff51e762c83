#include "cpu/row_kernels.h"

namespace circleloss {
namespace cpu {
namespace {

using math::Params;

// The loops are written select-only (no branches, no libm calls) so that GCC vectorises them; the
// `omp simd` reductions (enabled by -fopenmp-simd, no OpenMP runtime) allow reordering the max/sum.
// The loops read the parameters and per-row states from local copies: the stores to the output or scratch
// (T*) could alias a T field of a struct passed by reference, and the compiler would reload them each
// iteration. The row statistics handle the removed diagonal outside their vector loops, which then test
// no column index (the gradients keep the test in the loop: a second call site of the pair gradient
// outside it made GCC stop inlining it, and the loop was no longer vectorised).

// Pass 1 of a row segment over columns [begin, end) with no diagonal in it: logits into scratch, maxima.
template <class T, class L>
inline __attribute__((always_inline)) void row_logits_and_maxima(const T* s, const L* labels, L label, int64_t begin,
                                                                 int64_t end, const Params<T>& p, T* scratch,
                                                                 T& max_pos, T& max_neg) {
    T mp = max_pos;
    T mn = max_neg;
#pragma omp simd reduction(max : mp, mn)
    for (int64_t j = begin; j < end; ++j) {
        const bool same = labels[j] == label;
        const T logit = same ? math::positive_logit(s[j], p) : math::negative_logit(s[j], p);
        scratch[j] = logit;
        mp = same ? math::cl_max(mp, logit) : mp;
        mn = !same ? math::cl_max(mn, logit) : mn;
    }
    max_pos = mp;
    max_neg = mn;
}

template <class T, class L>
inline __attribute__((always_inline)) void accumulate_row_lse_impl(const RowSegment<T, L>& row, const Params<T>& params,
                                                                   T* scratch, math::OnlineLse<T>& positives,
                                                                   math::OnlineLse<T>& negatives) {
    const Params<T> p = params;
    const T* s = row.s;
    const L* labels = row.ref_labels;
    const L label = row.query_label;
    const int64_t cols = row.cols;
    const int64_t diagonal = row.diagonal;
    T max_pos = math::neg_infinity<T>();
    T max_neg = math::neg_infinity<T>();
    if (diagonal < 0) {
        row_logits_and_maxima(s, labels, label, 0, cols, p, scratch, max_pos, max_neg);
    } else {
        // The diagonal pair is removed from the positives only: with the row's label it has logit -inf and
        // is in no maximum; with another label it is a negative like any other.
        row_logits_and_maxima(s, labels, label, 0, diagonal, p, scratch, max_pos, max_neg);
        const bool negative = !(labels[diagonal] == label);
        scratch[diagonal] = math::pair_logit(s[diagonal], false, negative, p);
        if (negative) max_neg = math::cl_max(max_neg, scratch[diagonal]);
        row_logits_and_maxima(s, labels, label, diagonal + 1, cols, p, scratch, max_pos, max_neg);
    }
    // Shifts that keep empty sets at exp(-inf) = 0 instead of exp(NaN).
    const T shift_pos = max_pos > math::neg_infinity<T>() ? max_pos : T(0);
    const T shift_neg = max_neg > math::neg_infinity<T>() ? max_neg : T(0);
    T sum_pos = 0;
    T sum_neg = 0;
#pragma omp simd reduction(+ : sum_pos, sum_neg)
    for (int64_t j = 0; j < cols; ++j) {
        const bool same = labels[j] == label;
        const T e = math::pair_exp(scratch[j] - (same ? shift_pos : shift_neg));
        sum_pos += same ? e : T(0);  // the removed diagonal has logit -inf: e = 0
        sum_neg += same ? T(0) : e;
    }
    positives = math::lse_merge(positives, math::OnlineLse<T>{max_pos, sum_pos});
    negatives = math::lse_merge(negatives, math::OnlineLse<T>{max_neg, sum_neg});
}

template <class T, class L>
inline __attribute__((always_inline)) void accumulate_column_lse_impl(const T* s, int64_t rows, int64_t cols, int64_t ld,
                                                                      const L* ref_labels, const L* query_labels, const Params<T>& params,
                                                                      T* scratch, math::OnlineLse<T>* positives,
                                                                      math::OnlineLse<T>* negatives) {
    const Params<T> p = params;
    // Structure-of-arrays scratch (contiguous per quantity, so every loop vectorises).
    T* max_pos = scratch;
    T* max_neg = scratch + cols;
    T* sum_pos = scratch + 2 * cols;
    T* sum_neg = scratch + 3 * cols;
    for (int64_t j = 0; j < cols; ++j) {
        max_pos[j] = max_neg[j] = math::neg_infinity<T>();
        sum_pos[j] = sum_neg[j] = T(0);
    }
    // Pass 1: column maxima, row by row so that every inner loop runs along a contiguous row.
    for (int64_t i = 0; i < rows; ++i) {
        const T* row = s + i * ld;
        const L ref_label = ref_labels[i];
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) {
            const bool same = query_labels[j] == ref_label;
            const T logit = same ? math::positive_logit(row[j], p) : math::negative_logit(row[j], p);
            max_pos[j] = same ? math::cl_max(max_pos[j], logit) : max_pos[j];
            max_neg[j] = same ? max_neg[j] : math::cl_max(max_neg[j], logit);
        }
    }
    for (int64_t j = 0; j < cols; ++j) {
        positives[j].max = max_pos[j];
        negatives[j].max = max_neg[j];
        // Shifts that keep empty sets at exp(-inf) = 0.
        max_pos[j] = max_pos[j] > math::neg_infinity<T>() ? max_pos[j] : T(0);
        max_neg[j] = max_neg[j] > math::neg_infinity<T>() ? max_neg[j] : T(0);
    }
    // Pass 2: the shifted sums.
    for (int64_t i = 0; i < rows; ++i) {
        const T* row = s + i * ld;
        const L ref_label = ref_labels[i];
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) {
            const bool same = query_labels[j] == ref_label;
            const T logit = same ? math::positive_logit(row[j], p) : math::negative_logit(row[j], p);
            const T e = math::pair_exp(logit - (same ? max_pos[j] : max_neg[j]));
            sum_pos[j] += same ? e : T(0);
            sum_neg[j] += same ? T(0) : e;
        }
    }
    for (int64_t j = 0; j < cols; ++j) {
        positives[j].sum = sum_pos[j];
        negatives[j].sum = sum_neg[j];
    }
}

template <class T, class L>
inline __attribute__((always_inline)) void row_gradient_impl(const RowSegment<T, L>& row, const RowState<T>& state,
                                                             const Params<T>& params, T* out) {
    const Params<T> p = params;
    const RowState<T> st = state;
    const T* s = row.s;
    const L* labels = row.ref_labels;
    const L label = row.query_label;
    const int64_t diagonal = row.diagonal;
#pragma omp simd
    for (int64_t j = 0; j < row.cols; ++j) {
        const bool same = labels[j] == label;
        out[j] = math::pair_gradient_flags(s[j], same && j != diagonal, !same, st.lp, st.ln, st.scale, p);
    }
}

template <class T, class L>
inline __attribute__((always_inline)) void row_gradient_symmetric_impl(const RowSegment<T, L>& row,
                                                                       const RowState<T>& state,
                                                                       const ColumnStates<T, L>& col,
                                                                       const Params<T>& params, T* out) {
    const Params<T> p = params;
    const RowState<T> st = state;
    const T* s = row.s;
    const L* labels = row.ref_labels;
    const L label = row.query_label;
    const L label_as_ref = col.query_as_ref_label;
    const T* col_lp = col.lp;
    const T* col_ln = col.ln;
    const T* col_scale = col.scale;
    const L* col_labels = col.query_labels;
    const int64_t diagonal = row.diagonal;
#pragma omp simd
    for (int64_t j = 0; j < row.cols; ++j) {
        const bool same = labels[j] == label;
        const T as_query = math::pair_gradient_flags(s[j], same && j != diagonal, !same, st.lp, st.ln, st.scale, p);
        const bool same_t = col_labels[j] == label_as_ref;
        const T as_ref =
            math::pair_gradient_flags(s[j], same_t && j != diagonal, !same_t, col_lp[j], col_ln[j], col_scale[j], p);
        out[j] = as_query + as_ref;
    }
}

}  // namespace

// How the kernels are built for several instruction sets (row_kernels.h):
//   Linux x86-64: cloned by GCC per ISA, the clone chosen at load time (ifunc);
//   Windows x86-64: PE has no ifunc, so CMake compiles this file once per x86-64 level into the namespace
//     CIRCLELOSS_ROW_KERNELS_ISA_NAMESPACE, and row_kernels_dispatch.cpp chooses at run time;
//   arm64: once, for the baseline (Advanced SIMD is part of ARMv8-A).
#if defined(CIRCLELOSS_ROW_KERNELS_ISA_NAMESPACE)
#define CIRCLELOSS_ISA_CLONES
namespace CIRCLELOSS_ROW_KERNELS_ISA_NAMESPACE {
#elif defined(__x86_64__) && defined(__ELF__)
#define CIRCLELOSS_ISA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CIRCLELOSS_ISA_CLONES
#endif

// The exported kernels: one set per element type and label type, each cloned per ISA.
#define CIRCLELOSS_DEFINE_ROW_KERNELS(T, L)                                                                          \
    CIRCLELOSS_ISA_CLONES void accumulate_row_lse(const RowSegment<T, L>& row, const Params<T>& params, T* scratch,   \
                                                  math::OnlineLse<T>& positives, math::OnlineLse<T>& negatives) {  \
        accumulate_row_lse_impl(row, params, scratch, positives, negatives);                                        \
    }                                                                                                                \
    CIRCLELOSS_ISA_CLONES void accumulate_column_lse(const T* s, int64_t rows, int64_t cols, int64_t ld,             \
                                                     const L* ref_labels, const L* query_labels,                     \
                                                     const Params<T>& params, T* scratch,                            \
                                                     math::OnlineLse<T>* positives, math::OnlineLse<T>* negatives) { \
        accumulate_column_lse_impl(s, rows, cols, ld, ref_labels, query_labels, params, scratch, positives,         \
                                   negatives);                                                                       \
    }                                                                                                                \
    CIRCLELOSS_ISA_CLONES void row_gradient(const RowSegment<T, L>& row, const RowState<T>& state,                   \
                                            const Params<T>& params, T* out) {                                       \
        row_gradient_impl(row, state, params, out);                                                                  \
    }                                                                                                                \
    CIRCLELOSS_ISA_CLONES void row_gradient_symmetric(const RowSegment<T, L>& row, const RowState<T>& state,         \
                                                      const ColumnStates<T, L>& columns, const Params<T>& params,    \
                                                      T* out) {                                                      \
        row_gradient_symmetric_impl(row, state, columns, params, out);                                               \
    }

CIRCLELOSS_DEFINE_ROW_KERNELS(float, int32_t)
CIRCLELOSS_DEFINE_ROW_KERNELS(float, int64_t)
CIRCLELOSS_DEFINE_ROW_KERNELS(double, int32_t)
CIRCLELOSS_DEFINE_ROW_KERNELS(double, int64_t)

#if defined(CIRCLELOSS_ROW_KERNELS_ISA_NAMESPACE)
}  // namespace CIRCLELOSS_ROW_KERNELS_ISA_NAMESPACE
#endif
}  // namespace cpu
}  // namespace circleloss
