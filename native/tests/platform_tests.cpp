// What differs per target (linux-x64, linux-arm64, win-x64): the library's file, the GEMM it names, and
// CUDA, which is refused with its reason where the provider is not built.
#include <gtest/gtest.h>

#include <string>

#include "test_support.h"

using namespace testing_support;

namespace {

TEST(Platform, LibraryPathNamesThisTargetsFile) {
    const char* path = nullptr;
    ASSERT_EQ(circleloss_library_path(&path), CIRCLELOSS_STATUS_OK);
    EXPECT_NE(std::string(path).find(kLibraryFileName), std::string::npos) << path;
}

TEST(Platform, CpuBackendNamesItsGemmAndTheCpuFeatures) {
    int32_t available = 0;
    const char* detail = nullptr;
    ASSERT_EQ(circleloss_query_backend(&available, &detail, CIRCLELOSS_BACKEND_CPU), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(available, 1);
    EXPECT_NE(std::string(detail).find(kGemmName), std::string::npos) << detail;
    EXPECT_NE(std::string(detail).find("CPU features: "), std::string::npos) << detail;
}

TEST(Platform, CudaIsUnavailableWithTheReason) {
    if (kCudaProviderPlatform) GTEST_SKIP() << "linux-x64 has a CUDA provider: CudaFallback and CudaProvider test it";
    int32_t available = 1;
    const char* detail = nullptr;
    ASSERT_EQ(circleloss_query_backend(&available, &detail, CIRCLELOSS_BACKEND_CUDA), CIRCLELOSS_STATUS_OK);
    EXPECT_EQ(available, 0);
    EXPECT_NE(std::string(detail).find("built for linux-x64 only"), std::string::npos) << detail;

    circleloss_session_config config;
    circleloss_session_config_init(&config);
    config.backend = CIRCLELOSS_BACKEND_CUDA;
    circleloss_session* s = nullptr;
    EXPECT_EQ(circleloss_session_create(&s, &config), CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE);
    EXPECT_NE(std::string(circleloss_last_error()).find("built for linux-x64 only"), std::string::npos);

    config.backend = CIRCLELOSS_BACKEND_AUTO;
    ASSERT_EQ(circleloss_session_create(&s, &config), CIRCLELOSS_STATUS_OK);
    const char* reason = nullptr;
    circleloss_session_fallback_reason(&reason, s);
    EXPECT_NE(std::string(reason).find("built for linux-x64 only"), std::string::npos) << reason;
    circleloss_session_destroy(s);
}

}  // namespace
