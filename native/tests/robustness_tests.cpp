// Numerical robustness (issue 9): gamma up to 1024, margin from 0 to 0.99, near-duplicate and identical
// embeddings (similarities at and slightly above 1), one class for every row, a single row, D = 1,
// and N = 20000 with D = 1 and 2. Never NaN or infinity; results within the golden tolerances of the
// float64 reference (test_support's reference(): float64 1e-10; float32 1e-5 for losses, 1e-4 for
// gradients, normwise).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"

using namespace testing_support;

namespace {

constexpr double kF64Tol = 1e-10;
constexpr double kF32LossTol = 1e-5;
constexpr double kF32GradTol = 1e-4;

bool all_finite(const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

// Loss, per-sample losses and gradients finite; saved state never NaN nor +inf (empty sets are -inf).
void expect_finite(const Result& r) {
    EXPECT_TRUE(all_finite(r.loss));
    EXPECT_TRUE(all_finite(r.per_sample_loss));
    EXPECT_TRUE(all_finite(r.grad_x));
    EXPECT_TRUE(all_finite(r.grad_r));
    for (double v : r.saved_state) EXPECT_TRUE(!std::isnan(v) && !(std::isinf(v) && v > 0)) << v;
}

struct Tolerances {
    bool compare_gradients = true;
};

// The output mask is `l_i > 0` evaluated in the compute precision (docs/design.md section 1.4, as Keras): a row whose
// float64 loss is below float32's smallest denormal (e^z with z < -103.9, which gamma = 1024 and
// margin 0.99 reach) is 0 in float32 and leaves the mask there. Such a row contributes nothing
// measurable itself, but it changes the divisor of the mean reductions. So the float32 expectation is
// the float64 reference with the float32 mask: the differing rows are checked to be exactly those
// underflowing rows, and the reduced loss and the gradients rescaled by the divisor's change.
Expected float32_expectation(const Case& c, const Expected& e, const std::vector<int>& mask32) {
    Expected f = e;
    if (mask32.size() != e.mask.size()) return f;
    double count64 = 0, count32 = 0, w64 = 0, w32 = 0;
    for (size_t i = 0; i < e.mask.size(); ++i) {
        const double w = c.weights.empty() ? 1.0 : c.weights[i];
        count64 += e.mask[i];
        w64 += e.mask[i] * w;
        count32 += mask32[i];
        w32 += mask32[i] * w;
        if (mask32[i] != e.mask[i]) {
            EXPECT_TRUE(e.mask[i] == 1 && mask32[i] == 0 && e.per_sample_loss[i] < 1e-40)
                << "row " << i << ": float64 loss " << e.per_sample_loss[i] << " but float32 mask " << mask32[i];
        }
    }
    double factor = 1;
    if (c.reduction == CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE || c.reduction == CIRCLELOSS_REDUCTION_MEAN) {
        factor = count32 == 0 ? 0.0 : count64 / count32;
    } else if (c.reduction == CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT) {
        factor = w32 == 0 ? 0.0 : w64 / w32;
    }
    if (factor == 1) return f;
    for (double& v : f.loss) v *= factor;
    for (double& v : f.grad_x) v *= factor;
    for (double& v : f.grad_r) v *= factor;
    return f;
}

// Both dtypes, the combined call, against the float64 reference.
void expect_matches_reference(const Case& c, circleloss_gradient_mode mode, Tolerances t = {}) {
    const Expected e = reference(c, mode);
    SessionHolder s(2);
    const Result r64 = run_case<double>(s.session, c, mode, Call::ForwardBackward);
    ASSERT_EQ(r64.status, CIRCLELOSS_STATUS_OK) << r64.message;
    expect_finite(r64);
    EXPECT_LE(normwise_error(r64.loss, e.loss), kF64Tol);
    EXPECT_LE(normwise_error(r64.per_sample_loss, e.per_sample_loss), kF64Tol);
    EXPECT_EQ(r64.mask, e.mask);
    if (t.compare_gradients) {
        EXPECT_LE(normwise_error(r64.grad_x, e.grad_x), kF64Tol);
        if (c.has_ref_embeddings) {
            EXPECT_LE(normwise_error(r64.grad_r, e.grad_r), kF64Tol);
        }
    }
    const Result r32 = run_case<float>(s.session, c, mode, Call::ForwardBackward);
    ASSERT_EQ(r32.status, CIRCLELOSS_STATUS_OK) << r32.message;
    expect_finite(r32);
    const Expected e32 = float32_expectation(c, e, r32.mask);
    EXPECT_LE(normwise_error(r32.loss, e32.loss), kF32LossTol);
    EXPECT_LE(normwise_error(r32.per_sample_loss, e.per_sample_loss), kF32LossTol);
    if (t.compare_gradients) {
        EXPECT_LE(normwise_error(r32.grad_x, e32.grad_x), kF32GradTol);
        if (c.has_ref_embeddings) {
            EXPECT_LE(normwise_error(r32.grad_r, e32.grad_r), kF32GradTol);
        }
    }
}

const circleloss_gradient_mode kModes[] = {CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER};

// ---- gamma and margin ---------------------------------------------------------------------------

TEST(Robustness, GammaUpTo1024AndMarginFrom0To099) {
    std::mt19937_64 rng(101);
    const Case self = random_case(rng, 24, 24, 6, 4, false);
    const Case refs = random_case(rng, 16, 20, 6, 3, true);
    for (double gamma : {1.0, 32.0, 80.0, 256.0, 512.0, 1024.0})
        for (double margin : {0.0, 0.1, 0.4, 0.7, 0.99})
            for (auto mode : kModes)
                for (const Case* base : {&self, &refs}) {
                    SCOPED_TRACE("gamma " + std::to_string(gamma) + ", margin " + std::to_string(margin) +
                                 (mode == CIRCLELOSS_GRADIENT_KERAS ? ", keras" : ", paper") +
                                 (base == &self ? ", self" : ", refs"));
                    Case c = *base;
                    c.gamma = gamma;
                    c.margin = margin;
                    expect_matches_reference(c, mode);
                }
}

// Every reduction at the extremes of the range, with weights (some zero) and upstream gradients.
TEST(Robustness, ExtremeGammaAndMarginWithEveryReduction) {
    std::mt19937_64 rng(103);
    Case c = random_case(rng, 20, 20, 5, 3, false);
    std::uniform_real_distribution<double> u(0.0, 3.0);
    for (int64_t i = 0; i < c.n; ++i) c.weights.push_back(i % 5 == 0 ? 0.0 : u(rng));
    for (double gamma : {1024.0, 1.0})
        for (double margin : {0.0, 0.99})
            for (auto reduction : {CIRCLELOSS_REDUCTION_NONE, CIRCLELOSS_REDUCTION_SUM, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE,
                                   CIRCLELOSS_REDUCTION_MEAN, CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT}) {
                SCOPED_TRACE("gamma " + std::to_string(gamma) + ", margin " + std::to_string(margin) +
                             ", reduction " + std::to_string(static_cast<int>(reduction)));
                Case k = c;
                k.gamma = gamma;
                k.margin = margin;
                k.reduction = reduction;
                k.upstream.assign(reduction == CIRCLELOSS_REDUCTION_NONE ? static_cast<size_t>(k.n) : 1, -0.75);
                for (auto mode : kModes) expect_matches_reference(k, mode);
            }
}

// ---- similarities at and above 1 ----------------------------------------------------------------

// Rows duplicated within and across classes, the copies scaled by 1 + 1e-3: similarities of about
// 1.001 to 1.002, clearly above 1 in both precisions (away from the clamp's kink), so gradients are
// compared too.
TEST(Robustness, NearDuplicateEmbeddingsWithSimilarityAboveOne) {
    std::mt19937_64 rng(107);
    Case c = random_case(rng, 24, 24, 8, 3, false);
    for (int64_t i = 12; i < 24; ++i)
        for (int64_t k = 0; k < c.d; ++k)
            c.x[static_cast<size_t>(i * c.d + k)] = c.x[static_cast<size_t>((i - 12) * c.d + k)] * (1 + 1e-3);
    for (double gamma : {80.0, 1024.0})
        for (auto mode : kModes) {
            c.gamma = gamma;
            expect_matches_reference(c, mode);
        }
}

// Copies equal to the last bit, and copies one part in 1e7 longer: similarities within rounding of 1,
// where the derivative of the clamp jumps, so only losses (continuous there) are compared; gradients
// must be finite and bounded by the largest possible slope (2·gamma·(1 + margin) per unit weight).
TEST(Robustness, DuplicatesWithinRoundingOfOne) {
    std::mt19937_64 rng(109);
    for (double stretch : {1.0, 1.0 + 1e-7}) {
        Case c = random_case(rng, 16, 16, 5, 2, false);
        for (int64_t i = 8; i < 16; ++i)
            for (int64_t k = 0; k < c.d; ++k)
                c.x[static_cast<size_t>(i * c.d + k)] = c.x[static_cast<size_t>((i - 8) * c.d + k)] * stretch;
        for (auto mode : kModes) {
            SCOPED_TRACE("stretch " + std::to_string(stretch));
            expect_matches_reference(c, mode, Tolerances{false});
            SessionHolder s(1);
            const Result r = run_case<float>(s.session, c, mode, Call::ForwardBackward);
            const double bound = 2 * c.gamma * (1 + c.margin) * 2 * static_cast<double>(c.n);
            for (double g : r.grad_x) EXPECT_LE(std::fabs(g), bound);
        }
    }
}

// Every row the same unit vector (exactly representable, so s = 1 exactly in both precisions): every
// pair sits on the clamp, the gradient is exactly 0 there, the loss is finite.
TEST(Robustness, IdenticalEmbeddingsAcrossClasses) {
    Case c;
    c.n = 12;
    c.d = 4;
    c.m = 12;
    for (int64_t i = 0; i < c.n; ++i) {
        c.labels.push_back(static_cast<int32_t>(i % 3));
        c.x.insert(c.x.end(), {0.5, -0.5, 0.5, 0.5});
    }
    for (double gamma : {80.0, 1024.0})
        for (auto mode : kModes) {
            c.gamma = gamma;
            expect_matches_reference(c, mode);
            SessionHolder s(1);
            const Result r = run_case<float>(s.session, c, mode, Call::ForwardBackward);
            for (double g : r.grad_x) EXPECT_EQ(g, 0.0);
        }
    // Random identical rows (s within rounding of 1): losses only.
    std::mt19937_64 rng(113);
    Case d = random_case(rng, 10, 10, 7, 4, false);
    for (int64_t i = 1; i < d.n; ++i)
        std::copy(d.x.begin(), d.x.begin() + d.d, d.x.begin() + i * d.d);
    for (auto mode : kModes) expect_matches_reference(d, mode, Tolerances{false});
}

// ---- degenerate label sets and shapes -----------------------------------------------------------

// One class for every row: no negatives anywhere, so every loss is exactly 0, the mask is empty, every
// reduction gives 0 and every gradient is exactly 0 — never 0/0.
TEST(Robustness, OneClassForAllRowsGivesExactZeros) {
    std::mt19937_64 rng(127);
    for (bool refs : {false, true}) {
        Case c = random_case(rng, 15, 9, 4, 1, refs);
        c.weights.assign(static_cast<size_t>(c.n), 2.0);
        for (auto reduction : {CIRCLELOSS_REDUCTION_NONE, CIRCLELOSS_REDUCTION_SUM, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE,
                               CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT}) {
            c.reduction = reduction;
            for (auto mode : kModes) {
                SessionHolder s(2);
                for (bool f64 : {false, true}) {
                    const Result r = f64 ? run_case<double>(s.session, c, mode, Call::ForwardThenBackward)
                                         : run_case<float>(s.session, c, mode, Call::ForwardThenBackward);
                    ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK) << r.message;
                    for (double v : r.loss) EXPECT_EQ(v, 0.0);
                    for (double v : r.per_sample_loss) EXPECT_EQ(v, 0.0);
                    for (int v : r.mask) EXPECT_EQ(v, 0);
                    for (double v : r.grad_x) EXPECT_EQ(v, 0.0);
                    for (double v : r.grad_r) EXPECT_EQ(v, 0.0);
                }
                expect_matches_reference(c, mode);
            }
        }
    }
}

TEST(Robustness, SingleRow) {
    std::mt19937_64 rng(131);
    // Self-similarity: the only pair is the diagonal, so no negatives and loss 0, with or without it.
    Case one = random_case(rng, 1, 1, 6, 3, false);
    for (bool remove : {true, false}) {
        one.remove_diagonal = remove;
        for (auto mode : kModes) expect_matches_reference(one, mode);
    }
    // One query against a reference set with both positives and negatives.
    Case q = random_case(rng, 1, 7, 6, 2, true);
    q.labels = {0};
    q.ref_labels = {0, 1, 0, 1, 1, 0, 1};
    for (auto mode : kModes) expect_matches_reference(q, mode);
    // One reference for many queries.
    Case r = random_case(rng, 9, 1, 6, 2, true);
    for (auto mode : kModes) expect_matches_reference(r, mode);
}

// D = 1: unit vectors are ±1, similarities exactly ±1 (s = 1 exactly on the clamp, s = -1 where the
// Keras negative slope is cut off).
TEST(Robustness, DimensionOne) {
    std::mt19937_64 rng(137);
    for (bool refs : {false, true}) {
        Case c = random_case(rng, 40, 30, 1, 3, refs);
        for (double gamma : {80.0, 1024.0})
            for (auto mode : kModes) {
                c.gamma = gamma;
                expect_matches_reference(c, mode);
            }
    }
}

// ---- N = 20000 with tiny D ----------------------------------------------------------------------

// Row statistics LP_i, LN_i of one query row in float64, straight from the definition (O(N·D)).
struct RowStats {
    double lp, ln;
};
RowStats direct_row(const Case& c, int64_t i) {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> lps, lns;
    for (int64_t j = 0; j < c.n; ++j) {
        double s = 0;
        for (int64_t k = 0; k < c.d; ++k) s += c.x[static_cast<size_t>(i * c.d + k)] * c.x[static_cast<size_t>(j * c.d + k)];
        const double d = std::max(1 - s, 0.0);
        const bool same = c.labels[static_cast<size_t>(i)] == c.labels[static_cast<size_t>(j)];
        if (same && !(c.remove_diagonal && i == j)) lps.push_back(-c.gamma * std::max(c.margin + d, 0.0) * (c.margin - d));
        if (!same) lns.push_back(c.gamma * std::max(1 + c.margin - d, 0.0) * (1 - c.margin - d));
    }
    auto lse = [&](const std::vector<double>& v) {
        if (v.empty()) return -inf;
        const double mx = *std::max_element(v.begin(), v.end());
        double sum = 0;
        for (double x : v) sum += std::exp(x - mx);
        return mx + std::log(sum);
    };
    return {lse(lps), lse(lns)};
}

double softplus(double z) { return z == -std::numeric_limits<double>::infinity() ? 0.0 : (z > 30 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))); }

