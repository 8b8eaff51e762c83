// The golden cases of tests/data/golden (their format: tests/data/golden/README.md), read by the native
// tests and by the GPU check (native/gpu/gpu_check.cpp) alike. Depends on the C header only.
#include "golden_cases.h"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace golden {

// ---- JSON ----------------------------------------------------------------------------------------
namespace {

struct Parser {
    const std::string& s;
    size_t i = 0;

    void skip() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
    }
    [[noreturn]] void error(const char* what) {
        throw std::runtime_error(std::string("JSON: ") + what + " at offset " + std::to_string(i));
    }
    bool literal(const char* word) {
        const size_t len = std::char_traits<char>::length(word);
        if (s.compare(i, len, word) == 0) {
            i += len;
            return true;
        }
        return false;
    }
    std::string string_value() {
        std::string out;
        ++i;  // opening quote
        while (i < s.size() && s[i] != '"') {
            if (s[i] == '\\') {
                ++i;
                if (i >= s.size()) error("bad escape");
                const char e = s[i];
                out += e == 'n' ? '\n' : e == 't' ? '\t' : e;  // golden files only use simple escapes
            } else {
                out += s[i];
            }
            ++i;
        }
        if (i >= s.size()) error("unterminated string");
        ++i;
        return out;
    }
    Json value() {
        skip();
        if (i >= s.size()) error("unexpected end");
        Json j;
        const char c = s[i];
        if (c == '{') {
            j.kind = Json::Object;
            ++i;
            skip();
            if (s[i] == '}') {
                ++i;
                return j;
            }
            for (;;) {
                skip();
                if (s[i] != '"') error("expected key");
                std::string key = string_value();
                skip();
                if (s[i] != ':') error("expected ':'");
                ++i;
                j.fields[key] = value();
                skip();
                if (s[i] == ',') {
                    ++i;
                    continue;
                }
                if (s[i] == '}') {
                    ++i;
                    return j;
                }
                error("expected ',' or '}'");
            }
        }
        if (c == '[') {
            j.kind = Json::Array;
            ++i;
            skip();
            if (s[i] == ']') {
                ++i;
                return j;
            }
            for (;;) {
                j.items.push_back(value());
                skip();
                if (s[i] == ',') {
                    ++i;
                    continue;
                }
                if (s[i] == ']') {
                    ++i;
                    return j;
                }
                error("expected ',' or ']'");
            }
        }
        if (c == '"') {
            j.kind = Json::String;
            j.text = string_value();
            return j;
        }
        if (literal("null")) return j;
        if (literal("true")) {
            j.kind = Json::Bool;
            j.boolean = true;
            return j;
        }
        if (literal("false")) {
            j.kind = Json::Bool;
            return j;
        }
        if (literal("NaN")) {
            j.kind = Json::Number;
            j.number = std::numeric_limits<double>::quiet_NaN();
            return j;
        }
        if (literal("Infinity")) {
            j.kind = Json::Number;
            j.number = std::numeric_limits<double>::infinity();
            return j;
        }
        if (literal("-Infinity")) {
            j.kind = Json::Number;
            j.number = -std::numeric_limits<double>::infinity();
            return j;
        }
        char* end = nullptr;
        j.kind = Json::Number;
        j.number = std::strtod(s.c_str() + i, &end);
        if (end == s.c_str() + i) error("bad value");
        i = static_cast<size_t>(end - s.c_str());
        return j;
    }
};

const Json& null_json() {
    static const Json j;
    return j;
}

}  // namespace

const Json& Json::operator[](const std::string& key) const {
    auto it = fields.find(key);
    return it == fields.end() ? null_json() : it->second;
}

std::vector<double> Json::numbers() const {
    std::vector<double> out;
    for (const auto& item : items) out.push_back(item.number);
    return out;
}

std::vector<double> Json::matrix(int64_t* cols) const {
    std::vector<double> out;
    *cols = items.empty() ? 0 : static_cast<int64_t>(items[0].items.size());
    for (const auto& row : items) {
        for (const auto& v : row.items) out.push_back(v.number);
    }
    return out;
}

std::vector<int32_t> Json::ints() const {
    std::vector<int32_t> out;
    for (const auto& item : items) out.push_back(static_cast<int32_t>(item.number));
    return out;
}

Json parse_json(const std::string& text) {
    Parser p{text};
    return p.value();
}

Json load_json_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error("cannot open " + path);
    std::stringstream buffer;
    buffer << file.rdbuf();
    return parse_json(buffer.str());
}

std::vector<std::string> golden_files(const std::string& folder) {
    std::vector<std::string> files;
    DIR* dir = opendir(folder.c_str());
    if (!dir) return files;
    while (dirent* entry = readdir(dir)) {
        const std::string name = entry->d_name;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
            files.push_back(folder + "/" + name);
        }
    }
    closedir(dir);
    std::sort(files.begin(), files.end());
    return files;
}

circleloss_reduction reduction_from_name(const std::string& name) {
    if (name == "none") return CIRCLELOSS_REDUCTION_NONE;
    if (name == "sum") return CIRCLELOSS_REDUCTION_SUM;
    if (name == "sum_over_batch_size") return CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE;
    if (name == "mean") return CIRCLELOSS_REDUCTION_MEAN;
    if (name == "mean_with_sample_weight") return CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT;
    throw std::runtime_error("unknown reduction " + name);
}

Case golden_case(const Json& root) {
    Case c;
    c.name = root["name"].text;
    const Json& in = root["input"];
    c.labels = in["labels"].ints();
    c.n = static_cast<int64_t>(c.labels.size());
    c.x = in["embeddings"].matrix(&c.d);
    if (c.d == 0) c.d = 1;
    c.gamma = in["gamma"].number;
    c.margin = in["margin"].number;
    c.remove_diagonal = in["remove_diagonal"].boolean;
    c.reduction = reduction_from_name(in["reduction"].text);
    c.m = c.n;
    if (!in["ref_labels"].is_null()) {
        c.has_ref_labels = true;
        c.ref_labels = in["ref_labels"].ints();
        c.m = static_cast<int64_t>(c.ref_labels.size());
    }
    if (!in["ref_embeddings"].is_null()) {
        c.has_ref_embeddings = true;
        int64_t cols = 0;
        c.r = in["ref_embeddings"].matrix(&cols);
        c.m = static_cast<int64_t>(in["ref_embeddings"].items.size());
    }
    if (!in["sample_weight"].is_null()) c.weights = in["sample_weight"].numbers();
    if (!in["upstream"].is_null()) c.upstream = in["upstream"].numbers();
    return c;
}

Expected golden_expected(const Json& root, const char* mode) {
    const Json& e = root["expected"][mode];
    Expected out;
    if (e.is_null()) return out;
    out.present = true;
    if (e["loss"].kind == Json::Array) {
        out.loss = e["loss"].numbers();
    } else {
        out.loss = {e["loss"].number};
    }
    out.per_sample_loss = e["per_sample_loss"].numbers();
    for (double v : e["mask"].numbers()) out.mask.push_back(static_cast<int>(v));
    int64_t cols = 0;
    out.grad_x = e["grad_embeddings"].matrix(&cols);
    if (!e["grad_ref_embeddings"].is_null()) out.grad_r = e["grad_ref_embeddings"].matrix(&cols);
    return out;
}

}  // namespace golden
