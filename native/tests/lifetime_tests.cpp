// Lifetime and concurrency (issue 9): 100,000 create/compute/destroy cycles with flat memory, 8 threads
// × 1,000 calls on one shared session and on separate sessions giving the single-threaded results bit
// for bit, thread-local errors under load, and calls from static destructors.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

using namespace testing_support;

namespace {

long resident_bytes() { return resident_set_bytes(); }

// A tiny valid problem: n = 6, d = 3, self-similarity, float32, outputs owned here.
struct TinyCall {
    std::vector<int32_t> labels{0, 0, 1, 1, 2, 2};
    std::vector<float> x;
    std::vector<float> loss = std::vector<float>(1), per = std::vector<float>(6), state = std::vector<float>(12),
                       gx = std::vector<float>(18);
    circleloss_problem problem;
    circleloss_options options;
    circleloss_forward_output fwd;
    circleloss_gradient_output grad;

    TinyCall() {
        std::mt19937_64 rng(3);
        const Case c = random_case(rng, 6, 6, 3, 3, false);
        x.assign(c.x.begin(), c.x.end());
        circleloss_problem_init(&problem);
        problem.n = 6;
        problem.d = 3;
        problem.labels = labels.data();
        problem.embeddings = x.data();
        circleloss_options_init(&options);
        circleloss_forward_output_init(&fwd);
        fwd.loss = loss.data();
        fwd.per_sample_loss = per.data();
        fwd.saved_state = state.data();
        circleloss_gradient_output_init(&grad);
        grad.grad_embeddings = gx.data();
    }
};

// One cycle: create a session, one forward+backward, destroy. Returns false on any failure.
bool cycle(TinyCall& call, int threads) {
    circleloss_session_config config;
    circleloss_session_config_init(&config);
    config.backend = CIRCLELOSS_BACKEND_CPU;
    config.num_threads = threads;
    circleloss_session* s = nullptr;
    if (circleloss_session_create(&s, &config) != CIRCLELOSS_STATUS_OK) return false;
    const bool ok = circleloss_forward_backward(&call.fwd, &call.grad, s, &call.options, &call.problem) == CIRCLELOSS_STATUS_OK;
    return circleloss_session_destroy(s) == CIRCLELOSS_STATUS_OK && ok;
}

// Runs `total` cycles; RSS is sampled after `warmup` cycles and at the end. A leak of one session
// object (well over 100 bytes) per cycle would add more than 10 MB over 100,000 cycles; the allowance
// is 4 MiB (allocator and page granularity). Under AddressSanitizer freed memory sits in quarantine,
// so RSS says nothing there; LeakSanitizer checks the same cycles instead.
void expect_flat_memory(int total, int warmup, int threads) {
    TinyCall call;
    int failures = 0;
    for (int i = 0; i < warmup; ++i) failures += cycle(call, threads) ? 0 : 1;
    const long before = resident_bytes();
    ASSERT_GT(before, 0);
    for (int i = warmup; i < total; ++i) failures += cycle(call, threads) ? 0 : 1;
    const long after = resident_bytes();
    EXPECT_EQ(failures, 0) << circleloss_last_error();
    EXPECT_TRUE(std::isfinite(call.loss[0]));
    if (kAddressSanitizer) return;
    EXPECT_LE(after - before, 4L << 20) << "RSS grew from " << before << " to " << after << " bytes over "
                                        << (total - warmup) << " cycles";
}

TEST(Lifetime, HundredThousandCreateComputeDestroyCyclesKeepMemoryFlat) {
    expect_flat_memory(kAddressSanitizer ? 20000 : 100000, 2000, 1);
}

// Sessions with worker threads: the pool's threads are started and joined every cycle.
TEST(Lifetime, CyclesWithWorkerThreadsKeepMemoryFlat) { expect_flat_memory(3000, 300, 3); }

// Every entry point that takes a session: NULL and destroyed handles are INVALID_SESSION, NULL output
// parameters INVALID_ARGUMENT naming the parameter, and a failed call writes nothing.
TEST(Lifetime, EveryHandleCallRefusesNullAndDestroyedSessions) {
    circleloss_session* live = nullptr;
    ASSERT_EQ(circleloss_session_create(&live, nullptr), CIRCLELOSS_STATUS_OK);
    circleloss_session* dead = nullptr;
    ASSERT_EQ(circleloss_session_create(&dead, nullptr), CIRCLELOSS_STATUS_OK);
    ASSERT_EQ(circleloss_session_destroy(dead), CIRCLELOSS_STATUS_OK);

    TinyCall call;
    for (circleloss_session* s : {static_cast<circleloss_session*>(nullptr), dead}) {
        const std::string expected = s ? "not a live session" : "session must not be NULL";
        auto refused = [&](circleloss_status status, const char* what) {
            EXPECT_EQ(status, CIRCLELOSS_STATUS_INVALID_SESSION) << what;
            EXPECT_NE(std::string(circleloss_last_error()).find(expected), std::string::npos) << what << ": " << circleloss_last_error();
        };
        circleloss_backend backend = CIRCLELOSS_BACKEND_AUTO;
        refused(circleloss_session_backend(&backend, s), "session_backend");
        EXPECT_EQ(backend, CIRCLELOSS_BACKEND_AUTO);
        const char* text = nullptr;
        refused(circleloss_session_fallback_reason(&text, s), "session_fallback_reason");
        refused(circleloss_session_describe(&text, s), "session_describe");
        EXPECT_EQ(text, nullptr);
        int32_t threads = -7;
        refused(circleloss_session_num_threads(&threads, s), "session_num_threads");
        EXPECT_EQ(threads, -7);
        refused(circleloss_forward(&call.fwd, s, &call.options, &call.problem), "forward");
        refused(circleloss_backward(&call.grad, s, &call.options, &call.problem, call.state.data()), "backward");
        refused(circleloss_forward_backward(&call.fwd, &call.grad, s, &call.options, &call.problem), "forward_backward");
        double seconds = -1;
        refused(circleloss_measure_product_floor(&seconds, s, &call.problem), "measure_product_floor");
        EXPECT_EQ(seconds, -1);
        void* pointer = nullptr;
        refused(circleloss_device_alloc(&pointer, s, 16), "device_alloc");
        refused(circleloss_device_free(s, nullptr), "device_free");
        refused(circleloss_device_copy(s, nullptr, nullptr, 0, CIRCLELOSS_COPY_HOST_TO_DEVICE), "device_copy");
        refused(circleloss_session_synchronize(s), "session_synchronize");
        if (s) refused(circleloss_session_destroy(s), "session_destroy twice");
    }
    EXPECT_EQ(call.loss[0], 0.0f);  // TinyCall's outputs start zeroed: nothing was written
    for (float g : call.gx) EXPECT_EQ(g, 0.0f);

    auto null_out = [&](circleloss_status status, const char* name) {
        EXPECT_EQ(status, CIRCLELOSS_STATUS_INVALID_ARGUMENT) << name;
        EXPECT_NE(std::string(circleloss_last_error()).find(std::string(name) + " must not be NULL"), std::string::npos)
            << circleloss_last_error();
    };
    null_out(circleloss_session_backend(nullptr, live), "out_backend");
    null_out(circleloss_session_fallback_reason(nullptr, live), "out_reason");
    null_out(circleloss_session_describe(nullptr, live), "out_description");
    null_out(circleloss_session_num_threads(nullptr, live), "out_num_threads");
    null_out(circleloss_measure_product_floor(nullptr, live, &call.problem), "out_seconds");
    null_out(circleloss_device_alloc(nullptr, live, 16), "out_pointer");
    // Device memory needs a CUDA session: a CPU session says so (before looking at the copy's kind).
    EXPECT_EQ(circleloss_device_copy(live, nullptr, nullptr, 8, CIRCLELOSS_COPY_DEVICE_TO_HOST), CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE);
    EXPECT_NE(std::string(circleloss_last_error()).find("needs a CUDA session"), std::string::npos);
    EXPECT_EQ(circleloss_session_destroy(live), CIRCLELOSS_STATUS_OK);
}

// ---- concurrency ----------------------------------------------------------------------------------

// A mix of calls, each with its expected single-threaded result.
struct Job {
    Case c;
    circleloss_gradient_mode mode;
    Call call;
    bool f64;
    Result expected;
};

Result run(circleloss_session* s, const Job& j) {
    return j.f64 ? run_case<double>(s, j.c, j.mode, j.call) : run_case<float>(s, j.c, j.mode, j.call);
}

bool same(const Result& a, const Result& b) {
    return a.status == b.status && a.loss == b.loss && a.per_sample_loss == b.per_sample_loss && a.mask == b.mask &&
           a.saved_state == b.saved_state && a.grad_x == b.grad_x && a.grad_r == b.grad_r;
}

std::vector<Job> make_jobs() {
    std::mt19937_64 rng(97);
    std::vector<Job> jobs;
    Case a = random_case(rng, 24, 24, 5, 4, false);
    jobs.push_back({a, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward, false, {}});
    Case b = random_case(rng, 17, 40, 6, 3, true);
    b.reduction = CIRCLELOSS_REDUCTION_NONE;
    for (int64_t i = 0; i < b.n; ++i) b.upstream.push_back(0.5 + 0.01 * static_cast<double>(i));
    jobs.push_back({b, CIRCLELOSS_GRADIENT_PAPER, Call::ForwardThenBackward, true, {}});
    Case c = random_case(rng, 30, 30, 4, 5, false, true);
    for (int64_t i = 0; i < c.n; ++i) c.weights.push_back(0.25 * static_cast<double>(i % 4));
    c.reduction = CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT;
    jobs.push_back({c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward, false, {}});
    Case d = random_case(rng, 9, 70, 8, 2, true);
    jobs.push_back({d, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardOnly, true, {}});
    SessionHolder single(1);
    for (auto& j : jobs) {
        j.expected = run(single.session, j);
        EXPECT_EQ(j.expected.status, CIRCLELOSS_STATUS_OK) << j.expected.message;
    }
    return jobs;
}

// A failing call whose message must be this thread's own.
bool failing_call_reports_its_own_error(circleloss_session* s, int thread) {
    circleloss_options o;
    circleloss_options_init(&o);
    o.gamma = -1.0 - thread;  // the message quotes the value, so each thread's message is distinct
    circleloss_problem p;
    circleloss_problem_init(&p);
    float loss = 0;
    circleloss_forward_output f;
    circleloss_forward_output_init(&f);
    f.loss = &loss;
    if (circleloss_forward(&f, s, &o, &p) != CIRCLELOSS_STATUS_INVALID_ARGUMENT) return false;
    const std::string expected = "options->gamma must be finite and > 0 (got " + std::to_string(-1 - thread);
    return std::string(circleloss_last_error()).rfind(expected, 0) == 0;
}

constexpr int kThreads = 8;
constexpr int kCallsPerThread = 1000;

void hammer(const std::vector<Job>& jobs, const std::vector<circleloss_session*>& sessions) {
    std::vector<int> mismatches(kThreads, 0), wrong_errors(kThreads, 0);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            circleloss_session* s = sessions[static_cast<size_t>(t) % sessions.size()];
            for (int k = 0; k < kCallsPerThread; ++k) {
                if (k % 50 == 7) {
                    if (!failing_call_reports_its_own_error(s, t)) ++wrong_errors[static_cast<size_t>(t)];
                    continue;
                }
                const Job& j = jobs[static_cast<size_t>(k + t) % jobs.size()];
                if (!same(run(s, j), j.expected)) ++mismatches[static_cast<size_t>(t)];
            }
        });
    }
    go = true;
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(mismatches[static_cast<size_t>(t)], 0) << "thread " << t;
        EXPECT_EQ(wrong_errors[static_cast<size_t>(t)], 0) << "thread " << t;
    }
}