// Row i of the float64 gradient, straight from the definition (O(N·D)), for reduction NONE with no
// weights or upstream (c_j = mask_j), given every row's LP_j, LN_j: H_ij = G_ij + G_ji, dX_i = Σ_j H_ij x_j.
std::vector<double> direct_gradient_row(const Case& c, int64_t i, const std::vector<double>& state) {
    const double inf = std::numeric_limits<double>::infinity();
    auto g = [&](int64_t q, int64_t r, double s) {  // G_qr, query q against reference r
        const double lp = state[static_cast<size_t>(2 * q)], ln = state[static_cast<size_t>(2 * q + 1)];
        const double z = lp + ln;
        if (z == -inf || s >= 1) return 0.0;
        const double loss = softplus(z);
        if (!(loss > 0)) return 0.0;
        const double sigma = 1 / (1 + std::exp(-z));
        const double d = std::max(1 - s, 0.0);
        const bool same = c.labels[static_cast<size_t>(q)] == c.labels[static_cast<size_t>(r)];
        if (same && !(c.remove_diagonal && q == r)) {
            const double logit = -c.gamma * std::max(c.margin + d, 0.0) * (c.margin - d);
            return sigma * std::exp(logit - lp) * (-2 * c.gamma * (1 - s));
        }
        if (!same) {
            const double logit = c.gamma * std::max(1 + c.margin - d, 0.0) * (1 - c.margin - d);
            return sigma * std::exp(logit - ln) * (s > -c.margin ? 2 * c.gamma * s : 0.0);
        }
        return 0.0;
    };
    std::vector<double> row(static_cast<size_t>(c.d), 0.0);
    for (int64_t j = 0; j < c.n; ++j) {
        double s = 0;
        for (int64_t k = 0; k < c.d; ++k) s += c.x[static_cast<size_t>(i * c.d + k)] * c.x[static_cast<size_t>(j * c.d + k)];
        const double h = g(i, j, s) + g(j, i, s);
        for (int64_t k = 0; k < c.d; ++k) row[static_cast<size_t>(k)] += h * c.x[static_cast<size_t>(j * c.d + k)];
    }
    return row;
}

