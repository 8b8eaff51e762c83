#include "validation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdio>
#include <string>

#include "errors.h"
#include "struct_layouts.h"

namespace circleloss {
namespace {

std::string format_double(double v) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    return buffer;
}

// `argument` is the C name of what is checked; the message is the name followed by `rest`.
void require(bool condition, circleloss_status status, const char* argument, const std::string& rest) {
    if (!condition) fail_argument(status, argument, rest);
}

// Finds the first non-finite value of a rows×cols matrix; reports row and column.
template <class T>
double check_finite_matrix(const T* data, int64_t rows, int64_t cols, const char* name) {
    double largest = 0;
    for (int64_t i = 0; i < rows; ++i) {
        const T* row = data + i * cols;
        for (int64_t j = 0; j < cols; ++j) {
            largest = std::max(largest, std::fabs(static_cast<double>(row[j])));
            if (!std::isfinite(row[j])) {
                fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, std::string("problem->") + name,
                     " has a non-finite value (" +
                         format_double(static_cast<double>(row[j])) + ") at row " + std::to_string(i) +
                         ", column " + std::to_string(j));
            }
        }
    }
    return largest;
}

template <class T>
double check_weights(const T* w, int64_t n) {
    double largest = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(w[i]);
        largest = std::max(largest, v);
        if (!std::isfinite(v)) {
            fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->sample_weights", " has a non-finite value (" +
                                                         format_double(v) + ") at index " + std::to_string(i));
        }
        if (v < 0) {
            fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->sample_weights", " must be >= 0; index " +
                                                         std::to_string(i) + " is " + format_double(v));
        }
    }
    return largest;
}

template <class T>
double check_upstream(const T* u, int64_t count) {
    double largest = 0;
    for (int64_t i = 0; i < count; ++i) {
        largest = std::max(largest, std::fabs(static_cast<double>(u[i])));
        if (!std::isfinite(u[i])) {
            fail_argument(CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->upstream", " has a non-finite value (" +
                                                         format_double(static_cast<double>(u[i])) +
                                                         ") at index " + std::to_string(i));
        }
    }
    return largest;
}

template <class T>
const char* type_name() {
    return sizeof(T) == sizeof(float) ? "float32" : "float64";
}

// Finite inputs can still overflow the compute type: embeddings far from unit norm, or a gamma, margin
// or weight near the type's limit. These bounds cover every intermediate (the similarities and the
// squared distances as well as the logits) and every output (the loss, every gradient element) with a
// margin, for the gamma and margin as the call computes with them (rounded to T). `s_max` bounds
// |<x_i, r_j>|, `e_max` |x| and |r|. Unit-norm embeddings with any sensible gamma are far inside.
template <class T>
bool magnitudes_fit(const ResolvedOptions& o, int64_t n, int64_t m, double s_max, double e_max, double w_max,
                    double up_max) {
    const double limit = static_cast<double>(std::numeric_limits<T>::max()) / 1024.0;
    const double gamma = static_cast<double>(static_cast<T>(o.gamma));
    const double reach = std::fabs(static_cast<double>(static_cast<T>(o.margin))) + 2.0 + s_max;  // bounds |m ± d|, ...
    const double logit = gamma * reach * reach;
    const double rows = static_cast<double>(std::max<int64_t>(n, 1));
    // Each row's reduction coefficient is at most max(w) (NONE, SUM, SUM_OVER_BATCH_SIZE, MEAN) or at most 1
    // (MEAN_WITH_SAMPLE_WEIGHT: w_i / sum of the valid w, however small the weights are).
    const double coefficient = std::max(w_max, 1.0);
    const double loss = rows * coefficient * (2.0 * logit + std::log(static_cast<double>(m) + 1.0) + 1.0);
    const double gradient = rows * coefficient * up_max * 4.0 * gamma * reach * e_max;
    return reach * reach <= limit && logit <= limit && loss <= limit && gradient <= limit;
}

// Options valid in the precision the call computes in: gamma a normal number of T (not rounded to zero,
// a denormal or infinity), margin 0 or a normal number of T, and both small enough that no logit, loss
// or gradient can overflow T for unit-norm embeddings, unit weights and a unit upstream (host values
// are then checked against the same bound with their actual magnitudes; device values cannot be read).
template <class T>
void check_options_in_type(const ResolvedOptions& o, int64_t n, int64_t m) {
    const auto representable = [](double value, const char* name, bool zero_allowed) {
        const T t = static_cast<T>(value);
        if (std::isnormal(t) || (zero_allowed && value == 0)) return;
        const char* what = t == T(0) ? "zero" : std::isinf(t) ? "infinite" : "denormal";
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, std::string("options->") + name,
             " (" + format_double(value) + ") is " + what + " in " + type_name<T>() +
                 ", the precision of this call: it must be " + (zero_allowed ? "0 or " : "") + "a normal " +
                 type_name<T>() + " number, between " + format_double(static_cast<double>(std::numeric_limits<T>::min())) +
                 " and " + format_double(static_cast<double>(std::numeric_limits<T>::max())) + " in magnitude");
    };
    representable(o.gamma, "gamma", false);
    representable(o.margin, "margin", true);
    if (!magnitudes_fit<T>(o, n, m, 1.0, 1.0, 1.0, 1.0)) {
        // Name the option that is out of range: margin when gamma alone (with margin 0) would fit.
        ResolvedOptions gamma_alone = o;
        gamma_alone.margin = 0;
        const bool margin_at_fault = magnitudes_fit<T>(gamma_alone, n, m, 1.0, 1.0, 1.0, 1.0);
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, std::string("options->") + (margin_at_fault ? "margin" : "gamma"),
             std::string(" is too large for ") + type_name<T>() +
                 ": with gamma " + format_double(o.gamma) + " and margin " + format_double(o.margin) +
                 " the logits, loss or gradients could overflow even for unit-norm embeddings" +
                 (sizeof(T) == sizeof(float) ? " (or use float64)" : ""));
    }
}

