// Every bad input of the C ABI: the exact status, a message naming the argument, untouched outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "test_support.h"

using namespace testing_support;

namespace {

constexpr float kSentinel = 12345.0f;

// A valid float32 problem (n = 4, d = 2, self-similarity) with outputs filled with a sentinel.
struct Fixture {
    SessionHolder holder{1};
    std::vector<int32_t> labels{0, 0, 1, 1};
    std::vector<int32_t> ref_labels{0, 1, 1, 0};
    std::vector<float> x{1, 0, 0.8f, 0.6f, 0, 1, 0.6f, 0.8f};
    std::vector<float> r{1, 0, 0, 1, 0.6f, 0.8f, 0.8f, 0.6f};
    std::vector<float> weights{1, 1, 1, 1};
    std::vector<float> loss = std::vector<float>(4, kSentinel);
    std::vector<float> per = std::vector<float>(4, kSentinel);
    std::vector<float> state = std::vector<float>(8, kSentinel);
    std::vector<uint8_t> mask = std::vector<uint8_t>(4, 77);
    std::vector<float> gx = std::vector<float>(8, kSentinel);
    std::vector<float> gr = std::vector<float>(8, kSentinel);
    circleloss_problem problem;
    circleloss_options options;
    circleloss_forward_output fwd;
    circleloss_gradient_output grad;

    Fixture() {
        circleloss_problem_init(&problem);
        problem.n = 4;
        problem.d = 2;
        problem.labels = labels.data();
        problem.embeddings = x.data();
        circleloss_options_init(&options);
        circleloss_forward_output_init(&fwd);
        fwd.loss = loss.data();
        fwd.per_sample_loss = per.data();
        fwd.mask = mask.data();
        fwd.saved_state = state.data();
        circleloss_gradient_output_init(&grad);
        grad.grad_embeddings = gx.data();
    }
    void use_references() {
        problem.m = 4;
        problem.ref_labels = ref_labels.data();
        problem.ref_embeddings = r.data();
        grad.grad_ref_embeddings = gr.data();
    }
    circleloss_status forward_backward() { return circleloss_forward_backward(&fwd, &grad, holder.session, &options, &problem); }
    circleloss_status forward() { return circleloss_forward(&fwd, holder.session, &options, &problem); }

