// Every golden case (independent float64 autodiff results) through the C ABI, in float32 and float64,
// both gradient modes, via the combined call and via forward then backward from the saved state, with
// int32 and int64 labels.
#include <gtest/gtest.h>

#include <string>
#include <ostream>
#include <tuple>

#include "test_support.h"

using namespace testing_support;

namespace {

struct GoldenParam {
    std::string file;
    bool float64;
    circleloss_gradient_mode mode;
    Call call;
    bool int64_labels;
};

std::string base_name(const std::string& path) {
    std::string name = path.substr(path.rfind('/') + 1);
    return name.substr(0, name.size() - 5);
}

std::vector<GoldenParam> golden_params() {
    std::vector<GoldenParam> params;
    for (const auto& file : golden_files())
        for (bool f64 : {false, true})
            for (auto mode : {CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER})
                for (auto call : {Call::ForwardBackward, Call::ForwardThenBackward})
                    for (bool int64_labels : {false, true}) params.push_back({file, f64, mode, call, int64_labels});
    return params;
}

// Readable parameter names in test output instead of raw bytes.
[[maybe_unused]] void PrintTo(const GoldenParam& p, std::ostream* os) {
    *os << base_name(p.file) << (p.float64 ? " f64" : " f32")
        << (p.mode == CIRCLELOSS_GRADIENT_KERAS ? " keras" : " paper")
        << (p.call == Call::ForwardBackward ? " combined" : " two-step") << (p.int64_labels ? " int64" : " int32");
}

class Golden : public ::testing::TestWithParam<GoldenParam> {};

TEST(GoldenFiles, ArePresent) { EXPECT_GE(golden_files().size(), 30u); }

TEST_P(Golden, MatchesIndependentFloat64) {
    const GoldenParam& gp = GetParam();
    const Json root = load_json_file(gp.file);
    Case c = golden_case(root);
    c.int64_labels = gp.int64_labels;
    const Expected e = golden_expected(root, gp.mode == CIRCLELOSS_GRADIENT_KERAS ? "keras" : "paper");
    SessionHolder s(2);
    const Result r = gp.float64 ? run_case<double>(s.session, c, gp.mode, gp.call)
                                : run_case<float>(s.session, c, gp.mode, gp.call);
    ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK) << r.message;
    const double loss_tol = gp.float64 ? 1e-10 : 1e-5;
    const double grad_tol = gp.float64 ? 1e-10 : 1e-4;
    EXPECT_LE(normwise_error(r.loss, e.loss), loss_tol);
    EXPECT_LE(normwise_error(r.per_sample_loss, e.per_sample_loss), loss_tol);
    EXPECT_EQ(r.mask, e.mask);
    EXPECT_LE(normwise_error(r.grad_x, e.grad_x), grad_tol);
    if (c.has_ref_embeddings) {
        EXPECT_LE(normwise_error(r.grad_r, e.grad_r), grad_tol);
    }
}

INSTANTIATE_TEST_SUITE_P(AllCases, Golden, ::testing::ValuesIn(golden_params()),
                         [](const ::testing::TestParamInfo<GoldenParam>& info) {
                             std::string name = base_name(info.param.file);
                             name += info.param.float64 ? "_f64" : "_f32";
                             name += info.param.mode == CIRCLELOSS_GRADIENT_KERAS ? "_keras" : "_paper";
                             name += info.param.call == Call::ForwardBackward ? "_combined" : "_twostep";
                             name += info.param.int64_labels ? "_int64" : "";
                             for (char& ch : name)
                                 if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             return name;
                         });

}  // namespace