template <class T>
void check_magnitudes(const ResolvedProblem& p, const ResolvedOptions& o, double x_max, double r_max, double w_max,
                      double up_max) {
    const double s_max = static_cast<double>(p.d) * x_max * r_max;  // |<x_i, r_j>| <= d max|x| max|r|
    if (!magnitudes_fit<T>(o, p.n, p.m, s_max, std::max(x_max, r_max), w_max, up_max)) {
        fail(CIRCLELOSS_STATUS_INVALID_ARGUMENT,
             std::string("problem values too large for ") + type_name<T>() + ": with gamma " + format_double(o.gamma) +
                 ", margin " + format_double(o.margin) + ", largest |embedding| " + format_double(std::max(x_max, r_max)) +
                 ", largest sample weight " + format_double(w_max) +
                 " the similarities, logits, loss or gradients could overflow; the embeddings are meant to be "
                 "L2-normalised" +
                 (sizeof(T) == sizeof(float) ? " (or use float64)" : ""));
    }
}

template <class T>
void check_values(const ResolvedProblem& p, const ResolvedOptions& o, bool refs_given, bool check_up) {
    const double x_max = check_finite_matrix(static_cast<const T*>(p.embeddings), p.n, p.d, "embeddings");
    const double r_max =
        refs_given ? check_finite_matrix(static_cast<const T*>(p.ref_embeddings), p.m, p.d, "ref_embeddings") : x_max;
    const double w_max = p.sample_weights ? check_weights(static_cast<const T*>(p.sample_weights), p.n) : 1.0;
    const double up_max =
        (check_up && p.upstream) ? check_upstream(static_cast<const T*>(p.upstream), p.loss_length) : 1.0;
    check_magnitudes<T>(p, o, x_max, r_max, w_max, up_max);
}

template <class T>
void check_state(const T* state, int64_t n) {
    for (int64_t i = 0; i < CIRCLELOSS_SAVED_STATE_PER_ROW * n; ++i) {
        const T v = state[i];
        if (std::isnan(v) || (std::isinf(v) && v > 0)) {
            fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "saved_state",
                 "[" + std::to_string(i) + "] is " + format_double(static_cast<double>(v)) +
                     ": not a state written by circleloss_forward");
        }
    }
}

// The fields for a call that computes part of a larger batch (since 0.3.0): where the queries sit among
// the references, and the batch's divisor.
void validate_batch_part(const circleloss_problem& problem, ResolvedProblem& p) {
    // Self-similarity (no ref_embeddings) has its diagonal at j == i by construction: the symmetric
    // kernels pair row i with column i, so no other offset can be honoured there.
    require(problem.diagonal_offset == 0 || !p.refs_are_queries, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "problem->diagonal_offset", " must be 0 when no ref_embeddings are given (got " +
                std::to_string(problem.diagonal_offset) +
                "): the queries are then their own references, with the diagonal at j == i");
    // Any offset is meaningful (one outside [-n, m) leaves no pair on the diagonal: a process whose rows lie
    // beyond the reference set); the bound only keeps i + offset from overflowing.
    constexpr int64_t kOffsetBound = int64_t(1) << 62;
    require(problem.diagonal_offset >= -kOffsetBound && problem.diagonal_offset <= kOffsetBound,
            CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->diagonal_offset",
            " must be within [-2^62, 2^62] (got " + std::to_string(problem.diagonal_offset) +
                "): it is the reference row of query row 0's diagonal pair");
    const double divisor = problem.reduction_divisor;
    require(std::isfinite(divisor) && divisor >= 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "problem->reduction_divisor", " must be 0 (the call's own divisor) or finite and > 0 (got " +
                format_double(divisor) + ")");
    require(divisor == 0 || !p.per_row_loss, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "problem->reduction_divisor", " must be 0 for reduction NONE, which does not divide (got " +
                format_double(divisor) + ")");
    p.diagonal_offset = problem.diagonal_offset;
    p.reduction_divisor = divisor;
}

}  // namespace

