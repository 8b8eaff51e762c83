// Random cases against the naive float64 reference, finite differences of the Keras-mode gradient,
// and invariances (row permutation, thread count, tiling).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <cstdlib>
#include <random>
#include <string>

#include "test_support.h"

using namespace testing_support;

namespace {

const char* const kPlans[] = {"materialise", "stream"};

void expect_matches_reference_with_plan(const Case& c, circleloss_gradient_mode mode, int threads, double f32_tol) {
    const Expected e = reference(c, mode);
    SessionHolder s(threads);
    const Result r64 = run_case<double>(s.session, c, mode, Call::ForwardBackward);
    ASSERT_EQ(r64.status, CIRCLELOSS_STATUS_OK) << r64.message;
    EXPECT_LE(normwise_error(r64.loss, e.loss), 1e-10);
    EXPECT_LE(normwise_error(r64.grad_x, e.grad_x), 1e-10);
    EXPECT_EQ(r64.mask, e.mask);
    if (c.has_ref_embeddings) {
        EXPECT_LE(normwise_error(r64.grad_r, e.grad_r), 1e-10);
    }
    // float32 through the two-step path (forward, then backward from the saved state).
    const Result r32 = run_case<float>(s.session, c, mode, Call::ForwardThenBackward);
    ASSERT_EQ(r32.status, CIRCLELOSS_STATUS_OK) << r32.message;
    EXPECT_LE(normwise_error(r32.loss, e.loss), f32_tol);
    EXPECT_LE(normwise_error(r32.grad_x, e.grad_x), 1e-4);
    if (c.has_ref_embeddings) {
        EXPECT_LE(normwise_error(r32.grad_r, e.grad_r), 1e-4);
    }
}

void expect_matches_reference(const Case& c, circleloss_gradient_mode mode, int threads, double f32_tol) {
    for (const char* plan : kPlans) {
        SCOPED_TRACE(plan);
        PlanScope scope(plan);
        expect_matches_reference_with_plan(c, mode, threads, f32_tol);
    }
}

TEST(Reference, SelfSimilarityAcrossTileBoundaries) {
    std::mt19937_64 rng(7);
    // 600 rows: three 256-row panels of the materialised symmetric plan (row and column log-sum-exps),
    // ten 64-row blocks of the streamed one.
    Case c = random_case(rng, 600, 600, 24, 6, false);
    for (auto mode : {CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER}) expect_matches_reference(c, mode, 3, 1e-5);
}

TEST(Reference, ReferenceSetWiderThanOneColumnTile) {
    std::mt19937_64 rng(11);
    Case c = random_case(rng, 70, 1100, 9, 5, true);
    for (auto reduction : {CIRCLELOSS_REDUCTION_NONE, CIRCLELOSS_REDUCTION_SUM, CIRCLELOSS_REDUCTION_MEAN,
                           CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT}) {
        c.reduction = reduction;
        expect_matches_reference(c, CIRCLELOSS_GRADIENT_KERAS, 2, 1e-5);
    }
}

TEST(Reference, ReferenceLabelsOnlyWithWeightsAndUpstream) {
    std::mt19937_64 rng(13);
    Case c = random_case(rng, 90, 90, 7, 4, false, true);
    // The diagonal can be a negative pair here; scale off s = 1, where the clamp's slope jumps.
    for (double& v : c.x) v *= 0.9;
    std::uniform_real_distribution<double> u(0.0, 2.0);
    for (int64_t i = 0; i < c.n; ++i) c.weights.push_back(u(rng));
    c.reduction = CIRCLELOSS_REDUCTION_NONE;
    for (int64_t i = 0; i < c.n; ++i) c.upstream.push_back(u(rng) - 1.0);
    expect_matches_reference(c, CIRCLELOSS_GRADIENT_KERAS, 2, 1e-5);
    expect_matches_reference(c, CIRCLELOSS_GRADIENT_PAPER, 1, 1e-5);
}

TEST(Reference, ScalarUpstreamScalesGradients) {
    std::mt19937_64 rng(17);
    Case c = random_case(rng, 20, 20, 6, 3, false);
    c.upstream = {-2.5};
    expect_matches_reference(c, CIRCLELOSS_GRADIENT_KERAS, 1, 1e-5);
}

TEST(Reference, KeepDiagonalAndLargeGamma) {
    std::mt19937_64 rng(19);
    Case c = random_case(rng, 33, 33, 5, 3, false);
    for (double& v : c.x) v *= 0.9;  // keep the diagonal off the clamp of max(1 - s, 0)
    c.remove_diagonal = false;
    c.gamma = 1024;
    c.margin = 0.05;
    expect_matches_reference(c, CIRCLELOSS_GRADIENT_KERAS, 2, 1e-5);
}

// Central differences of the float64 loss against the Keras-mode gradient.
double loss_at(circleloss_session* s, const Case& c) {
    const Result r = run_case<double>(s, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardOnly);
    EXPECT_EQ(r.status, CIRCLELOSS_STATUS_OK) << r.message;
    return r.loss[0];
}

void expect_finite_differences(Case c) {
    SessionHolder s(2);
    const Result r = run_case<double>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
    ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK);
    const double h = 1e-6;
    double max_err = 0, max_grad = 0;
    auto probe = [&](std::vector<double>& v, const std::vector<double>& analytic) {
        for (size_t k = 0; k < v.size(); ++k) {
            const double keep = v[k];
            v[k] = keep + h;
            const double up = loss_at(s.session, c);
            v[k] = keep - h;
            const double down = loss_at(s.session, c);
            v[k] = keep;
            max_err = std::max(max_err, std::fabs((up - down) / (2 * h) - analytic[k]));
            max_grad = std::max(max_grad, std::fabs(analytic[k]));
        }
    };
    probe(c.x, r.grad_x);
    if (c.has_ref_embeddings) probe(c.r, r.grad_r);
    EXPECT_GT(max_grad, 0.0);
    EXPECT_LE(max_err / max_grad, 1e-6) << "max abs error " << max_err;
}

