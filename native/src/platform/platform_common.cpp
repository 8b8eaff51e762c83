// The parts of the platform layer that only depend on the compiler's target macros.
#include "platform/platform.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace circleloss {
namespace platform {

const char* runtime_identifier() {
#if defined(_WIN32) && defined(__x86_64__)
    return "win-x64";
#elif defined(__linux__) && defined(__x86_64__)
    return "linux-x64";
#elif defined(__linux__) && defined(__aarch64__)
    return "linux-arm64";
#else
#error "unsupported target: the core is built for linux-x64, linux-arm64 and win-x64"
#endif
}

std::string directory_of(const std::string& path) {
#ifdef _WIN32
    const size_t separator = path.find_last_of("/\\");
#else
    const size_t separator = path.rfind('/');
#endif
    return separator == std::string::npos ? std::string("./") : path.substr(0, separator + 1);
}

namespace {
void append_feature(std::string& list, const char* name) {
    if (!list.empty()) list += ' ';
    list += name;
}
}  // namespace

std::string cpu_features() {
    std::string features;
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the operating system saves the AVX / AVX-512 registers.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) append_feature(features, "sse4.2");
    if (__builtin_cpu_supports("avx")) append_feature(features, "avx");
    if (__builtin_cpu_supports("avx2")) append_feature(features, "avx2");
    if (__builtin_cpu_supports("fma")) append_feature(features, "fma");
    if (__builtin_cpu_supports("avx512f")) append_feature(features, "avx512f");
    return features.empty() ? std::string("baseline x86-64") : features;
#elif defined(__aarch64__) && defined(__linux__)
    // The kernel's hardware capability bits (asm/hwcap.h), spelled as in /proc/cpuinfo.
    const unsigned long hwcap = getauxval(AT_HWCAP);
    const unsigned long hwcap2 = getauxval(AT_HWCAP2);
    if (hwcap & (1UL << 1)) append_feature(features, "asimd");
    if (hwcap & (1UL << 9)) append_feature(features, "asimdhp");
    if (hwcap & (1UL << 20)) append_feature(features, "asimddp");
    if (hwcap & (1UL << 22)) append_feature(features, "sve");
    if (hwcap2 & (1UL << 1)) append_feature(features, "sve2");
    if (hwcap2 & (1UL << 13)) append_feature(features, "i8mm");
    if (hwcap2 & (1UL << 14)) append_feature(features, "bf16");
    return features.empty() ? std::string("baseline armv8-a") : features;
#endif
}

}  // namespace platform
}  // namespace circleloss
