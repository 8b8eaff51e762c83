#include "test_support.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace testing_support {

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

circleloss_options options_of(const Case& c, circleloss_gradient_mode mode) {
    circleloss_options o;
    circleloss_options_init(&o);
    o.gamma = c.gamma;
    o.margin = c.margin;
    o.remove_diagonal = c.remove_diagonal ? 1 : 0;
    o.reduction = c.reduction;
    o.gradient_mode = mode;
    return o;
}

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

    const circleloss_options o = options_of(c, mode);

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