TEST(FiniteDifferences, SelfSimilarityKerasGradient) {
    std::mt19937_64 rng(23);
    Case c = random_case(rng, 12, 12, 5, 3, false);
    c.gamma = 16;
    expect_finite_differences(c);
}

TEST(FiniteDifferences, ReferenceSetWithWeightsKerasGradient) {
    std::mt19937_64 rng(29);
    Case c = random_case(rng, 9, 14, 4, 3, true);
    c.gamma = 24;
    c.margin = 0.25;
    c.weights = {0.5, 1, 2, 0.1, 1, 1.5, 0.7, 3, 1};
    c.reduction = CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT;
    expect_finite_differences(c);
}

TEST(Invariance, PermutingRowsPermutesOutputs) {
    std::mt19937_64 rng(31);
    Case c = random_case(rng, 40, 40, 8, 5, false);
    c.reduction = CIRCLELOSS_REDUCTION_NONE;
    c.remove_diagonal = true;
    std::vector<int64_t> perm(static_cast<size_t>(c.n));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    Case p = c;
    for (int64_t i = 0; i < c.n; ++i) {
        const int64_t from = perm[static_cast<size_t>(i)];
        p.labels[static_cast<size_t>(i)] = c.labels[static_cast<size_t>(from)];
        for (int64_t k = 0; k < c.d; ++k) p.x[static_cast<size_t>(i * c.d + k)] = c.x[static_cast<size_t>(from * c.d + k)];
    }
    SessionHolder s(2);
    const Result a = run_case<double>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
    const Result b = run_case<double>(s.session, p, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
    for (int64_t i = 0; i < c.n; ++i) {
        const int64_t from = perm[static_cast<size_t>(i)];
        EXPECT_NEAR(b.loss[static_cast<size_t>(i)], a.loss[static_cast<size_t>(from)], 1e-9);
        for (int64_t k = 0; k < c.d; ++k)
            EXPECT_NEAR(b.grad_x[static_cast<size_t>(i * c.d + k)], a.grad_x[static_cast<size_t>(from * c.d + k)], 1e-9);
    }
}

TEST(Invariance, ResultsAreBitwiseIndependentOfThreadCount) {
    std::mt19937_64 rng(37);
    for (const Case& c : {random_case(rng, 200, 1500, 16, 8, true), random_case(rng, 300, 300, 16, 8, false)})
    for (const char* plan : kPlans) {
    SCOPED_TRACE(plan);
    PlanScope scope(plan);
    Result first;
    for (int threads : {1, 2, 3, 5}) {
        SessionHolder s(threads);
        const Result r = run_case<float>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
        ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK);
        if (threads == 1) {
            first = r;
            continue;
        }
        EXPECT_EQ(r.loss, first.loss);
        EXPECT_EQ(r.grad_x, first.grad_x);
        EXPECT_EQ(r.grad_r, first.grad_r);
    }
    }
}