    bool outputs_untouched() const {
        auto all = [](const std::vector<float>& v) {
            for (float f : v)
                if (f != kSentinel) return false;
            return true;
        };
        for (uint8_t b : mask)
            if (b != 77) return false;
        return all(loss) && all(per) && all(state) && all(gx) && all(gr);
    }
};

// The fixture's problem in float64: embeddings, loss and gradient arrays of doubles (no per-sample loss, no state).
struct Float64Arrays {
    std::vector<double> x, loss, gx;
    explicit Float64Arrays(Fixture& f) : x(f.x.begin(), f.x.end()), loss(1, kSentinel), gx(8, kSentinel) {
        f.problem.dtype = CIRCLELOSS_DTYPE_FLOAT64;
        f.problem.embeddings = x.data();
        f.fwd.loss = loss.data();
        f.fwd.per_sample_loss = nullptr;
        f.fwd.saved_state = nullptr;
        f.grad.grad_embeddings = gx.data();
    }
};

void expect_rejected(Fixture& f, circleloss_status expected, const std::string& needle) {
    const circleloss_status status = f.forward_backward();
    EXPECT_EQ(status, expected) << circleloss_status_name(status) << ": " << circleloss_last_error();
    EXPECT_NE(std::string(circleloss_last_error()).find(needle), std::string::npos)
        << "message '" << circleloss_last_error() << "' does not mention '" << needle << "'";
    EXPECT_TRUE(f.outputs_untouched());
    // The failing argument, when there is one, is what the message begins with.
    const std::string argument = circleloss_last_error_argument();
    EXPECT_EQ(std::string(circleloss_last_error()).rfind(argument, 0), 0u)
        << "message '" << circleloss_last_error() << "' does not begin with its argument '" << argument << "'";
}

void expect_argument(Fixture& f, circleloss_status expected, const std::string& argument) {
    const circleloss_status status = f.forward_backward();
    EXPECT_EQ(status, expected) << circleloss_status_name(status) << ": " << circleloss_last_error();
    EXPECT_EQ(std::string(circleloss_last_error_argument()), argument) << circleloss_last_error();
    EXPECT_EQ(std::string(circleloss_last_error()).rfind(argument, 0), 0u) << circleloss_last_error();
}

// circleloss_last_error_argument names the argument, so no caller parses messages.
TEST(BadInput, FailedArgumentIsNamed) {
    { Fixture f; f.options.gamma = -1; expect_argument(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma"); }
    { Fixture f; f.options.margin = NAN; expect_argument(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->margin"); }
    { Fixture f; f.options.struct_size = 3; expect_argument(f, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "options->struct_size"); }
    { Fixture f; f.problem.d = 0; expect_argument(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->d"); }
    { Fixture f; f.problem.labels = nullptr; expect_argument(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->labels"); }
    { Fixture f; f.x[3] = NAN; expect_argument(f, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->embeddings"); }
    {
        Fixture f;
        f.use_references();
        f.r[5] = INFINITY;
        expect_argument(f, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "problem->ref_embeddings");
    }
    {
        Fixture f;
        f.weights[1] = -1;
        f.problem.sample_weights = f.weights.data();
        expect_argument(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->sample_weights");
    }
    { Fixture f; f.fwd.loss = nullptr; expect_argument(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "forward_output->loss"); }
    {
        Fixture f;
        f.grad.grad_ref_embeddings = f.gr.data();
        expect_argument(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "gradient_output->grad_ref_embeddings");
    }
    {
        Fixture f;
        const circleloss_status status = circleloss_forward_backward(&f.fwd, &f.grad, f.holder.session, nullptr, &f.problem);
        EXPECT_EQ(status, CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_STREQ(circleloss_last_error_argument(), "options");
    }
    {
        Fixture f;
        std::vector<float> state(8, NAN);
        EXPECT_EQ(circleloss_backward(&f.grad, f.holder.session, &f.options, &f.problem, state.data()),
                  CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_STREQ(circleloss_last_error_argument(), "saved_state");
    }
    {
        // A failure about no single argument names none; a success clears the name.
        Fixture f;
        f.problem.n = int64_t{1} << 40;
        f.problem.d = int64_t{1} << 40;
        EXPECT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_SIZE_OVERFLOW);
        EXPECT_STREQ(circleloss_last_error_argument(), "");
        Fixture g;
        g.options.gamma = 0;
        EXPECT_NE(g.forward_backward(), CIRCLELOSS_STATUS_OK);
        Fixture ok;
        EXPECT_EQ(ok.forward_backward(), CIRCLELOSS_STATUS_OK);
        EXPECT_STREQ(circleloss_last_error_argument(), "");
    }
    {
        circleloss_session_config config;
        circleloss_session_config_init(&config);
        config.num_threads = -1;
        circleloss_session* s = nullptr;
        EXPECT_EQ(circleloss_session_create(&s, &config), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_STREQ(circleloss_last_error_argument(), "config->num_threads");
        EXPECT_EQ(circleloss_session_destroy(reinterpret_cast<circleloss_session*>(&config)),
                  CIRCLELOSS_STATUS_INVALID_SESSION);
        EXPECT_STREQ(circleloss_last_error_argument(), "session");
    }
}

// circleloss_options_check refuses exactly what a computation refuses, without a problem.
TEST(BadInput, OptionsCheckAloneNamesTheOption) {
    circleloss_options options;
    circleloss_options_init(&options);
    EXPECT_EQ(circleloss_options_check(&options), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(circleloss_options_check(nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_STREQ(circleloss_last_error(), "options must not be NULL");
    options.margin = INFINITY;
    EXPECT_EQ(circleloss_options_check(&options), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_STREQ(circleloss_last_error_argument(), "options->margin");
    EXPECT_STREQ(circleloss_last_error(), "options->margin must be finite (got inf)");
    circleloss_options_init(&options);
    options.struct_size = 7;
    EXPECT_EQ(circleloss_options_check(&options), CIRCLELOSS_STATUS_UNSUPPORTED_VERSION);
    EXPECT_STREQ(circleloss_last_error_argument(), "options->struct_size");
}

TEST(BadInput, ValidFixtureSucceeds) {
    Fixture f;
    ASSERT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
    EXPECT_STREQ(circleloss_last_error(), "");
    Fixture g;
    g.use_references();
    ASSERT_EQ(g.forward_backward(), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
}

TEST(BadInput, NullPointers) {
    { Fixture f; f.problem.labels = nullptr; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->labels"); }
    { Fixture f; f.problem.embeddings = nullptr; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->embeddings"); }
    { Fixture f; f.fwd.loss = nullptr; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "forward_output->loss"); }
    { Fixture f; f.grad.grad_embeddings = nullptr; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "grad_embeddings"); }
    {
        Fixture f;
        f.use_references();
        f.grad.grad_ref_embeddings = nullptr;
        expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "grad_ref_embeddings");
    }
    { Fixture f; f.grad.grad_ref_embeddings = f.gr.data(); expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "grad_ref_embeddings must be NULL"); }
    {
        Fixture f;
        EXPECT_EQ(circleloss_forward_backward(&f.fwd, &f.grad, f.holder.session, &f.options, nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(circleloss_last_error()).find("problem"), std::string::npos);
        EXPECT_EQ(circleloss_forward_backward(&f.fwd, &f.grad, f.holder.session, nullptr, &f.problem), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(circleloss_last_error()).find("options"), std::string::npos);
        EXPECT_EQ(circleloss_forward_backward(nullptr, &f.grad, f.holder.session, &f.options, &f.problem), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_EQ(circleloss_forward_backward(&f.fwd, nullptr, f.holder.session, &f.options, &f.problem), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_EQ(circleloss_backward(&f.grad, f.holder.session, &f.options, &f.problem, nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(circleloss_last_error()).find("saved_state"), std::string::npos);
        EXPECT_TRUE(f.outputs_untouched());
    }
}

TEST(BadInput, Sizes) {
    { Fixture f; f.problem.n = -1; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->n"); }
    { Fixture f; f.problem.d = 0; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->d"); }
    { Fixture f; f.use_references(); f.problem.m = -2; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->m"); }
    { Fixture f; f.problem.m = 3; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->m"); }
    {
        Fixture f;
        f.problem.n = int64_t(1) << 40;
        f.problem.d = int64_t(1) << 30;
        expect_rejected(f, CIRCLELOSS_STATUS_SIZE_OVERFLOW, "n * d");
    }
    {
        Fixture f;
        f.problem.n = int64_t(1) << 32;
        f.problem.d = 1;
        expect_rejected(f, CIRCLELOSS_STATUS_SIZE_OVERFLOW, "n * m");
    }
    {
        Fixture f;
        f.use_references();
        f.problem.m = std::numeric_limits<int64_t>::max() / 2;
        expect_rejected(f, CIRCLELOSS_STATUS_SIZE_OVERFLOW, "m * d");
    }
}

TEST(BadInput, ReferenceConsistency) {
    {
        Fixture f;  // ref_labels without ref_embeddings: m must equal n
        f.problem.ref_labels = f.ref_labels.data();
        f.problem.m = 3;
        expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "only ref_labels");
    }
    {
        Fixture f;  // ref_embeddings without ref_labels: m must equal n
        f.problem.ref_embeddings = f.r.data();
        f.grad.grad_ref_embeddings = f.gr.data();
        f.problem.m = 2;
        expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "only ref_embeddings");
    }
}

TEST(BadInput, Options) {
    { Fixture f; f.options.gamma = 0; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma"); }
    { Fixture f; f.options.gamma = -3; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma"); }
    { Fixture f; f.options.gamma = std::nan(""); expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma"); }
    { Fixture f; f.options.gamma = INFINITY; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma"); }
    { Fixture f; f.options.margin = std::nan(""); expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->margin"); }
    { Fixture f; f.options.margin = -INFINITY; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->margin"); }
    { Fixture f; f.options.remove_diagonal = 2; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->remove_diagonal"); }
    { Fixture f; f.options.reduction = static_cast<circleloss_reduction>(5); expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->reduction"); }
    { Fixture f; f.options.reduction = static_cast<circleloss_reduction>(-1); expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->reduction"); }
    { Fixture f; f.options.gradient_mode = static_cast<circleloss_gradient_mode>(7); expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gradient_mode"); }
    { Fixture f; f.problem.dtype = static_cast<circleloss_dtype>(9); expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->dtype"); }
    { Fixture f; f.problem.memory = static_cast<circleloss_memory>(4); expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->memory"); }
    { Fixture f; f.problem.memory = CIRCLELOSS_MEMORY_DEVICE; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "DEVICE"); }
    {
        Fixture f;
        int32_t raw = 2;  // an int that is no circleloss_label_type (written as the caller's int would be)
        std::memcpy(&f.problem.label_type, &raw, sizeof raw);
        expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->label_type is not a circleloss_label_type value (got 2)");
        raw = -1;
        std::memcpy(&f.problem.label_type, &raw, sizeof raw);
        expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->label_type is not a circleloss_label_type value (got -1)");
    }
}

TEST(BadInput, UnknownStructSizes) {
    { Fixture f; f.options.struct_size = 24; expect_rejected(f, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "options->struct_size"); }
    { Fixture f; f.problem.struct_size = 1000; expect_rejected(f, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "problem->struct_size"); }
    { Fixture f; f.fwd.struct_size = 0; expect_rejected(f, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "forward_output->struct_size"); }
    { Fixture f; f.grad.struct_size = 8; expect_rejected(f, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, "gradient_output->struct_size"); }
    circleloss_session_config config;
    circleloss_session_config_init(&config);
    config.struct_size = 12;
    circleloss_session* s = nullptr;
    EXPECT_EQ(circleloss_session_create(&s, &config), CIRCLELOSS_STATUS_UNSUPPORTED_VERSION);
    EXPECT_NE(std::string(circleloss_last_error()).find("config->struct_size"), std::string::npos);
    EXPECT_EQ(s, nullptr);
}

// A struct_size from a newer header (longer than this library's layout) names every layout it knows.
TEST(BadInput, NewerStructSizeNamesTheKnownLayouts) {
    circleloss_session_config config;
    circleloss_session_config_init(&config);
    config.struct_size = sizeof(circleloss_session_config) + 8;
    circleloss_session* s = nullptr;
    EXPECT_EQ(circleloss_session_create(&s, &config), CIRCLELOSS_STATUS_UNSUPPORTED_VERSION);
    EXPECT_EQ(std::string(circleloss_last_error()),
              "config->struct_size is 48; this library (version " CIRCLELOSS_VERSION_STRING
              ") knows 32 (since 0.1.0), 40 (since 0.3.0): initialise the struct with circleloss_session_config_init");
    Fixture f;
    f.options.struct_size = sizeof(circleloss_options) + 8;
    expect_rejected(f, CIRCLELOSS_STATUS_UNSUPPORTED_VERSION,
                    "options->struct_size is 40; this library (version " CIRCLELOSS_VERSION_STRING
                    ") knows 32 (since 0.1.0): initialise the struct with circleloss_options_init");
}

TEST(BadInput, CallersStreamNeedsTheCudaBackend) {
    int not_a_stream = 0;
    for (const circleloss_backend backend : {CIRCLELOSS_BACKEND_CPU, CIRCLELOSS_BACKEND_AUTO}) {
        circleloss_session_config config;
        circleloss_session_config_init(&config);
        config.backend = backend;
        config.cuda_stream = &not_a_stream;
        circleloss_session* s = nullptr;
        EXPECT_EQ(circleloss_session_create(&s, &config), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_EQ(std::string(circleloss_last_error()),
                  "config->cuda_stream must be NULL unless config->backend is CUDA (a "
                  "caller's stream cannot be used by a CPU session, and AUTO may fall back to the CPU)");
        EXPECT_EQ(s, nullptr);
    }
}

TEST(BadInput, SampleWeights) {
    {
        Fixture f;
        f.weights[2] = -0.5f;
        f.problem.sample_weights = f.weights.data();
        expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "sample_weights must be >= 0; index 2");
    }
    {
        Fixture f;
        f.weights[1] = std::numeric_limits<float>::quiet_NaN();
        f.problem.sample_weights = f.weights.data();
        expect_rejected(f, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "sample_weights has a non-finite value (nan) at index 1");
    }
    {
        Fixture f;
        f.weights[3] = INFINITY;
        f.problem.sample_weights = f.weights.data();
        expect_rejected(f, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "index 3");
    }
}

TEST(BadInput, NonFiniteEmbeddingsNameRowAndColumn) {
    { Fixture f; f.x[5] = std::numeric_limits<float>::quiet_NaN(); expect_rejected(f, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "embeddings has a non-finite value (nan) at row 2, column 1"); }
    { Fixture f; f.x[0] = -INFINITY; expect_rejected(f, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "at row 0, column 0"); }
    {
        Fixture f;
        f.use_references();
        f.r[6] = INFINITY;
        expect_rejected(f, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "ref_embeddings has a non-finite value (inf) at row 3, column 0");
    }
    {
        Fixture f;
        std::vector<float> up{1, std::numeric_limits<float>::quiet_NaN(), 1, 1};
        f.options.reduction = CIRCLELOSS_REDUCTION_NONE;
        f.problem.upstream = up.data();
        expect_rejected(f, CIRCLELOSS_STATUS_NON_FINITE_INPUT, "upstream has a non-finite value (nan) at index 1");
    }
}

TEST(BadInput, SavedStateMustComeFromForward) {
    Fixture f;
    std::vector<float> bogus{0, 1, std::numeric_limits<float>::quiet_NaN(), 0, 0, 0, 0, 0};
    EXPECT_EQ(circleloss_backward(&f.grad, f.holder.session, &f.options, &f.problem, bogus.data()),
              CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(std::string(circleloss_last_error()).find("saved_state[2]"), std::string::npos);
    EXPECT_TRUE(f.outputs_untouched());
}

TEST(BadInput, NullAndDestroyedSessions) {
    Fixture f;
    EXPECT_EQ(circleloss_forward_backward(&f.fwd, &f.grad, nullptr, &f.options, &f.problem), CIRCLELOSS_STATUS_INVALID_SESSION);
    EXPECT_NE(std::string(circleloss_last_error()).find("session must not be NULL"), std::string::npos);
    circleloss_session* s = nullptr;
    ASSERT_EQ(circleloss_session_create(&s, nullptr), CIRCLELOSS_STATUS_OK);
    ASSERT_EQ(circleloss_session_destroy(s), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(circleloss_forward(&f.fwd, s, &f.options, &f.problem), CIRCLELOSS_STATUS_INVALID_SESSION);
    EXPECT_NE(std::string(circleloss_last_error()).find("not a live session"), std::string::npos);
    EXPECT_EQ(circleloss_session_destroy(s), CIRCLELOSS_STATUS_INVALID_SESSION);
    EXPECT_EQ(circleloss_session_destroy(nullptr), CIRCLELOSS_STATUS_OK);
    EXPECT_TRUE(f.outputs_untouched());
}

TEST(BadInput, SessionConfig) {
    auto create = [](circleloss_session_config c) {
        circleloss_session* s = nullptr;
        const circleloss_status status = circleloss_session_create(&s, &c);
        EXPECT_EQ(s, nullptr);
        return status;
    };
    circleloss_session_config base;
    circleloss_session_config_init(&base);
    { auto c = base; c.backend = static_cast<circleloss_backend>(3); EXPECT_EQ(create(c), CIRCLELOSS_STATUS_INVALID_ARGUMENT); }
    EXPECT_NE(std::string(circleloss_last_error()).find("config->backend"), std::string::npos);
    { auto c = base; c.num_threads = -1; EXPECT_EQ(create(c), CIRCLELOSS_STATUS_INVALID_ARGUMENT); }
    EXPECT_NE(std::string(circleloss_last_error()).find("config->num_threads"), std::string::npos);
    { auto c = base; c.device_index = -1; EXPECT_EQ(create(c), CIRCLELOSS_STATUS_INVALID_ARGUMENT); }
    { auto c = base; c.flags = 8; EXPECT_EQ(create(c), CIRCLELOSS_STATUS_INVALID_ARGUMENT); }
    { auto c = base; c.reserved0 = 1; EXPECT_EQ(create(c), CIRCLELOSS_STATUS_INVALID_ARGUMENT); }
    EXPECT_EQ(circleloss_session_create(nullptr, &base), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(std::string(circleloss_last_error()).find("out_session"), std::string::npos);
}

TEST(BadInput, WorkspaceTooSmallIsOutOfMemory) {
    Fixture f;
    SessionHolder tiny(1, CIRCLELOSS_BACKEND_CPU, 64);
    EXPECT_EQ(circleloss_forward_backward(&f.fwd, &f.grad, tiny.session, &f.options, &f.problem), CIRCLELOSS_STATUS_OUT_OF_MEMORY);
    EXPECT_NE(std::string(circleloss_last_error()).find("workspace"), std::string::npos);
    EXPECT_TRUE(f.outputs_untouched());
}

TEST(BadInput, DeviceCallsOnCpuSession) {
    Fixture f;
    void* p = nullptr;
    EXPECT_EQ(circleloss_device_alloc(&p, f.holder.session, 64), CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE);
    EXPECT_EQ(p, nullptr);
    EXPECT_EQ(circleloss_device_free(f.holder.session, nullptr), CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE);
    EXPECT_EQ(circleloss_session_synchronize(f.holder.session), CIRCLELOSS_STATUS_OK);
}

TEST(BadInput, NullOutParameters) {
    EXPECT_EQ(circleloss_options_init(nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(circleloss_problem_init(nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(circleloss_session_config_init(nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(circleloss_forward_output_init(nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(circleloss_gradient_output_init(nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(circleloss_library_path(nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    const char* detail = nullptr;
    EXPECT_EQ(circleloss_query_backend(nullptr, &detail, CIRCLELOSS_BACKEND_CPU), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    int32_t available = 0;
    EXPECT_EQ(circleloss_query_backend(&available, &detail, static_cast<circleloss_backend>(9)), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
}

}  // namespace

namespace {

// Finite inputs whose logits, loss or gradients would overflow the compute type are refused rather
// than answered with inf or NaN and status OK.
TEST(BadInput, ValuesTooLargeForTheType) {
    { Fixture f; f.options.gamma = 1e300; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma (1.0000000000000001e+300) is infinite in float32"); }
    { Fixture f; f.options.margin = 1e30; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "too large for float32"); }
    { Fixture f; f.x[3] = 3e18f; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "L2-normalised"); }
    {
        Fixture f;
        f.weights[0] = 3e38f;
        f.problem.sample_weights = f.weights.data();
        expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "largest sample weight");
    }
    {
        // Fuzz finding F5: MEAN_WITH_SAMPLE_WEIGHT divides by the sum of the weights, so tiny weights do not make
        // the gradient small; with an upstream near FLT_MAX it overflowed to -inf with status OK.
        Fixture f;
        f.weights = {1.17549435e-38f, 0, 0, 0};
        f.problem.sample_weights = f.weights.data();
        f.options.reduction = CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT;
        float upstream = 3.40282347e+38f;
        f.problem.upstream = &upstream;
        expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "too large for float32");
        upstream = 1e6f;  // a sane upstream with the same tiny weights is computed, finite
        ASSERT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
        for (float g : f.gx) EXPECT_TRUE(std::isfinite(g));
    }
    {
        Fixture f;  // the same magnitude is fine in float64
        Float64Arrays a(f);
        std::vector<double>& x = a.x;
        const std::vector<double>& loss = a.loss;
        x[3] = 3e18;
        EXPECT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
        EXPECT_TRUE(std::isfinite(loss[0]));
        x[3] = 1e300;
        EXPECT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(circleloss_last_error()).find("too large for float64"), std::string::npos);
    }
}

// Options must be valid in the precision the call computes in (issue 12): the fuzzer found gamma 5e-324
// (0 in float32) with huge embeddings giving NaN and status OK.
TEST(BadInput, OptionsThatAreNotNormalNumbersOfTheType) {
    { Fixture f; f.options.gamma = 4.9406564584124654e-324; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma (4.9406564584124654e-324) is zero in float32"); }
    { Fixture f; f.options.gamma = 1e-40; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma (9.9999999999999993e-41) is denormal in float32"); }
    { Fixture f; f.options.gamma = 1e39; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma (9.9999999999999994e+38) is infinite in float32"); }
    { Fixture f; f.options.margin = 1e-40; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->margin (9.9999999999999993e-41) is denormal in float32"); }
    { Fixture f; f.options.margin = -1e-300; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->margin (-1e-300) is zero in float32"); }
    { Fixture f; f.options.margin = 1e39; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->margin (9.9999999999999994e+38) is infinite in float32"); }
    // Overflow through the options alone names the option, whatever the values (device memory too).
    { Fixture f; f.options.gamma = 1e35; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma is too large for float32"); }
    { Fixture f; f.options.margin = 1e18; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->margin is too large for float32"); }
    // Device memory runs the same check (validate_problem_values, before the host-only value scans):
    // native/gpu/check.sh tests it on a GPU ("device gamma 5e-324").
    { Fixture f; f.options.gamma = 1e-45; expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "options->gamma (9.9999999999999998e-46) is denormal in float32"); }
    {
        Fixture f;  // margin 0 is valid; the smallest normal gamma of float32 too
        f.options.margin = 0;
        f.options.gamma = static_cast<double>(std::numeric_limits<float>::min());
        ASSERT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
        EXPECT_TRUE(std::isfinite(f.loss[0]));
    }
    {
        Fixture f;  // float64: the same tiny values are normal there; 5e-324 is denormal
        Float64Arrays a(f);
        const std::vector<double>& loss = a.loss;
        f.options.gamma = 1e-40;
        f.options.margin = 1e-40;
        EXPECT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
        EXPECT_TRUE(std::isfinite(loss[0]));
        f.options.gamma = 4.9406564584124654e-324;
        EXPECT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(circleloss_last_error()).find("options->gamma (4.9406564584124654e-324) is denormal in float64"), std::string::npos)
            << circleloss_last_error();
    }
}

// The fuzz finding itself: a normal but tiny gamma no longer hides similarities that overflow float32.
TEST(BadInput, HugeEmbeddingsWithATinyGammaAreRefused) {
    Fixture f;
    f.options.gamma = 1e-30;
    for (float& v : f.x) v *= 1e30f;
    expect_rejected(f, CIRCLELOSS_STATUS_INVALID_ARGUMENT, "too large for float32");
}

TEST(BadInput, UnnormalisedButModerateEmbeddingsAreAccepted) {
    Fixture f;
    for (float& v : f.x) v *= 255.0f;  // raw pixel-like features
    ASSERT_EQ(f.forward_backward(), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
    EXPECT_TRUE(std::isfinite(f.loss[0]));
    for (float g : f.gx) EXPECT_TRUE(std::isfinite(g));
}

}  // namespace