// N = 20000 self-similarity (4·10^8 pairs, streamed: the matrix would be 1.6 GB), Keras gradients.
// The float64 reference is O(N²·D), so: the float64 library's saved state and per-sample losses are
// checked against the direct float64 computation on 25 sampled rows (1e-10), its gradient rows on 10 of
// them (computed with every row's LP_j, LN_j taken from the library's saved state, itself checked on
// the samples), and the float32 library against the float64 library everywhere (golden tolerances).
//
// The data keep every negative pair clear of s = 1, where the derivative of the clamp jumps (Keras
// negative slope 2·gamma·s for s < 1, 0 from 1 on) and float32 rounding could pick either side: D = 1
// uses ±1 (s exactly ±1); D = 2 puts the 20000 rows on 2000 directions 2π/2000 apart (1 - s >= 4.9e-6
// between directions) with one label per direction, so the exact duplicates are positives, whose
// Keras slope -2·gamma·(1 - s) is continuous at 1.
// AddressSanitizer runs this ~7x slower (the row kernels do not vectorise there): 9000 rows keep it to
// seconds; the streamed plan is forced, as 20000 rows stream by themselves (the 1.6 GB float32 matrix
// is over the default 1 GiB workspace limit) while 9000 would be kept whole.
constexpr int64_t kHugeN = kAddressSanitizer ? 9000 : 20000;