// The plans sum in different orders: float64 agrees to rounding; float32 losses to 1e-6, float32
// gradients (sums with cancellation) to well inside the golden tolerance.
template <class T>
void expect_plans_agree(const Case& c, double loss_tol, double grad_tol) {
    Result results[2];
    for (int k = 0; k < 2; ++k) {
        PlanScope scope(kPlans[k]);
        SessionHolder s(2);
        results[k] = run_case<T>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
        ASSERT_EQ(results[k].status, CIRCLELOSS_STATUS_OK);
    }
    EXPECT_LE(normwise_error(results[1].loss, results[0].loss), loss_tol);
    EXPECT_LE(normwise_error(results[1].grad_x, results[0].grad_x), grad_tol);
    if (c.has_ref_embeddings) {
        EXPECT_LE(normwise_error(results[1].grad_r, results[0].grad_r), grad_tol);
    }
}

TEST(Invariance, MaterialisedAndStreamedPlansAgree) {
    std::mt19937_64 rng(39);
    for (const Case& c : {random_case(rng, 260, 2100, 16, 8, true), random_case(rng, 520, 520, 24, 10, false)}) {
        expect_plans_agree<float>(c, 1e-6, 5e-5);
        expect_plans_agree<double>(c, 1e-12, 1e-10);
    }
}

TEST(Sessions, UnknownPlanInEnvironmentIsRefused) {
    PlanScope scope("fastest");
    circleloss_session* s = nullptr;
    EXPECT_EQ(circleloss_session_create(&s, nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(std::string(circleloss_last_error()).find("CIRCLELOSS_CPU_PLAN"), std::string::npos);
}

TEST(Invariance, ForwardValuesAreTheSameInBothModes) {
    std::mt19937_64 rng(41);
    Case c = random_case(rng, 30, 30, 6, 4, false);
    SessionHolder s(1);
    const Result k = run_case<float>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardOnly);
    const Result p = run_case<float>(s.session, c, CIRCLELOSS_GRADIENT_PAPER, Call::ForwardOnly);
    EXPECT_EQ(k.loss, p.loss);
    EXPECT_EQ(k.per_sample_loss, p.per_sample_loss);
}

TEST(EdgeCases, EmptyBatchGivesZeroLoss) {
    Case c;
    c.n = 0;
    c.d = 3;
    SessionHolder s(1);
    for (auto reduction : {CIRCLELOSS_REDUCTION_SUM, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE,
                           CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT}) {
        c.reduction = reduction;
        const Result r = run_case<float>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
        ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK) << r.message;
        EXPECT_EQ(r.loss, std::vector<double>{0.0});
    }
}

