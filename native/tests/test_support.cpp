#include "test_support.h"

#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace testing_support {

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

std::vector<std::string> golden_files() {
    std::vector<std::string> files;
    DIR* dir = opendir(CIRCLELOSS_GOLDEN_DIR);
    if (!dir) return files;
    while (dirent* entry = readdir(dir)) {
        const std::string name = entry->d_name;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
            files.push_back(std::string(CIRCLELOSS_GOLDEN_DIR) + "/" + name);
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

// ---- Reference -----------------------------------------------------------------------------------

Expected reference(const Case& c, circleloss_gradient_mode mode) {
    const int64_t n = c.n, m = c.m, d = c.d;
    const std::vector<double>& R = c.has_ref_embeddings ? c.r : c.x;
    const std::vector<int32_t>& ry = c.has_ref_labels ? c.ref_labels : c.labels;
    const double g = c.gamma, mg = c.margin;
    const double inf = std::numeric_limits<double>::infinity();
    auto w = [&](int64_t i) { return c.weights.empty() ? 1.0 : c.weights[static_cast<size_t>(i)]; };

    std::vector<double> S(static_cast<size_t>(n * m));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < m; ++j) {
            double s = 0;
            for (int64_t k = 0; k < d; ++k) s += c.x[static_cast<size_t>(i * d + k)] * R[static_cast<size_t>(j * d + k)];
            S[static_cast<size_t>(i * m + j)] = s;
        }
    auto is_pos = [&](int64_t i, int64_t j) {
        return c.labels[static_cast<size_t>(i)] == ry[static_cast<size_t>(j)] && !(c.remove_diagonal && i == j);
    };
    auto is_neg = [&](int64_t i, int64_t j) { return c.labels[static_cast<size_t>(i)] != ry[static_cast<size_t>(j)]; };
    auto lp = [&](double s) {
        const double dd = std::max(1 - s, 0.0);
        return -g * std::max(mg + dd, 0.0) * (mg - dd);
    };
    auto ln = [&](double s) {
        const double dd = std::max(1 - s, 0.0);
        return g * std::max(1 + mg - dd, 0.0) * (1 - mg - dd);
    };

    Expected out;
    std::vector<double> LP(static_cast<size_t>(n)), LN(static_cast<size_t>(n));
    out.per_sample_loss.resize(static_cast<size_t>(n));
    out.mask.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        double mp = -inf, mn = -inf;
        for (int64_t j = 0; j < m; ++j) {
            const double s = S[static_cast<size_t>(i * m + j)];
            if (is_pos(i, j)) mp = std::max(mp, lp(s));
            if (is_neg(i, j)) mn = std::max(mn, ln(s));
        }
        double sp = 0, sn = 0;
        for (int64_t j = 0; j < m; ++j) {
            const double s = S[static_cast<size_t>(i * m + j)];
            if (is_pos(i, j)) sp += std::exp(lp(s) - mp);
            if (is_neg(i, j)) sn += std::exp(ln(s) - mn);
        }
        LP[static_cast<size_t>(i)] = sp > 0 ? mp + std::log(sp) : -inf;
        LN[static_cast<size_t>(i)] = sn > 0 ? mn + std::log(sn) : -inf;
        const double z = LP[static_cast<size_t>(i)] + LN[static_cast<size_t>(i)];
        const double l = z == -inf ? 0.0 : (z > 30 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)));
        out.per_sample_loss[static_cast<size_t>(i)] = l;
        out.mask[static_cast<size_t>(i)] = l > 0 ? 1 : 0;
    }

    // Reduction weights c_i.
    double count = 0, wsum = 0, total = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (out.mask[static_cast<size_t>(i)]) {
            count += 1;
            wsum += w(i);
            total += w(i) * out.per_sample_loss[static_cast<size_t>(i)];
        }
    }
    std::vector<double> coef(static_cast<size_t>(n), 0.0);
    if (c.reduction == CIRCLELOSS_REDUCTION_NONE) {
        for (int64_t i = 0; i < n; ++i) {
            out.loss.push_back(w(i) * out.per_sample_loss[static_cast<size_t>(i)]);
            const double up = c.upstream.empty() ? 1.0 : c.upstream[static_cast<size_t>(i)];
            coef[static_cast<size_t>(i)] = out.mask[static_cast<size_t>(i)] ? w(i) * up : 0.0;
        }
    } else {
        double divisor = 1;
        if (c.reduction == CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE || c.reduction == CIRCLELOSS_REDUCTION_MEAN) divisor = count;
        if (c.reduction == CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT) divisor = wsum;
        out.loss.push_back(divisor == 0 ? 0.0 : total / divisor);
        const double up = c.upstream.empty() ? 1.0 : c.upstream[0];
        for (int64_t i = 0; i < n; ++i) {
            coef[static_cast<size_t>(i)] = (out.mask[static_cast<size_t>(i)] && divisor != 0) ? up * w(i) / divisor : 0.0;
        }
    }

    // G, then dX = G R (+ Gᵀ X when the references are the queries) and dR = Gᵀ X.
    std::vector<double> G(static_cast<size_t>(n * m), 0.0);
    for (int64_t i = 0; i < n; ++i) {
        const double z = LP[static_cast<size_t>(i)] + LN[static_cast<size_t>(i)];
        if (coef[static_cast<size_t>(i)] == 0 || z == -inf) continue;
        const double sig = 1 / (1 + std::exp(-z));
        for (int64_t j = 0; j < m; ++j) {
            const double s = S[static_cast<size_t>(i * m + j)];
            if (s >= 1) continue;
            double slope = 0, weight = 0;
            if (is_pos(i, j)) {
                slope = mode == CIRCLELOSS_GRADIENT_KERAS ? -2 * g * (1 - s) : -g * std::max(1 + mg - s, 0.0);
                weight = std::exp(lp(s) - LP[static_cast<size_t>(i)]);
            } else if (is_neg(i, j)) {
                slope = mode == CIRCLELOSS_GRADIENT_KERAS ? (s > -mg ? 2 * g * s : 0.0) : g * std::max(s + mg, 0.0);
                weight = std::exp(ln(s) - LN[static_cast<size_t>(i)]);
            }
            G[static_cast<size_t>(i * m + j)] = coef[static_cast<size_t>(i)] * sig * weight * slope;
        }
    }
    out.grad_x.assign(static_cast<size_t>(n * d), 0.0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < m; ++j) {
            const double gij = G[static_cast<size_t>(i * m + j)];
            if (gij == 0) continue;
            for (int64_t k = 0; k < d; ++k) {
                out.grad_x[static_cast<size_t>(i * d + k)] += gij * R[static_cast<size_t>(j * d + k)];
                if (!c.has_ref_embeddings) out.grad_x[static_cast<size_t>(j * d + k)] += gij * c.x[static_cast<size_t>(i * d + k)];
            }
        }
    if (c.has_ref_embeddings) {
        out.grad_r.assign(static_cast<size_t>(m * d), 0.0);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < m; ++j) {
                const double gij = G[static_cast<size_t>(i * m + j)];
                for (int64_t k = 0; k < d; ++k) out.grad_r[static_cast<size_t>(j * d + k)] += gij * c.x[static_cast<size_t>(i * d + k)];
            }
    }
    return out;
}

