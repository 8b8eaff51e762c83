// Bad inputs of the fields for a call that computes part of a batch (problem->diagonal_offset,
// problem->reduction_divisor, forward_output->reduction_terms) and of circleloss_reduce_terms: the exact
// status, a message naming the argument, untouched outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_support.h"

using namespace testing_support;

namespace {

constexpr double kSentinel = 12345.0;

// A valid float64 part: rows [1, 3) of a 4-row batch against the whole batch as references.
struct Part {
    SessionHolder holder{1};
    std::vector<int32_t> batch_labels{0, 0, 1, 1};
    std::vector<double> batch{1, 0, 0.8, 0.6, 0, 1, 0.6, 0.8};
    std::vector<double> loss = std::vector<double>(2, kSentinel);
    std::vector<double> gx = std::vector<double>(4, kSentinel);
    std::vector<double> gr = std::vector<double>(8, kSentinel);
    double terms[CIRCLELOSS_REDUCTION_TERMS] = {kSentinel, kSentinel};
    circleloss_problem problem;
    circleloss_options options;
    circleloss_forward_output fwd;
    circleloss_gradient_output grad;

    Part() {
        circleloss_problem_init(&problem);
        problem.dtype = CIRCLELOSS_DTYPE_FLOAT64;
        problem.n = 2;
        problem.d = 2;
        problem.m = 4;
        problem.labels = batch_labels.data() + 1;
        problem.embeddings = batch.data() + 2;
        problem.ref_labels = batch_labels.data();
        problem.ref_embeddings = batch.data();
        problem.diagonal_offset = 1;
        problem.reduction_divisor = 3;
        circleloss_options_init(&options);
        circleloss_forward_output_init(&fwd);
        fwd.loss = loss.data();
        fwd.reduction_terms = terms;
        circleloss_gradient_output_init(&grad);
        grad.grad_embeddings = gx.data();
        grad.grad_ref_embeddings = gr.data();
    }
    bool outputs_untouched() const {
        for (const auto* v : {&loss, &gx, &gr})
            for (double x : *v)
                if (x != kSentinel) return false;
        return terms[0] == kSentinel && terms[1] == kSentinel;
    }
};

void expect_rejected(Part& f, const std::string& needle) {
    const circleloss_status status = circleloss_forward_backward(&f.fwd, &f.grad, f.holder.session, &f.options, &f.problem);
    EXPECT_EQ(status, CIRCLELOSS_STATUS_INVALID_ARGUMENT) << circleloss_status_name(status) << ": " << circleloss_last_error();
    EXPECT_NE(std::string(circleloss_last_error()).find(needle), std::string::npos)
        << "message '" << circleloss_last_error() << "' does not mention '" << needle << "'";
    EXPECT_TRUE(f.outputs_untouched());
}

TEST(BatchPartBadInput, ValidPartSucceeds) {
    Part f;
    ASSERT_EQ(circleloss_forward_backward(&f.fwd, &f.grad, f.holder.session, &f.options, &f.problem), CIRCLELOSS_STATUS_OK)
        << circleloss_last_error();
    EXPECT_GT(f.terms[0], 0);
    EXPECT_EQ(f.terms[1], 2);  // both rows have a positive and a negative: count(mask) = 2
}

TEST(BatchPartBadInput, DiagonalOffset) {
    {
        Part f;  // self-similarity: the diagonal is j == i by construction
        f.problem.m = 0;
        f.problem.ref_labels = nullptr;
        f.problem.ref_embeddings = nullptr;
        f.grad.grad_ref_embeddings = nullptr;
        expect_rejected(f, "problem->diagonal_offset must be 0 when no ref_embeddings are given (got 1)");
    }
    {
        Part f;  // ref_labels alone: the queries are still their own reference embeddings
        f.problem.m = 2;
        f.problem.ref_embeddings = nullptr;
        f.grad.grad_ref_embeddings = nullptr;
        expect_rejected(f, "problem->diagonal_offset must be 0 when no ref_embeddings are given");
    }
    {
        Part f;
        f.problem.diagonal_offset = std::numeric_limits<int64_t>::min();
        expect_rejected(f, "problem->diagonal_offset must be within [-2^62, 2^62] (got -9223372036854775808)");
    }
    {
        Part f;
        f.problem.diagonal_offset = (int64_t(1) << 62) + 1;
        expect_rejected(f, "problem->diagonal_offset must be within [-2^62, 2^62]");
    }
    // Offsets that put no pair on the diagonal (rows beyond the references, say) are accepted.
    for (int64_t edge : {int64_t(-2), int64_t(4), int64_t(1000), -(int64_t(1) << 62), int64_t(1) << 62}) {
        Part f;
        f.problem.diagonal_offset = edge;
        EXPECT_EQ(circleloss_forward_backward(&f.fwd, &f.grad, f.holder.session, &f.options, &f.problem), CIRCLELOSS_STATUS_OK)
            << circleloss_last_error();
    }
}

TEST(BatchPartBadInput, ReductionDivisor) {
    { Part f; f.problem.reduction_divisor = -1; expect_rejected(f, "problem->reduction_divisor must be 0 (the call's own divisor) or finite and > 0 (got -1)"); }
    { Part f; f.problem.reduction_divisor = std::nan(""); expect_rejected(f, "problem->reduction_divisor must be 0"); }
    { Part f; f.problem.reduction_divisor = INFINITY; expect_rejected(f, "problem->reduction_divisor must be 0"); }
    {
        Part f;
        f.options.reduction = CIRCLELOSS_REDUCTION_NONE;
        f.fwd.reduction_terms = nullptr;
        expect_rejected(f, "problem->reduction_divisor must be 0 for reduction NONE, which does not divide (got 3)");
    }
}

TEST(BatchPartBadInput, ReductionTermsWithReductionNone) {
    Part f;
    f.options.reduction = CIRCLELOSS_REDUCTION_NONE;
    f.problem.reduction_divisor = 0;
    expect_rejected(f, "forward_output->reduction_terms must be NULL for reduction NONE");
}

TEST(BatchPartBadInput, ReduceTerms) {
    double loss = kSentinel, divisor = kSentinel;
    const double good[CIRCLELOSS_REDUCTION_TERMS] = {6, 4};
    auto rejected = [&](circleloss_status status, const std::string& needle) {
        EXPECT_EQ(status, CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(circleloss_last_error()).find(needle), std::string::npos) << circleloss_last_error();
        EXPECT_EQ(loss, kSentinel);
        EXPECT_EQ(divisor, kSentinel);
    };
    rejected(circleloss_reduce_terms(nullptr, &divisor, CIRCLELOSS_REDUCTION_MEAN, good), "out_loss must not be NULL");
    rejected(circleloss_reduce_terms(&loss, nullptr, CIRCLELOSS_REDUCTION_MEAN, good), "out_divisor must not be NULL");
    rejected(circleloss_reduce_terms(&loss, &divisor, CIRCLELOSS_REDUCTION_MEAN, nullptr), "summed_terms must not be NULL");
    rejected(circleloss_reduce_terms(&loss, &divisor, CIRCLELOSS_REDUCTION_NONE, good), "reduction NONE has no reduction terms");
    rejected(circleloss_reduce_terms(&loss, &divisor, static_cast<circleloss_reduction>(9), good),
             "reduction is not a circleloss_reduction value (got 9)");
    const double negative[CIRCLELOSS_REDUCTION_TERMS] = {6, -1};
    rejected(circleloss_reduce_terms(&loss, &divisor, CIRCLELOSS_REDUCTION_MEAN, negative),
             "summed_terms[1] (the divisor) must be finite and >= 0 (got -1)");
    const double nan_sum[CIRCLELOSS_REDUCTION_TERMS] = {std::nan(""), 1};
    rejected(circleloss_reduce_terms(&loss, &divisor, CIRCLELOSS_REDUCTION_MEAN, nan_sum),
             "summed_terms[0] (the weighted masked loss sum) must be finite and >= 0");
}

// The rule of design.md 1.4, applied to summed terms: SUM ignores the parts' divisors, the others
// divide, and a divisor of 0 gives 0.
TEST(BatchParts, ReduceTermsAppliesTheDivisionRule) {
    double loss = 0, divisor = 0;
    const double terms[CIRCLELOSS_REDUCTION_TERMS] = {6, 4};
    ASSERT_EQ(circleloss_reduce_terms(&loss, &divisor, CIRCLELOSS_REDUCTION_SUM, terms), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(loss, 6);
    EXPECT_EQ(divisor, 1);
    for (auto r : {CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE, CIRCLELOSS_REDUCTION_MEAN,
                   CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT}) {
        ASSERT_EQ(circleloss_reduce_terms(&loss, &divisor, r, terms), CIRCLELOSS_STATUS_OK);
        EXPECT_EQ(loss, 1.5);
        EXPECT_EQ(divisor, 4);
    }
    const double empty[CIRCLELOSS_REDUCTION_TERMS] = {0, 0};
    ASSERT_EQ(circleloss_reduce_terms(&loss, &divisor, CIRCLELOSS_REDUCTION_MEAN, empty), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(loss, 0);
    EXPECT_EQ(divisor, 0);
    EXPECT_STREQ(circleloss_last_error(), "");
}

}  // namespace