TEST(Concurrency, EightThreadsThousandCallsOnOneSharedSession) {
    const std::vector<Job> jobs = make_jobs();
    SessionHolder shared(2);
    hammer(jobs, {shared.session});
}

TEST(Concurrency, EightThreadsThousandCallsOnSeparateSessions) {
    const std::vector<Job> jobs = make_jobs();
    std::vector<std::unique_ptr<SessionHolder>> holders;
    std::vector<circleloss_session*> sessions;
    for (int t = 0; t < kThreads; ++t) {
        holders.push_back(std::make_unique<SessionHolder>(1 + t % 3));  // 1, 2 or 3 worker threads
        sessions.push_back(holders.back()->session);
    }
    hammer(jobs, sessions);
}

// Sessions created and destroyed on some threads while others compute on their own sessions.
TEST(Concurrency, CreateAndDestroyWhileOthersCompute) {
    const std::vector<Job> jobs = make_jobs();
    SessionHolder busy(2);
    std::atomic<bool> stop{false};
    std::atomic<int> churn_failures{0}, compute_mismatches{0};
    std::vector<std::thread> churners;
    for (int t = 0; t < 3; ++t) {
        churners.emplace_back([&] {
            TinyCall call;
            while (!stop.load())
                if (!cycle(call, 2)) ++churn_failures;
        });
    }
    std::vector<std::thread> workers;
    for (int t = 0; t < 3; ++t) {
        workers.emplace_back([&, t] {
            for (int k = 0; k < 200; ++k) {
                const Job& j = jobs[static_cast<size_t>(k + t) % jobs.size()];
                if (!same(run(busy.session, j), j.expected)) ++compute_mismatches;
            }
        });
    }
    for (auto& w : workers) w.join();
    stop = true;
    for (auto& c : churners) c.join();
    EXPECT_EQ(churn_failures.load(), 0);
    EXPECT_EQ(compute_mismatches.load(), 0);
}

