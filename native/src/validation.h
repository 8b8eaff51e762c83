// Argument checks for every entry point. The core validates everything it is given before any output
// is written, so a failed call leaves outputs untouched.
#pragma once

#include <cstdint>

#include "circleloss/circleloss.h"

namespace circleloss {

// Options in double precision, checked.
struct ResolvedOptions {
    double gamma;
    double margin;
    bool remove_diagonal;
    circleloss_reduction reduction;
    circleloss_gradient_mode gradient_mode;
    circleloss_options current;  // the caller's struct in this version's layout (what a provider reads)
};

// A problem with the reference defaults applied: ref_* point at the queries when not given.
struct ResolvedProblem {
    circleloss_dtype dtype;
    circleloss_memory memory;
    int64_t n;
    int64_t d;
    int64_t m;
    circleloss_label_type label_type;  // of labels and ref_labels
    const void* labels;
    const void* embeddings;
    const void* ref_labels;      // == labels when not given
    const void* ref_embeddings;  // == embeddings when not given
    bool refs_are_queries;       // ref_embeddings not given: gradients of both roles go to the queries
    const void* sample_weights;  // may be NULL
    const void* upstream;        // may be NULL
    int64_t loss_length;         // n for reduction NONE, else 1
    bool per_row_loss;           // reduction NONE: no divisor, no reduction terms
    int64_t diagonal_offset;     // remove_diagonal drops pair (i, i + diagonal_offset); 0 without ref_embeddings
    double reduction_divisor;    // > 0: the divisor of the scalar reductions (a batch's); 0: the call's own
    size_t element_size;
    circleloss_problem current;  // the caller's struct in this version's layout (what a provider reads)
};

// Every struct is read in this version's layout first: a caller's older, shorter layout gets the
// defaults for the fields it lacks (struct_layouts.h).
ResolvedOptions validate_options(const circleloss_options* options);

// Checks structure, sizes, null pointers and reference consistency (cheap: no array is read).
ResolvedProblem validate_problem(const circleloss_problem* problem, const ResolvedOptions& options);

// After every cheap check, outputs included: the options in the element type of the call (gamma and a
// non-zero margin normal numbers of it, no overflow for unit-norm embeddings; host and device memory),
// then for host memory the values: finite embeddings, finite non-negative weights, finite upstream when
// `check_upstream`, and magnitudes that cannot overflow the element type.
void validate_problem_values(const ResolvedProblem& problem, const ResolvedOptions& options, bool check_upstream);

// Outputs checked and returned in this version's layout.
circleloss_forward_output validate_forward_output(const circleloss_forward_output* output,
                                                  const ResolvedProblem& problem);
circleloss_gradient_output validate_gradient_output(const circleloss_gradient_output* output,
                                                    const ResolvedProblem& problem);

// Saved state from circleloss_forward: present, and for host memory no NaN and no +inf.
void validate_saved_state(const void* saved_state, const ResolvedProblem& problem);

// a * b, failing with SIZE_OVERFLOW (naming `what`) when it does not fit in int64.
int64_t checked_multiply(int64_t a, int64_t b, const char* what);

}  // namespace circleloss