void huge_n_case(int64_t d, bool backward) {
    std::mt19937_64 rng(139 + static_cast<uint64_t>(d));
    Case c;
    if (d == 1) {
        c = random_case(rng, kHugeN, kHugeN, 1, 10, false);
    } else {
        c.n = c.m = kHugeN;
        c.d = 2;
        const double pi = std::acos(-1.0);
        std::uniform_int_distribution<int> direction(0, 1999);
        for (int64_t i = 0; i < c.n; ++i) {
            const int k = direction(rng);
            c.x.push_back(std::cos(2 * pi * k / 2000));
            c.x.push_back(std::sin(2 * pi * k / 2000));
            c.labels.push_back(k % 10);
        }
    }
    c.reduction = CIRCLELOSS_REDUCTION_NONE;  // per-row losses in `loss`; c_i = mask_i
    const PlanScope stream("stream");
    SessionHolder s(2);
    const Call call = backward ? Call::ForwardBackward : Call::ForwardOnly;
    const Result r64 = run_case<double>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, call);
    ASSERT_EQ(r64.status, CIRCLELOSS_STATUS_OK) << r64.message;
    expect_finite(r64);
    const Result r32 = run_case<float>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, call);
    ASSERT_EQ(r32.status, CIRCLELOSS_STATUS_OK) << r32.message;
    expect_finite(r32);

    std::uniform_int_distribution<int64_t> pick(0, c.n - 1);
    for (int k = 0; k < 25; ++k) {
        const int64_t i = k == 0 ? 0 : k == 1 ? c.n - 1 : pick(rng);
        const RowStats st = direct_row(c, i);
        const double lp = r64.saved_state[static_cast<size_t>(2 * i)], ln = r64.saved_state[static_cast<size_t>(2 * i + 1)];
        EXPECT_NEAR(lp, st.lp, kF64Tol * std::max(1.0, std::fabs(st.lp))) << "row " << i;
        EXPECT_NEAR(ln, st.ln, kF64Tol * std::max(1.0, std::fabs(st.ln))) << "row " << i;
        const double loss = softplus(st.lp + st.ln);
        EXPECT_NEAR(r64.per_sample_loss[static_cast<size_t>(i)], loss, kF64Tol * std::max(1.0, loss)) << "row " << i;
        if (backward && k < 10) {
            const std::vector<double> expected = direct_gradient_row(c, i, r64.saved_state);
            const std::vector<double> actual(r64.grad_x.begin() + i * c.d, r64.grad_x.begin() + (i + 1) * c.d);
            EXPECT_LE(normwise_error(actual, expected), 1e-9) << "gradient row " << i;
        }
    }
    EXPECT_LE(normwise_error(r32.loss, r64.loss), kF32LossTol);
    EXPECT_LE(normwise_error(r32.per_sample_loss, r64.per_sample_loss), kF32LossTol);
    if (backward) {
        EXPECT_LE(normwise_error(r32.grad_x, r64.grad_x), kF32GradTol);
    }
}

TEST(Robustness, HugeNWithDimensionOne) { huge_n_case(1, false); }
TEST(Robustness, HugeNWithDimensionTwo) { huge_n_case(2, true); }

}  // namespace
