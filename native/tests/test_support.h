// Shared test helpers: a minimal JSON reader for the golden cases, a naive float64 reference of the
// loss and its gradients written straight from the contract, and a typed wrapper around the C ABI.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "circleloss/circleloss.h"
#include "test_platform.h"

namespace testing_support {

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

// ---- JSON ----------------------------------------------------------------------------------------
struct Json {
    enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
    bool boolean = false;
    double number = 0;
    std::string text;
    std::vector<Json> items;
    std::map<std::string, Json> fields;

    bool is_null() const { return kind == Null; }
    const Json& operator[](const std::string& key) const;
    std::vector<double> numbers() const;              // a flat array of numbers
    std::vector<double> matrix(int64_t* cols) const;  // an array of rows, flattened
    std::vector<int32_t> ints() const;
};
Json parse_json(const std::string& text);
Json load_json_file(const std::string& path);
std::vector<std::string> golden_files();  // every *.json in the golden folder, sorted

// ---- A problem in float64, and the reference ------------------------------------------------------
struct Case {
    std::string name;
    int64_t n = 0, d = 1, m = 0;
    std::vector<int32_t> labels, ref_labels;
    std::vector<double> x, r, weights, upstream;
    bool has_ref_labels = false, has_ref_embeddings = false;
    double gamma = 80, margin = 0.4;
    bool remove_diagonal = true;
    circleloss_reduction reduction = CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE;
    bool int64_labels = false;  // run_case passes the labels as int64 (wide_labels)
};

// The labels as int64 with distinct high halves and one common low half ((v << 32) | 7): a kernel that
// compared only 32 bits would see every pair as a positive.
std::vector<int64_t> wide_labels(const std::vector<int32_t>& labels);

struct Expected {
    std::vector<double> loss;  // 1 value, or n for reduction none
    std::vector<double> per_sample_loss;
    std::vector<int> mask;
    std::vector<double> grad_x, grad_r;
};

Case golden_case(const Json& root);
Expected golden_expected(const Json& root, const char* mode);  // "keras" or "paper"
circleloss_reduction reduction_from_name(const std::string& name);

// Straightforward O(n·m·d) float64 implementation of docs/design.md section 1.
Expected reference(const Case& c, circleloss_gradient_mode mode);

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
