// Shared test helpers: the golden cases (golden_cases.h), a naive float64 reference of the loss and its
// gradients written straight from the contract, and a typed wrapper around the C ABI.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "circleloss/circleloss.h"
#include "golden_cases.h"
#include "test_platform.h"

namespace testing_support {

// Forces the CPU backend's plan (CIRCLELOSS_CPU_PLAN: auto, materialise, stream) for the sessions
// created while it lives.
struct PlanScope {
    explicit PlanScope(const char* plan) { setenv("CIRCLELOSS_CPU_PLAN", plan, 1); }
    ~PlanScope() { unsetenv("CIRCLELOSS_CPU_PLAN"); }
    PlanScope(const PlanScope&) = delete;
    PlanScope& operator=(const PlanScope&) = delete;
};

using golden::Case;
using golden::Expected;
using golden::golden_case;
using golden::golden_expected;
using golden::Json;
using golden::load_json_file;
using golden::parse_json;
using golden::reduction_from_name;

// Every golden case file of the repository, sorted.
inline std::vector<std::string> golden_files() { return golden::golden_files(CIRCLELOSS_GOLDEN_DIR); }

// Whether this build runs under AddressSanitizer (GCC defines the macro, clang has the feature test):
// its allocator aborts instead of failing, and it slows large tests down.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// ---- A problem in float64, and the reference ------------------------------------------------------
// The labels as int64 with distinct high halves and one common low half ((v << 32) | 7): a kernel that
// compared only 32 bits would see every pair as a positive.
std::vector<int64_t> wide_labels(const std::vector<int32_t>& labels);

// The case's options (Keras's defaults for the rest) in the given gradient mode.
circleloss_options options_of(const Case& c, circleloss_gradient_mode mode);

// Straightforward O(n·m·d) float64 implementation of docs/design.md section 1.
Expected reference(const Case& c, circleloss_gradient_mode mode);

// The values of `v` converted to T, and back to double (element by element).
template <class T>
std::vector<T> cast(const std::vector<double>& v) {
    return std::vector<T>(v.begin(), v.end());
}
template <class T>
std::vector<double> widen(const std::vector<T>& v) {
    return std::vector<double>(v.begin(), v.end());
}

// Random normalised case with `classes` labels.
Case random_case(std::mt19937_64& rng, int64_t n, int64_t m, int64_t d, int classes, bool refs,
                 bool ref_labels_only = false);

// max|a-b| / max|ref| (0 when both are all zero).
double normwise_error(const std::vector<double>& actual, const std::vector<double>& expected);

// ---- Running the library -------------------------------------------------------------------------
struct Result {
    circleloss_status status = CIRCLELOSS_STATUS_OK;
    std::string message;
    std::vector<double> loss, per_sample_loss, grad_x, grad_r, saved_state;
    std::vector<int> mask;
};

struct SessionHolder {
    circleloss_session* session = nullptr;
    explicit SessionHolder(int threads = 0, circleloss_backend backend = CIRCLELOSS_BACKEND_CPU,
                           uint64_t workspace = 0);
    ~SessionHolder();
};

enum class Call { ForwardBackward, ForwardThenBackward, ForwardOnly };

// Runs the case through the C ABI in float or double; results converted to double.
template <class T>
Result run_case(circleloss_session* session, const Case& c, circleloss_gradient_mode mode, Call call);

}  // namespace testing_support
