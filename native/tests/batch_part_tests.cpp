// A batch computed in parts (problem->diagonal_offset, problem->reduction_divisor,
// forward_output->reduction_terms, circleloss_reduce_terms): what a distributed caller does, one part
// per process. (a) At their defaults the new fields change nothing, bitwise; (b) the parts of every golden
// case and of random cases with unequal slices reproduce the whole batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"

using namespace testing_support;

namespace {

// Row boundaries of `parts` unequal slices of n rows (the first slices larger; some may be empty).
std::vector<int64_t> slice_starts(int64_t n, int parts) {
    std::vector<int64_t> starts{0};
    int64_t left = n;
    for (int k = 0; k < parts; ++k) {
        const int64_t size = k + 1 == parts ? left : (left * 2 + parts - k - 1) / (parts - k + 1);
        starts.push_back(starts.back() + size);
        left -= size;
    }
    return starts;
}

// The batch as `parts` calls, each on a slice of the queries against the whole reference set (the batch
// itself when the case has no ref_embeddings), as a distributed caller runs it: forward with reduction
// terms, the terms summed, circleloss_reduce_terms, backward with the batch's divisor; gradients of the
// reference role summed over the parts and, for self-similarity, added to the queries' own.
template <class T>
Result run_in_parts(circleloss_session* session, const Case& c, circleloss_gradient_mode mode, int parts) {
    const std::vector<T> x = cast<T>(c.x), w = cast<T>(c.weights), up = cast<T>(c.upstream);
    const std::vector<T> r = c.has_ref_embeddings ? cast<T>(c.r) : x;
    const std::vector<int32_t>& ry = c.has_ref_labels ? c.ref_labels : c.labels;
    const int64_t n = c.n, d = c.d, m = c.has_ref_embeddings ? c.m : c.n;
    const bool none = c.reduction == CIRCLELOSS_REDUCTION_NONE;
    const circleloss_options o = options_of(c, mode);
    const std::vector<int64_t> starts = slice_starts(n, parts);

    Result result;
    result.loss.assign(none ? static_cast<size_t>(n) : 1, 0.0);
    result.per_sample_loss.assign(static_cast<size_t>(n), 0.0);
    result.mask.assign(static_cast<size_t>(n), 0);
    result.grad_x.assign(static_cast<size_t>(n * d), 0.0);
    std::vector<double> grad_refs(static_cast<size_t>(m * d), 0.0);

    auto problem_of = [&](int k) {
        const int64_t i0 = starts[static_cast<size_t>(k)], rows = starts[static_cast<size_t>(k) + 1] - i0;
        circleloss_problem p;
        circleloss_problem_init(&p);
        p.dtype = sizeof(T) == 4 ? CIRCLELOSS_DTYPE_FLOAT32 : CIRCLELOSS_DTYPE_FLOAT64;
        p.n = rows;
        p.d = d;
        p.m = m;
        p.labels = c.labels.data() + i0;
        p.embeddings = x.data() + i0 * d;
        p.ref_labels = ry.data();
        p.ref_embeddings = r.data();
        p.sample_weights = w.empty() ? nullptr : w.data() + i0;
        p.upstream = up.empty() ? nullptr : (none ? up.data() + i0 : up.data());
        p.diagonal_offset = i0;
        return p;
    };

    // Forward: every part's rows and its reduction terms.
    std::vector<std::vector<T>> states(static_cast<size_t>(parts));
    double summed[CIRCLELOSS_REDUCTION_TERMS] = {0, 0};
    for (int k = 0; k < parts; ++k) {
        const circleloss_problem p = problem_of(k);
        const size_t rows = static_cast<size_t>(p.n), i0 = static_cast<size_t>(starts[static_cast<size_t>(k)]);
        std::vector<T> loss(none ? rows : 1), per(rows);
        std::vector<uint8_t> mask(rows);
        states[static_cast<size_t>(k)].resize(2 * rows);
        double terms[CIRCLELOSS_REDUCTION_TERMS] = {-1, -1};
        circleloss_forward_output fo;
        circleloss_forward_output_init(&fo);
        fo.loss = loss.data();
        fo.per_sample_loss = per.data();
        fo.mask = mask.data();
        fo.saved_state = states[static_cast<size_t>(k)].data();
        fo.reduction_terms = none ? nullptr : terms;
        result.status = circleloss_forward(&fo, session, &o, &p);
        if (result.status != CIRCLELOSS_STATUS_OK) {
            result.message = circleloss_last_error();
            return result;
        }
        for (size_t i = 0; i < rows; ++i) {
            result.per_sample_loss[i0 + i] = static_cast<double>(per[i]);
            result.mask[i0 + i] = mask[i];
            if (none) result.loss[i0 + i] = static_cast<double>(loss[i]);
        }
        summed[0] += terms[0];
        summed[1] += terms[1];
    }
    double batch_divisor = 0;
    if (!none) {
        double batch_loss = 0;
        result.status = circleloss_reduce_terms(&batch_loss, &batch_divisor, c.reduction, summed);
        if (result.status != CIRCLELOSS_STATUS_OK) {
            result.message = circleloss_last_error();
            return result;
        }
        result.loss[0] = static_cast<double>(static_cast<T>(batch_loss));
    }
    // Backward with the batch's divisor.
    for (int k = 0; k < parts; ++k) {
        circleloss_problem p = problem_of(k);
        p.reduction_divisor = batch_divisor;
        const size_t rows = static_cast<size_t>(p.n), i0 = static_cast<size_t>(starts[static_cast<size_t>(k)]);
        std::vector<T> gx(rows * static_cast<size_t>(d)), gr(static_cast<size_t>(m * d));
        circleloss_gradient_output go;
        circleloss_gradient_output_init(&go);
        go.grad_embeddings = gx.data();
        go.grad_ref_embeddings = gr.data();
        result.status = circleloss_backward(&go, session, &o, &p, states[static_cast<size_t>(k)].data());
        if (result.status != CIRCLELOSS_STATUS_OK) {
            result.message = circleloss_last_error();
            return result;
        }
        for (size_t e = 0; e < gx.size(); ++e) result.grad_x[i0 * static_cast<size_t>(d) + e] += static_cast<double>(gx[e]);
        for (size_t e = 0; e < gr.size(); ++e) grad_refs[e] += static_cast<double>(gr[e]);
    }
    if (c.has_ref_embeddings) {
        result.grad_r = grad_refs;
    } else {
        for (size_t e = 0; e < grad_refs.size(); ++e) result.grad_x[e] += grad_refs[e];
    }
    return result;
}

// ---- (b) parts reproduce the whole batch -------------------------------------------------------------

struct PartsParam {
    std::string file;
    bool float64;
    circleloss_gradient_mode mode;
};

std::string base_name(const std::string& path) {
    std::string name = path.substr(path.rfind('/') + 1);
    return name.substr(0, name.size() - 5);
}

std::vector<PartsParam> parts_params() {
    std::vector<PartsParam> params;
    for (const auto& file : golden_files())
        for (bool f64 : {false, true})
            for (auto mode : {CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER}) params.push_back({file, f64, mode});
    return params;
}

[[maybe_unused]] void PrintTo(const PartsParam& p, std::ostream* os) {
    *os << base_name(p.file) << (p.float64 ? " f64" : " f32") << (p.mode == CIRCLELOSS_GRADIENT_KERAS ? " keras" : " paper");
}

class GoldenInParts : public ::testing::TestWithParam<PartsParam> {};

// 1 to 4 parts against the whole batch computed in one call (float64: 1e-12 relative, normwise) and
// against the golden values (the golden tolerances).
TEST_P(GoldenInParts, ReproduceTheWholeBatch) {
    const PartsParam& gp = GetParam();
    const Json root = load_json_file(gp.file);
    const Case c = golden_case(root);
    const Expected e = golden_expected(root, gp.mode == CIRCLELOSS_GRADIENT_KERAS ? "keras" : "paper");
    SessionHolder s(2);
    const Result whole = gp.float64 ? run_case<double>(s.session, c, gp.mode, Call::ForwardThenBackward)
                                    : run_case<float>(s.session, c, gp.mode, Call::ForwardThenBackward);
    ASSERT_EQ(whole.status, CIRCLELOSS_STATUS_OK) << whole.message;
    const double tol = gp.float64 ? 1e-12 : 1e-5;
    for (int parts = 1; parts <= 4; ++parts) {
        SCOPED_TRACE("parts " + std::to_string(parts));
        const Result r = gp.float64 ? run_in_parts<double>(s.session, c, gp.mode, parts)
                                    : run_in_parts<float>(s.session, c, gp.mode, parts);
        ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK) << r.message;
        EXPECT_LE(normwise_error(r.loss, whole.loss), tol);
        EXPECT_LE(normwise_error(r.per_sample_loss, whole.per_sample_loss), tol);
        EXPECT_EQ(r.mask, whole.mask);
        EXPECT_LE(normwise_error(r.grad_x, whole.grad_x), gp.float64 ? 1e-12 : 1e-4);
        if (c.has_ref_embeddings) {
            EXPECT_LE(normwise_error(r.grad_r, whole.grad_r), gp.float64 ? 1e-12 : 1e-4);
        }
        // And the independent truth, at the golden tolerances.
        const double loss_tol = gp.float64 ? 1e-10 : 1e-5, grad_tol = gp.float64 ? 1e-10 : 1e-4;
        EXPECT_LE(normwise_error(r.loss, e.loss), loss_tol);
        EXPECT_LE(normwise_error(r.grad_x, e.grad_x), grad_tol);
        if (c.has_ref_embeddings) {
            EXPECT_LE(normwise_error(r.grad_r, e.grad_r), grad_tol);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllCases, GoldenInParts, ::testing::ValuesIn(parts_params()),
                         [](const ::testing::TestParamInfo<PartsParam>& info) {
                             std::string name = base_name(info.param.file);
                             name += info.param.float64 ? "_f64" : "_f32";
                             name += info.param.mode == CIRCLELOSS_GRADIENT_KERAS ? "_keras" : "_paper";
                             for (char& ch : name)
                                 if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             return name;
                         });

// Random cases with unequal slices, every reduction, weights, reference sets and both label roles
// (fixed seed).
TEST(BatchParts, RandomCasesWithUnequalSlicesReproduceTheWholeBatch) {
    std::mt19937_64 rng(20250715);
    SessionHolder s(2);
    const circleloss_reduction reductions[] = {CIRCLELOSS_REDUCTION_NONE, CIRCLELOSS_REDUCTION_SUM,
                                               CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE, CIRCLELOSS_REDUCTION_MEAN,
                                               CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT};
    for (int variant = 0; variant < 3; ++variant) {
        for (circleloss_reduction reduction : reductions) {
            const bool refs = variant == 1, ref_labels_only = variant == 2;
            // ref_labels alone must match the queries in number.
            Case c = random_case(rng, 37, ref_labels_only ? 37 : 29, 6, 4, refs, ref_labels_only);
            // With reference labels alone, row i is its own reference and, for another label, a negative at
            // s = <x_i, x_i> = 1: the kink of max(1 - s, 0), where the gradient jumps (2γs or 0) on the last
            // bit. The whole batch (symmetric product) and its parts (explicit products) round that bit
            // differently on some GEMMs (Eigen on win-x64), so such rows have norm 0.9, as the golden `norm09`
            // cases do.
            if (ref_labels_only) {
                for (double& v : c.x) v *= 0.9;
            }
            c.reduction = reduction;
            c.gamma = 32;
            std::uniform_real_distribution<double> weight(0.0, 2.0);
            for (int64_t i = 0; i < c.n; ++i) c.weights.push_back(i % 7 == 3 ? 0.0 : weight(rng));
            const size_t upstream_count = reduction == CIRCLELOSS_REDUCTION_NONE ? static_cast<size_t>(c.n) : 1;
            for (size_t i = 0; i < upstream_count; ++i) c.upstream.push_back(0.5 + weight(rng));
            for (auto mode : {CIRCLELOSS_GRADIENT_KERAS, CIRCLELOSS_GRADIENT_PAPER}) {
                const Result whole = run_case<double>(s.session, c, mode, Call::ForwardThenBackward);
                ASSERT_EQ(whole.status, CIRCLELOSS_STATUS_OK) << whole.message;
                for (int parts = 1; parts <= 4; ++parts) {
                    SCOPED_TRACE("variant " + std::to_string(variant) + ", reduction " + std::to_string(reduction) +
                                 ", parts " + std::to_string(parts));
                    const Result r = run_in_parts<double>(s.session, c, mode, parts);
                    ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK) << r.message;
                    EXPECT_LE(normwise_error(r.loss, whole.loss), 1e-12);
                    EXPECT_LE(normwise_error(r.per_sample_loss, whole.per_sample_loss), 1e-12);
                    EXPECT_EQ(r.mask, whole.mask);
                    EXPECT_LE(normwise_error(r.grad_x, whole.grad_x), 1e-12);
                    if (refs) {
                        EXPECT_LE(normwise_error(r.grad_r, whole.grad_r), 1e-12);
                    }
                }
            }
        }
    }
}

// ---- (a) the defaults change nothing, bitwise -------------------------------------------------------

// Every golden case: the 0.1.0 layouts of problem and forward output (only those bytes exist: ASan
// fails a read past them) give bitwise the results of the current layouts with the new fields at their
// defaults, and supplying the call's own divisor (from its reduction terms) changes no bit either.
TEST(BatchParts, DefaultsLeaveEveryGoldenCaseBitwiseUnchanged) {
    constexpr size_t kOldProblem = offsetof(circleloss_problem, diagonal_offset);
    constexpr size_t kOldForward = offsetof(circleloss_forward_output, reduction_terms);
    static_assert(kOldProblem == 88, "the 0.1.0 layout of circleloss_problem");
    static_assert(kOldForward == 40, "the 0.1.0 layout of circleloss_forward_output");
    SessionHolder s(2);
    for (const auto& file : golden_files()) {
        SCOPED_TRACE(file);
        const Case c = golden_case(load_json_file(file));
        const std::vector<double> x = c.x, r = c.r, w = c.weights, up = c.upstream;
        circleloss_problem p;
        circleloss_problem_init(&p);
        p.dtype = CIRCLELOSS_DTYPE_FLOAT64;
        p.n = c.n;
        p.d = c.d;
        p.m = (c.has_ref_labels || c.has_ref_embeddings) ? c.m : 0;
        p.labels = c.labels.data();
        p.embeddings = x.data();
        p.ref_labels = c.has_ref_labels ? c.ref_labels.data() : nullptr;
        p.ref_embeddings = c.has_ref_embeddings ? r.data() : nullptr;
        p.sample_weights = w.empty() ? nullptr : w.data();
        p.upstream = up.empty() ? nullptr : up.data();
        const circleloss_options o = options_of(c, CIRCLELOSS_GRADIENT_KERAS);
        const bool none = c.reduction == CIRCLELOSS_REDUCTION_NONE;
        const size_t n = static_cast<size_t>(c.n), nd = n * static_cast<size_t>(c.d);
        const size_t md = c.has_ref_embeddings ? static_cast<size_t>(c.m * c.d) : 0;

        struct Outputs {
            std::vector<double> loss, per, state, gx, gr;
            std::vector<uint8_t> mask;
            double terms[CIRCLELOSS_REDUCTION_TERMS] = {0, 0};
        };
        auto run = [&](const circleloss_problem* problem, bool old_forward_layout, bool with_terms, Outputs& out) {
            out.loss.assign(none ? n : 1, -1.0);
            out.per.assign(n, -1.0);
            out.state.assign(2 * n, -1.0);
            out.gx.assign(nd, -1.0);
            out.gr.assign(md, -1.0);
            out.mask.assign(n, 9);
            circleloss_forward_output fo;
            circleloss_forward_output_init(&fo);
            fo.loss = out.loss.data();
            fo.per_sample_loss = out.per.data();
            fo.mask = out.mask.data();
            fo.saved_state = out.state.data();
            fo.reduction_terms = with_terms ? out.terms : nullptr;
            std::unique_ptr<unsigned char[]> old;
            const circleloss_forward_output* fop = &fo;
            if (old_forward_layout) {
                fo.struct_size = kOldForward;
                old = std::make_unique<unsigned char[]>(kOldForward);
                std::memcpy(old.get(), &fo, kOldForward);
                fop = reinterpret_cast<const circleloss_forward_output*>(old.get());
            }
            circleloss_gradient_output go;
            circleloss_gradient_output_init(&go);
            go.grad_embeddings = out.gx.data();
            go.grad_ref_embeddings = c.has_ref_embeddings ? out.gr.data() : nullptr;
            ASSERT_EQ(circleloss_forward_backward(fop, &go, s.session, &o, problem), CIRCLELOSS_STATUS_OK)
                << circleloss_last_error();
        };
        auto same_bits = [](const std::vector<double>& a, const std::vector<double>& b) {
            return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
        };

        Outputs current;
        run(&p, false, !none, current);
        // The 0.1.0 layouts: only the old bytes exist.
        circleloss_problem shortened = p;
        shortened.struct_size = kOldProblem;
        auto old_problem = std::make_unique<unsigned char[]>(kOldProblem);
        std::memcpy(old_problem.get(), &shortened, kOldProblem);
        Outputs old;
        run(reinterpret_cast<const circleloss_problem*>(old_problem.get()), true, false, old);
        EXPECT_TRUE(same_bits(current.loss, old.loss));
        EXPECT_TRUE(same_bits(current.per, old.per));
        EXPECT_TRUE(same_bits(current.state, old.state));
        EXPECT_TRUE(same_bits(current.gx, old.gx));
        EXPECT_TRUE(same_bits(current.gr, old.gr));
        EXPECT_EQ(current.mask, old.mask);
        if (none) continue;
        // The call's own divisor, supplied: the same bits.
        circleloss_problem supplied = p;
        double loss_from_terms = 0;
        ASSERT_EQ(circleloss_reduce_terms(&loss_from_terms, &supplied.reduction_divisor, c.reduction, current.terms),
                  CIRCLELOSS_STATUS_OK);
        EXPECT_EQ(loss_from_terms, current.loss[0]);
        Outputs with_divisor;
        run(&supplied, false, false, with_divisor);
        EXPECT_TRUE(same_bits(current.loss, with_divisor.loss));
        EXPECT_TRUE(same_bits(current.gx, with_divisor.gx));
        EXPECT_TRUE(same_bits(current.gr, with_divisor.gr));
        // Offset 0 with the queries given again as references equals no references given only up to
        // rounding (another kernel): covered by GoldenInParts with one part.
    }
}

}  // namespace