// ---- static destruction ---------------------------------------------------------------------------

// A C++ caller that keeps a session in a global RAII holder destroys it during static destruction,
// after the main thread's thread_local objects are gone. Every entry point starts by clearing the
// thread-local last-error message, so the library must not keep that message in an object with a
// destructor. The child process exits normally only if the calls are safe; AddressSanitizer and
// valgrind (the sanitizer and memcheck runs) report a use after free otherwise.
struct GlobalSessionHolder {
    circleloss_session* session = nullptr;
    ~GlobalSessionHolder() {
        // A failed call first, so that the message is long (heap-allocated in a std::string).
        float loss = 0;
        circleloss_forward_output f;
        circleloss_forward_output_init(&f);
        f.loss = &loss;
        circleloss_forward(&f, session, nullptr, nullptr);
        const bool destroyed = circleloss_session_destroy(session) == CIRCLELOSS_STATUS_OK;
        const bool message_empty = std::strlen(circleloss_last_error()) == 0;
        if (!destroyed || !message_empty) std::_Exit(3);
    }
};

TEST(LifetimeDeathTest, CallsFromStaticDestructorsAreSafe) {
    EXPECT_EXIT(
        {
            static GlobalSessionHolder holder;
            if (circleloss_session_create(&holder.session, nullptr) != CIRCLELOSS_STATUS_OK) std::_Exit(2);
            // Give this thread a long last-error message before exit.
            circleloss_options bad;
            circleloss_options_init(&bad);
            bad.gamma = -1;
            float loss = 0;
            circleloss_forward_output f;
            circleloss_forward_output_init(&f);
            f.loss = &loss;
            circleloss_problem p;
            circleloss_problem_init(&p);
            circleloss_forward(&f, holder.session, &bad, &p);
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

}  // namespace
