// Windows x86-64: the row kernels (row_kernels.cpp) are compiled once per x86-64 level, each set in its
// own namespace; these definitions forward every call to the set for the CPU's level (x86_level.h).
// Linux does the same choice with GCC's target_clones and the loader's ifunc, which PE lacks.
#include "cpu/row_kernels.h"

#include "cpu/x86_level.h"

namespace circleloss {
namespace cpu {

#define CIRCLELOSS_DECLARE_ISA_ROW_KERNELS(isa)        \
    namespace isa {                                     \
    CIRCLELOSS_DECLARE_ROW_KERNELS(float, int32_t)      \
    CIRCLELOSS_DECLARE_ROW_KERNELS(float, int64_t)      \
    CIRCLELOSS_DECLARE_ROW_KERNELS(double, int32_t)     \
    CIRCLELOSS_DECLARE_ROW_KERNELS(double, int64_t)     \
    }
CIRCLELOSS_DECLARE_ISA_ROW_KERNELS(isa_x86_64)
CIRCLELOSS_DECLARE_ISA_ROW_KERNELS(isa_x86_64_v3)
CIRCLELOSS_DECLARE_ISA_ROW_KERNELS(isa_x86_64_v4)
#undef CIRCLELOSS_DECLARE_ISA_ROW_KERNELS

// Calls `kernel` from the namespace of the CPU's level (one predictable branch per row segment).
#define CIRCLELOSS_FORWARD_TO_LEVEL(kernel, ...)                                      \
    switch (x86_level()) {                                                            \
        case X86Level::V4: return isa_x86_64_v4::kernel(__VA_ARGS__);                 \
        case X86Level::V3: return isa_x86_64_v3::kernel(__VA_ARGS__);                 \
        default: return isa_x86_64::kernel(__VA_ARGS__);                              \
    }

#define CIRCLELOSS_DEFINE_DISPATCHED_ROW_KERNELS(T, L)                                                               \
    void accumulate_row_lse(const RowSegment<T, L>& row, const math::Params<T>& params, T* scratch,                  \
                            math::OnlineLse<T>& positives, math::OnlineLse<T>& negatives) {                          \
        CIRCLELOSS_FORWARD_TO_LEVEL(accumulate_row_lse, row, params, scratch, positives, negatives)                  \
    }                                                                                                                \
    void accumulate_column_lse(const T* s, int64_t rows, int64_t cols, int64_t ld, const L* ref_labels,             \
                               const L* query_labels, const math::Params<T>& params, T* scratch,                    \
                               math::OnlineLse<T>* positives, math::OnlineLse<T>* negatives) {                       \
        CIRCLELOSS_FORWARD_TO_LEVEL(accumulate_column_lse, s, rows, cols, ld, ref_labels, query_labels, params,      \
                                    scratch, positives, negatives)                                                   \
    }                                                                                                                \
    void row_gradient(const RowSegment<T, L>& row, const RowState<T>& state, const math::Params<T>& params, T* out) { \
        CIRCLELOSS_FORWARD_TO_LEVEL(row_gradient, row, state, params, out)                                           \
    }                                                                                                                \
    void row_gradient_symmetric(const RowSegment<T, L>& row, const RowState<T>& state,                              \
                                const ColumnStates<T, L>& columns, const math::Params<T>& params, T* out) {          \
        CIRCLELOSS_FORWARD_TO_LEVEL(row_gradient_symmetric, row, state, columns, params, out)                        \
    }

CIRCLELOSS_DEFINE_DISPATCHED_ROW_KERNELS(float, int32_t)
CIRCLELOSS_DEFINE_DISPATCHED_ROW_KERNELS(float, int64_t)
CIRCLELOSS_DEFINE_DISPATCHED_ROW_KERNELS(double, int32_t)
CIRCLELOSS_DEFINE_DISPATCHED_ROW_KERNELS(double, int64_t)

}  // namespace cpu
}  // namespace circleloss