TEST(EdgeCases, RowsWithoutPositivesOrNegativesGiveZeroNotNaN) {
    std::mt19937_64 rng(43);
    Case c = random_case(rng, 10, 10, 4, 1, false);  // one class: no negatives anywhere
    SessionHolder s(1);
    const Result r = run_case<float>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
    ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(r.loss[0], 0.0);
    for (double g : r.grad_x) EXPECT_EQ(g, 0.0);
    for (int v : r.mask) EXPECT_EQ(v, 0);
}

TEST(EdgeCases, EmptyReferenceSet) {
    std::mt19937_64 rng(47);
    Case c = random_case(rng, 5, 0, 3, 2, true);
    c.r.assign(3, 0.0);  // an empty set is given by non-NULL pointers with m = 0
    c.ref_labels.assign(1, 0);
    SessionHolder s(1);
    const Result r = run_case<double>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
    ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK) << r.message;
    EXPECT_EQ(r.loss[0], 0.0);
    for (double g : r.grad_x) EXPECT_EQ(g, 0.0);
}

TEST(EdgeCases, NearDuplicateEmbeddingsStayFinite) {
    Case c;
    c.n = 4;
    c.d = 2;
    c.labels = {0, 0, 1, 1};
    c.x = {1, 0, 1, 1e-7, 1, 0, 0.6, 0.8};  // rows 0, 2 identical across classes: s = 1 for a negative
    c.gamma = 1024;
    c.margin = 0.99;
    SessionHolder s(1);
    for (auto mode : {CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER}) {
        const Result r = run_case<float>(s.session, c, mode, Call::ForwardBackward);
        ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK);
        const Expected e = reference(c, mode);
        EXPECT_TRUE(std::isfinite(r.loss[0]));
        for (double g : r.grad_x) EXPECT_TRUE(std::isfinite(g));
        EXPECT_LE(normwise_error(r.loss, e.loss), 1e-5);
    }
}

}  // namespace

// Labels as int64 (circleloss_label_type INT64) give the results of the same labels as int32, in both
// plans, with and without references; the int64 labels differ only in their high halves, so a kernel
// that compared 32 bits would be far off. (Not bitwise: the wider label loads can change how the
// compiler vectorises the row sums, i.e. their order.)
TEST(Invariance, Int64LabelsGiveTheResultsOfInt32Labels) {
    std::mt19937_64 rng(64);
    for (const Case& base : {random_case(rng, 150, 1300, 12, 7, true), random_case(rng, 280, 280, 12, 7, false),
                             random_case(rng, 90, 90, 6, 5, false, true)})
        for (const char* plan : kPlans) {
            SCOPED_TRACE(plan);
            PlanScope scope(plan);
            SessionHolder s(2);
            Case wide = base;
            wide.int64_labels = true;
            for (auto mode : {CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER}) {
                const Result a = run_case<float>(s.session, base, mode, Call::ForwardBackward);
                const Result b = run_case<float>(s.session, wide, mode, Call::ForwardThenBackward);
                ASSERT_EQ(a.status, CIRCLELOSS_STATUS_OK) << a.message;
                ASSERT_EQ(b.status, CIRCLELOSS_STATUS_OK) << b.message;
                EXPECT_EQ(a.mask, b.mask);
                EXPECT_LE(normwise_error(b.per_sample_loss, a.per_sample_loss), 1e-6);
                EXPECT_LE(normwise_error(b.grad_x, a.grad_x), 1e-5);
                EXPECT_LE(normwise_error(b.grad_r, a.grad_r), 1e-5);
                const Result a64 = run_case<double>(s.session, base, mode, Call::ForwardBackward);
                const Result b64 = run_case<double>(s.session, wide, mode, Call::ForwardBackward);
                EXPECT_EQ(a64.mask, b64.mask);
                EXPECT_LE(normwise_error(b64.per_sample_loss, a64.per_sample_loss), 1e-14);
                EXPECT_LE(normwise_error(b64.grad_x, a64.grad_x), 1e-13);
                EXPECT_LE(normwise_error(b64.grad_r, a64.grad_r), 1e-13);
            }
        }
}
