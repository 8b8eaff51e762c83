// Sessions, backend selection and fallback, metadata calls, and one session shared by many threads.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "test_support.h"

using namespace testing_support;

namespace {

TEST(Metadata, VersionAndStatusNames) {
    EXPECT_EQ(circleloss_version(), CIRCLELOSS_VERSION_NUMBER);
    EXPECT_STREQ(circleloss_version_string(), CIRCLELOSS_VERSION_STRING);
    EXPECT_EQ(CIRCLELOSS_VERSION_NUMBER,
              CIRCLELOSS_VERSION_MAJOR * 10000 + CIRCLELOSS_VERSION_MINOR * 100 + CIRCLELOSS_VERSION_PATCH);
    EXPECT_STREQ(circleloss_status_name(CIRCLELOSS_STATUS_OK), "OK");
    EXPECT_STREQ(circleloss_status_name(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE), "BACKEND_UNAVAILABLE");
    EXPECT_STREQ(circleloss_status_name(CIRCLELOSS_STATUS_INTERNAL_ERROR), "INTERNAL_ERROR");
    EXPECT_STREQ(circleloss_status_name(static_cast<circleloss_status>(99)), "UNKNOWN");
    EXPECT_NE(circleloss_last_error(), nullptr);
}

TEST(Metadata, LibraryPathAndCpuDetail) {
    const char* path = nullptr;
    ASSERT_EQ(circleloss_library_path(&path), CIRCLELOSS_STATUS_OK);
    EXPECT_NE(std::string(path).find(kLibraryFileName), std::string::npos) << path;
    int32_t available = 0;
    const char* detail = nullptr;
    ASSERT_EQ(circleloss_query_backend(&available, &detail, CIRCLELOSS_BACKEND_CPU), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(available, 1);
    EXPECT_NE(std::string(detail).find(kGemmName), std::string::npos) << detail;
}

TEST(Sessions, CpuSessionDescribesItself) {
    SessionHolder s(3);
    circleloss_backend backend = CIRCLELOSS_BACKEND_AUTO;
    ASSERT_EQ(circleloss_session_backend(&backend, s.session), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(backend, CIRCLELOSS_BACKEND_CPU);
    int32_t threads = 0;
    ASSERT_EQ(circleloss_session_num_threads(&threads, s.session), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(threads, 3);
    const char* description = nullptr;
    ASSERT_EQ(circleloss_session_describe(&description, s.session), CIRCLELOSS_STATUS_OK);
    EXPECT_NE(std::string(description).find("3 thread(s)"), std::string::npos) << description;
    const char* reason = nullptr;
    ASSERT_EQ(circleloss_session_fallback_reason(&reason, s.session), CIRCLELOSS_STATUS_OK);
    EXPECT_STREQ(reason, "");
}

// A caller built against the 0.1/0.2 header passes the 32-byte config (no cuda_stream). Only those
// bytes exist: under ASan a read past them would fail this test.
TEST(Sessions, ConfigOfAnOlderHeaderIsAccepted) {
    constexpr size_t kOldSize = offsetof(circleloss_session_config, cuda_stream);
    static_assert(kOldSize == 32, "the 0.1.0 layout of circleloss_session_config");
    circleloss_session_config current;
    circleloss_session_config_init(&current);
    current.backend = CIRCLELOSS_BACKEND_CPU;
    current.num_threads = 2;
    current.struct_size = kOldSize;
    auto old = std::make_unique<unsigned char[]>(kOldSize);
    std::memcpy(old.get(), &current, kOldSize);
    circleloss_session* session = nullptr;
    ASSERT_EQ(circleloss_session_create(&session, reinterpret_cast<const circleloss_session_config*>(old.get())),
              CIRCLELOSS_STATUS_OK)
        << circleloss_last_error();
    int32_t threads = 0;
    ASSERT_EQ(circleloss_session_num_threads(&threads, session), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(threads, 2);
    EXPECT_EQ(circleloss_session_destroy(session), CIRCLELOSS_STATUS_OK);
}

// The CUDA loader settles once per process, so a test that points it at a provider of its own runs in a
// process of its own: gtest's "threadsafe" death-test style re-executes this binary for the statement (a
// fork would inherit the settled loader). ctest runs every test alone anyway; this keeps a plain run of
// the whole binary right too. gtest reports nothing from such a child, so its checks collect what failed
// and print it to stderr, which the parent's failure message shows.
struct ChildChecks {
    std::string failures;
    void expect(bool ok, const std::string& what) {
        if (!ok) failures += what + "\n";
    }
};

template <class Body>
void in_fresh_process(const Body& body) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            ChildChecks checks;
            body(checks);
            std::fputs(checks.failures.c_str(), stderr);
            std::exit(checks.failures.empty() ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

bool contains(const char* text, const char* part) { return text && std::strstr(text, part) != nullptr; }

// Point the loader at a provider that does not exist: CUDA must be refused with the reason, and AUTO
// must fall back to the CPU and say why.
TEST(CudaFallback, MissingProviderFallsBackWithReason) {
    if (!kCudaProviderPlatform) GTEST_SKIP() << kNoCudaProviderHere;
    in_fresh_process([](ChildChecks& check) {
        const char* missing = "/nonexistent/libcircleloss_cuda.so";
        setenv("CIRCLELOSS_CUDA_PROVIDER", missing, 1);
        circleloss_session_config config;
        circleloss_session_config_init(&config);
        config.backend = CIRCLELOSS_BACKEND_CUDA;
        circleloss_session* s = nullptr;
        const circleloss_status cuda = circleloss_session_create(&s, &config);
        check.expect(cuda == CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                     std::string("CUDA session: expected BACKEND_UNAVAILABLE, got ") + circleloss_status_name(cuda));
        check.expect(s == nullptr, "CUDA session: a handle came back with the failure");
        check.expect(contains(circleloss_last_error(), missing),
                     std::string("CUDA session: the message does not name the path: ") + circleloss_last_error());

        config.backend = CIRCLELOSS_BACKEND_AUTO;
        const circleloss_status automatic = circleloss_session_create(&s, &config);
        check.expect(automatic == CIRCLELOSS_STATUS_OK,
                     std::string("AUTO session: expected OK, got ") + circleloss_status_name(automatic));
        if (automatic == CIRCLELOSS_STATUS_OK) {
            circleloss_backend backend = CIRCLELOSS_BACKEND_AUTO;
            circleloss_session_backend(&backend, s);
            check.expect(backend == CIRCLELOSS_BACKEND_CPU, "AUTO session: not on the CPU");
            const char* reason = nullptr;
            circleloss_session_fallback_reason(&reason, s);
            check.expect(contains(reason, "CUDA unavailable") && contains(reason, missing),
                         std::string("AUTO session: the fallback reason lacks the cause: ") + (reason ? reason : "(null)"));
            circleloss_session_destroy(s);
        }

        int32_t available = 1;
        const char* detail = nullptr;
        const circleloss_status query = circleloss_query_backend(&available, &detail, CIRCLELOSS_BACKEND_CUDA);
        check.expect(query == CIRCLELOSS_STATUS_OK && available == 0, "query_backend(CUDA): expected OK and unavailable");
    });
}

TEST(CudaFallback, FileThatIsNotAProviderIsRefused) {
    if (!kCudaProviderPlatform) GTEST_SKIP() << kNoCudaProviderHere;
    in_fresh_process([](ChildChecks& check) {
        // Any shared library without the entry symbol: libm is always there.
        setenv("CIRCLELOSS_CUDA_PROVIDER", "libm.so.6", 1);
        int32_t available = 1;
        const char* detail = nullptr;
        const circleloss_status query = circleloss_query_backend(&available, &detail, CIRCLELOSS_BACKEND_CUDA);
        check.expect(query == CIRCLELOSS_STATUS_OK && available == 0, "query_backend(CUDA): expected OK and unavailable");
        check.expect(contains(detail, "circleloss_cuda_provider_entry"),
                     std::string("the detail does not name the missing entry symbol: ") + (detail ? detail : "(null)"));
    });
}

TEST(Concurrency, OneSessionManyThreadsGivesSingleThreadedResults) {
    std::mt19937_64 rng(53);
    const Case c = random_case(rng, 100, 300, 12, 6, true);
    SessionHolder s(2);
    const Result expected = run_case<float>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
    ASSERT_EQ(expected.status, CIRCLELOSS_STATUS_OK);
    std::vector<std::thread> threads;
    std::vector<int> mismatches(8, 0);
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int k = 0; k < 25; ++k) {
                const Result r = run_case<float>(s.session, c, CIRCLELOSS_GRADIENT_KERAS, Call::ForwardBackward);
                if (r.status != CIRCLELOSS_STATUS_OK || r.loss != expected.loss || r.grad_x != expected.grad_x ||
                    r.grad_r != expected.grad_r)
                    ++mismatches[static_cast<size_t>(t)];
            }
        });
    }
    for (auto& t : threads) t.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(Concurrency, ErrorsAreThreadLocal) {
    circleloss_session* bad = nullptr;
    circleloss_session_config config;
    circleloss_session_config_init(&config);
    config.num_threads = -5;
    ASSERT_EQ(circleloss_session_create(&bad, &config), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    std::string other;
    std::thread([&] { other = circleloss_last_error(); }).join();
    EXPECT_EQ(other, "");
    EXPECT_NE(std::string(circleloss_last_error()).find("num_threads"), std::string::npos);
}

}  // namespace

namespace {

TEST(ProductFloor, MeasuresAPositiveTimeForBothShapes) {
    std::mt19937_64 rng(59);
    for (bool refs : {false, true}) {
        const Case c = random_case(rng, 300, 500, 32, 5, refs);
        std::vector<float> x(c.x.begin(), c.x.end()), r(c.r.begin(), c.r.end());
        circleloss_problem p;
        circleloss_problem_init(&p);
        p.n = c.n;
        p.d = c.d;
        p.labels = c.labels.data();
        p.embeddings = x.data();
        if (refs) {
            p.m = c.m;
            p.ref_labels = c.ref_labels.data();
            p.ref_embeddings = r.data();
        }
        SessionHolder s(2);
        double seconds = -1;
        ASSERT_EQ(circleloss_measure_product_floor(&seconds, s.session, &p), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
        EXPECT_GT(seconds, 0.0);
        EXPECT_LT(seconds, 10.0);
    }
    SessionHolder s(1);
    EXPECT_EQ(circleloss_measure_product_floor(nullptr, s.session, nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
    double seconds = 0;
    EXPECT_EQ(circleloss_measure_product_floor(&seconds, s.session, nullptr), CIRCLELOSS_STATUS_INVALID_ARGUMENT);
}

}  // namespace

namespace {

// With the real provider built beside the core (CI installs the CUDA toolkit; no GPU there): AUTO must
// fall back with the provider's own reason, and CUDA must be refused with it. On a GPU machine AUTO
// must pick CUDA instead.
TEST(CudaProvider, BuiltProviderFallsBackOrRunsAsTheMachineAllows) {
    const char* core = nullptr;
    ASSERT_EQ(circleloss_library_path(&core), CIRCLELOSS_STATUS_OK);
    std::string provider = core;
    provider = provider.substr(0, provider.rfind('/') + 1) + "libcircleloss_cuda.so";
    if (access(provider.c_str(), F_OK) != 0) GTEST_SKIP() << "no CUDA provider built beside " << core;

    int32_t available = -1;
    const char* detail_ptr = nullptr;
    ASSERT_EQ(circleloss_query_backend(&available, &detail_ptr, CIRCLELOSS_BACKEND_CUDA), CIRCLELOSS_STATUS_OK);
    const std::string detail = detail_ptr;
    EXPECT_FALSE(detail.empty());

    circleloss_session_config config;
    circleloss_session_config_init(&config);
    circleloss_session* s = nullptr;
    ASSERT_EQ(circleloss_session_create(&s, &config), CIRCLELOSS_STATUS_OK) << circleloss_last_error();
    circleloss_backend backend = CIRCLELOSS_BACKEND_AUTO;
    circleloss_session_backend(&backend, s);
    const char* reason = nullptr;
    circleloss_session_fallback_reason(&reason, s);
    if (available == 1) {
        EXPECT_EQ(backend, CIRCLELOSS_BACKEND_CUDA);
        EXPECT_STREQ(reason, "");
    } else {
        EXPECT_EQ(backend, CIRCLELOSS_BACKEND_CPU);
        EXPECT_EQ(std::string(reason), "CUDA unavailable, using the CPU: " + detail);
        config.backend = CIRCLELOSS_BACKEND_CUDA;
        circleloss_session* cuda = nullptr;
        EXPECT_EQ(circleloss_session_create(&cuda, &config), CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE);
        EXPECT_NE(std::string(circleloss_last_error()).find(detail), std::string::npos) << circleloss_last_error();
    }
    circleloss_session_destroy(s);
}

}  // namespace
