// Argument checks for every entry point. The core validates everything it is given before any output
// is written, so a failed call leaves outputs untouched.
#pragma once

#include <cstdint>

#include "circleloss/circleloss.h"
#include "provider_api.h"

namespace circleloss {

// A call as the core resolves it, once, for either backend (the C structs of provider_api.h).
using ResolvedOptions = circleloss_resolved_options;
using ResolvedProblem = circleloss_resolved_problem;

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