int64_t checked_multiply(int64_t a, int64_t b, const char* what) {
    int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) {
        fail(CIRCLELOSS_STATUS_SIZE_OVERFLOW, std::string(what) + " overflows 64 bits (" + std::to_string(a) +
                                                  " * " + std::to_string(b) + ")");
    }
    return r;
}

ResolvedOptions validate_options(const circleloss_options* given) {
    require(given != nullptr, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options", " must not be NULL");
    const circleloss_options current = in_current_layout(given, "options");
    const circleloss_options* options = &current;
    require(std::isfinite(options->gamma) && options->gamma > 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "options->gamma", " must be finite and > 0 (got " + format_double(options->gamma) + ")");
    require(std::isfinite(options->margin), CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "options->margin", " must be finite (got " + format_double(options->margin) + ")");
    require(options->remove_diagonal == 0 || options->remove_diagonal == 1, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "options->remove_diagonal", " must be 0 or 1 (got " + std::to_string(options->remove_diagonal) + ")");
    require_enum(options->reduction, CIRCLELOSS_REDUCTION_NONE, CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT,
                 "options->reduction", "circleloss_reduction");
    require_enum(options->gradient_mode, CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER, "options->gradient_mode",
                 "circleloss_gradient_mode");
    ResolvedOptions resolved{};
    resolved.gamma = options->gamma;
    resolved.margin = options->margin;
    resolved.remove_diagonal = options->remove_diagonal;
    resolved.reduction = options->reduction;
    resolved.gradient_mode = options->gradient_mode;
    return resolved;
}

ResolvedProblem validate_problem(const circleloss_problem* given, const ResolvedOptions& options) {
    require(given != nullptr, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem", " must not be NULL");
    const circleloss_problem current = in_current_layout(given, "problem");
    const circleloss_problem* problem = &current;
    require_enum(problem->dtype, CIRCLELOSS_DTYPE_FLOAT32, CIRCLELOSS_DTYPE_FLOAT64, "problem->dtype", "circleloss_dtype");
    require_enum(problem->memory, CIRCLELOSS_MEMORY_HOST, CIRCLELOSS_MEMORY_DEVICE, "problem->memory", "circleloss_memory");
    require_enum(problem->label_type, CIRCLELOSS_LABELS_INT32, CIRCLELOSS_LABELS_INT64, "problem->label_type",
                 "circleloss_label_type");
    require(problem->n >= 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "problem->n", " must be >= 0 (got " + std::to_string(problem->n) + ")");
    require(problem->d >= 1, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "problem->d", " must be >= 1 (got " + std::to_string(problem->d) + ")");
    require(problem->m >= 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "problem->m", " must be >= 0 (got " + std::to_string(problem->m) + ")");

    ResolvedProblem p{};
    p.dtype = problem->dtype;
    p.memory = problem->memory;
    p.label_type = problem->label_type;
    p.n = problem->n;
    p.d = problem->d;
    p.element_size = p.dtype == CIRCLELOSS_DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    p.labels = problem->labels;
    p.embeddings = problem->embeddings;
    p.sample_weights = problem->sample_weights;
    p.upstream = problem->upstream;
    p.per_row_loss = options.reduction == CIRCLELOSS_REDUCTION_NONE;
    p.loss_length = p.per_row_loss ? p.n : 1;

    const bool has_ref_labels = problem->ref_labels != nullptr;
    const bool has_ref_embeddings = problem->ref_embeddings != nullptr;
    if (!has_ref_labels && !has_ref_embeddings) {
        require(problem->m == 0 || problem->m == problem->n, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
                "problem->m", " must be 0 or n (" + std::to_string(problem->n) +
                    ") when neither ref_labels nor ref_embeddings is given (got " + std::to_string(problem->m) + ")");
        p.m = p.n;
    } else if (has_ref_labels != has_ref_embeddings) {
        require(problem->m == problem->n, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->m",
                std::string(" must equal n (") + std::to_string(problem->n) + ") when only " +
                    (has_ref_labels ? "ref_labels" : "ref_embeddings") + " is given (got " +
                    std::to_string(problem->m) + "): the missing " +
                    (has_ref_labels ? "ref_embeddings default to the embeddings" : "ref_labels default to the labels"));
        p.m = p.n;
    } else {
        p.m = problem->m;
    }
    p.refs_are_queries = !has_ref_embeddings;
    p.ref_labels = has_ref_labels ? problem->ref_labels : problem->labels;
    p.ref_embeddings = has_ref_embeddings ? problem->ref_embeddings : problem->embeddings;

    validate_batch_part(*problem, p);

    // Sizes: every element count and byte count must fit, and so must the number of pairs.
    const int64_t element = static_cast<int64_t>(p.element_size);
    checked_multiply(checked_multiply(p.n, p.d, "n * d"), element, "n * d * element size");
    checked_multiply(checked_multiply(p.m, p.d, "m * d"), element, "m * d * element size");
    checked_multiply(p.n, p.m, "n * m");
    checked_multiply(p.n, 2 * element, "saved state bytes");

    if (p.n > 0) {
        require(problem->labels != nullptr, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
                "problem->labels", " must not be NULL when n > 0");
        require(problem->embeddings != nullptr, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
                "problem->embeddings", " must not be NULL when n > 0");
    }
    return p;
}

void validate_problem_values(const ResolvedProblem& p, const ResolvedOptions& options, bool check_upstream_values) {
    // The options in the precision of the call, for host and device memory alike.
    if (p.dtype == CIRCLELOSS_DTYPE_FLOAT32) {
        check_options_in_type<float>(options, p.n, p.m);
    } else {
        check_options_in_type<double>(options, p.n, p.m);
    }
    if (p.memory != CIRCLELOSS_MEMORY_HOST) return;  // device values: checked by the provider on the device
    const bool refs_given = !p.refs_are_queries;
    if (p.dtype == CIRCLELOSS_DTYPE_FLOAT32) {
        check_values<float>(p, options, refs_given, check_upstream_values);
    } else {
        check_values<double>(p, options, refs_given, check_upstream_values);
    }
}

circleloss_forward_output validate_forward_output(const circleloss_forward_output* given,
                                                  const ResolvedProblem& problem) {
    require(given != nullptr, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "forward_output", " must not be NULL");
    const circleloss_forward_output current = in_current_layout(given, "forward_output");
    const circleloss_forward_output* output = &current;
    require(output->reserved0 == 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "forward_output->reserved0", " must be 0");
    require(output->loss != nullptr || problem.loss_length == 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "forward_output->loss", " must not be NULL");
    require(output->reduction_terms == nullptr || !problem.per_row_loss, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "forward_output->reduction_terms", " must be NULL for reduction NONE, which has no scalar reduction");
    return current;
}

circleloss_gradient_output validate_gradient_output(const circleloss_gradient_output* given,
                                                    const ResolvedProblem& problem) {
    require(given != nullptr, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "gradient_output", " must not be NULL");
    const circleloss_gradient_output current = in_current_layout(given, "gradient_output");
    const circleloss_gradient_output* output = &current;
    require(output->reserved0 == 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "gradient_output->reserved0", " must be 0");
    require(output->grad_embeddings != nullptr || problem.n == 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
            "gradient_output->grad_embeddings", " must not be NULL when n > 0");
    if (problem.refs_are_queries) {
        require(output->grad_ref_embeddings == nullptr, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
                "gradient_output->grad_ref_embeddings", " must be NULL when no ref_embeddings are given (the "
                "gradient of both roles goes to grad_embeddings)");
    } else {
        require(output->grad_ref_embeddings != nullptr || problem.m == 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT,
                "gradient_output->grad_ref_embeddings", " must not be NULL when ref_embeddings are given");
    }
    return current;
}

void validate_saved_state(const void* saved_state, const ResolvedProblem& problem) {
    require(saved_state != nullptr || problem.n == 0, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "saved_state",
            " must not be NULL when n > 0");
    if (problem.memory != CIRCLELOSS_MEMORY_HOST || problem.n == 0) return;
    if (problem.dtype == CIRCLELOSS_DTYPE_FLOAT32) {
        check_state(static_cast<const float*>(saved_state), problem.n);
    } else {
        check_state(static_cast<const double*>(saved_state), problem.n);
    }
}

}  // namespace circleloss
