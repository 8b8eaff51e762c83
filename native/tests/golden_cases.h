// The golden cases of tests/data/golden: a minimal JSON reader, the case in float64 and its expected
// values per gradient mode. Shared by the native tests and the GPU check; depends on the C header only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "circleloss/circleloss.h"

namespace golden {

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
std::vector<std::string> golden_files(const std::string& folder);  // every *.json in it, sorted

// ---- A problem in float64 and its expected values --------------------------------------------------
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

struct Expected {
    bool present = false;      // the case has values for this gradient mode
    std::vector<double> loss;  // 1 value, or n for reduction none
    std::vector<double> per_sample_loss;
    std::vector<int> mask;
    std::vector<double> grad_x, grad_r;
};

Case golden_case(const Json& root);
Expected golden_expected(const Json& root, const char* mode);  // "keras" or "paper"; not present when absent
circleloss_reduction reduction_from_name(const std::string& name);

}  // namespace golden