Case random_case(std::mt19937_64& rng, int64_t n, int64_t m, int64_t d, int classes, bool refs, bool ref_labels_only) {
    Case c;
    c.name = "random";
    c.n = n;
    c.d = d;
    c.m = refs || ref_labels_only ? m : n;
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_int_distribution<int> label(0, classes - 1);
    auto fill_rows = [&](std::vector<double>& v, int64_t rows) {
        v.resize(static_cast<size_t>(rows * d));
        for (int64_t i = 0; i < rows; ++i) {
            double norm = 0;
            for (int64_t k = 0; k < d; ++k) {
                const double x = normal(rng);
                v[static_cast<size_t>(i * d + k)] = x;
                norm += x * x;
            }
            norm = std::sqrt(norm);
            for (int64_t k = 0; k < d; ++k) v[static_cast<size_t>(i * d + k)] /= norm;
        }
    };
    fill_rows(c.x, n);
    for (int64_t i = 0; i < n; ++i) c.labels.push_back(label(rng));
    if (refs) {
        c.has_ref_embeddings = true;
        c.has_ref_labels = true;
        fill_rows(c.r, c.m);
        for (int64_t j = 0; j < c.m; ++j) c.ref_labels.push_back(label(rng));
    } else if (ref_labels_only) {
        c.has_ref_labels = true;
        for (int64_t j = 0; j < c.m; ++j) c.ref_labels.push_back(label(rng));
    }
    return c;
}

double normwise_error(const std::vector<double>& actual, const std::vector<double>& expected) {
    if (actual.size() != expected.size()) return std::numeric_limits<double>::infinity();
    double diff = 0, scale = 0;
    for (size_t i = 0; i < actual.size(); ++i) {
        if (std::isnan(actual[i])) return std::numeric_limits<double>::infinity();
        diff = std::max(diff, std::fabs(actual[i] - expected[i]));
        scale = std::max(scale, std::fabs(expected[i]));
    }
    if (scale == 0) return diff;
    return diff / scale;
}

// ---- Running the library -------------------------------------------------------------------------

