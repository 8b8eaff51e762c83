// circleloss_reduce_terms: the loss of a batch computed in parts (one call per process, say) from the
// summed reduction terms of its parts, with the division rule of math/circle_math.h, so that no layer
// above the library re-implements it.
#include <cmath>
#include <cstdio>
#include <string>

#include "circleloss/circleloss.h"
#include "errors.h"
#include "math/circle_math.h"

using namespace circleloss;

namespace {

std::string format_double(double v) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    return buffer;
}

}  // namespace

extern "C" {

CIRCLELOSS_API circleloss_status circleloss_reduce_terms(double* out_loss, double* out_divisor,
                                                        circleloss_reduction reduction, const double* summed_terms) {
    return guard(__func__, [&] {
        if (!out_loss) fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "out_loss", " must not be NULL");
        if (!out_divisor) fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "out_divisor", " must not be NULL");
        if (!summed_terms) fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "summed_terms", " must not be NULL");
        const int r = raw_enum(reduction);
        if (r == CIRCLELOSS_REDUCTION_NONE) {
            fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "reduction",
                          " NONE has no reduction terms: its loss is per row, and a part's rows are its own");
        }
        require_enum(reduction, CIRCLELOSS_REDUCTION_SUM, CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT, "reduction",
                     "circleloss_reduction");
        const char* names[CIRCLELOSS_REDUCTION_TERMS] = {"[0] (the weighted masked loss sum)", "[1] (the divisor)"};
        for (int k = 0; k < CIRCLELOSS_REDUCTION_TERMS; ++k) {
            if (!std::isfinite(summed_terms[k]) || summed_terms[k] < 0) {
                fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "summed_terms",
                              std::string(names[k]) + " must be finite and >= 0 (got " +
                                  format_double(summed_terms[k]) + ")");
            }
        }
        // SUM's parts each report their own divisor, 1; the batch's is 1 as well, not the number of parts.
        const double divisor = r == CIRCLELOSS_REDUCTION_SUM ? 1.0 : summed_terms[1];
        *out_loss = math::reduced_loss(summed_terms[0], divisor);
        *out_divisor = divisor;
    });
}

}  // extern "C"