SessionHolder::SessionHolder(int threads, circleloss_backend backend, uint64_t workspace) {
    circleloss_session_config config;
    circleloss_session_config_init(&config);
    config.backend = backend;
    config.num_threads = threads;
    config.workspace_limit_bytes = workspace;
    if (circleloss_session_create(&session, &config) != CIRCLELOSS_STATUS_OK) {
        throw std::runtime_error(std::string("session: ") + circleloss_last_error());
    }
}

SessionHolder::~SessionHolder() { circleloss_session_destroy(session); }

namespace {
template <class T>
std::vector<T> cast(const std::vector<double>& v) {
    return std::vector<T>(v.begin(), v.end());
}
template <class T>
std::vector<double> widen(const std::vector<T>& v) {
    return std::vector<double>(v.begin(), v.end());
}
}  // namespace

std::vector<int64_t> wide_labels(const std::vector<int32_t>& labels) {
    std::vector<int64_t> wide;
    wide.reserve(labels.size());
    for (int32_t v : labels) wide.push_back(static_cast<int64_t>((uint64_t{static_cast<uint32_t>(v)} << 32) | 7));
    return wide;
}

template <class T>
Result run_case(circleloss_session* session, const Case& c, circleloss_gradient_mode mode, Call call) {
    const std::vector<T> x = cast<T>(c.x), r = cast<T>(c.r), w = cast<T>(c.weights), up = cast<T>(c.upstream);
    circleloss_problem p;
    circleloss_problem_init(&p);
    p.dtype = sizeof(T) == 4 ? CIRCLELOSS_DTYPE_FLOAT32 : CIRCLELOSS_DTYPE_FLOAT64;
    p.n = c.n;
    p.d = c.d;
    p.m = (c.has_ref_labels || c.has_ref_embeddings) ? c.m : 0;
    const std::vector<int64_t> labels64 = wide_labels(c.labels), ref_labels64 = wide_labels(c.ref_labels);
    p.label_type = c.int64_labels ? CIRCLELOSS_LABELS_INT64 : CIRCLELOSS_LABELS_INT32;
    p.labels = c.int64_labels ? static_cast<const void*>(labels64.data()) : c.labels.data();
    p.embeddings = x.data();
    p.ref_labels = !c.has_ref_labels ? nullptr
                   : c.int64_labels  ? static_cast<const void*>(ref_labels64.data())
                                     : c.ref_labels.data();
    p.ref_embeddings = c.has_ref_embeddings ? r.data() : nullptr;
    p.sample_weights = c.weights.empty() ? nullptr : w.data();
    p.upstream = c.upstream.empty() ? nullptr : up.data();

    circleloss_options o;
    circleloss_options_init(&o);
    o.gamma = c.gamma;
    o.margin = c.margin;
    o.remove_diagonal = c.remove_diagonal ? 1 : 0;
    o.reduction = c.reduction;
    o.gradient_mode = mode;

    const size_t n = static_cast<size_t>(c.n);
    std::vector<T> loss(c.reduction == CIRCLELOSS_REDUCTION_NONE ? n : 1), per(n), state(2 * n),
        gx(n * static_cast<size_t>(c.d)), gr(c.has_ref_embeddings ? static_cast<size_t>(c.m * c.d) : 0);
    std::vector<uint8_t> mask(n);
    circleloss_forward_output fo;
    circleloss_forward_output_init(&fo);
    fo.loss = loss.data();
    fo.per_sample_loss = per.data();
    fo.mask = mask.data();
    fo.saved_state = state.data();
    circleloss_gradient_output go;
    circleloss_gradient_output_init(&go);
    go.grad_embeddings = gx.data();
    go.grad_ref_embeddings = c.has_ref_embeddings ? gr.data() : nullptr;

    Result result;
    if (call == Call::ForwardBackward) {
        result.status = circleloss_forward_backward(&fo, &go, session, &o, &p);
    } else {
        result.status = circleloss_forward(&fo, session, &o, &p);
        if (result.status == CIRCLELOSS_STATUS_OK && call == Call::ForwardThenBackward) {
            result.status = circleloss_backward(&go, session, &o, &p, state.data());
        }
    }
    result.message = circleloss_last_error();
    result.loss = widen(loss);
    result.per_sample_loss = widen(per);
    result.saved_state = widen(state);
    result.grad_x = widen(gx);
    result.grad_r = widen(gr);
    for (uint8_t v : mask) result.mask.push_back(v);
    return result;
}

template Result run_case<float>(circleloss_session*, const Case&, circleloss_gradient_mode, Call);
template Result run_case<double>(circleloss_session*, const Case&, circleloss_gradient_mode, Call);

}  // namespace testing_support
