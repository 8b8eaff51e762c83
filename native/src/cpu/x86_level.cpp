#include "cpu/x86_level.h"

#include <cstdlib>
#include <cstring>

namespace circleloss {
namespace cpu {
namespace {

X86Level detect() {
    __builtin_cpu_init();
    // The level names check every feature of the level, and the OS's support for the wider registers.
    X86Level level = X86Level::Baseline;
    if (__builtin_cpu_supports("x86-64-v4")) level = X86Level::V4;
    else if (__builtin_cpu_supports("x86-64-v3")) level = X86Level::V3;
    const char* cap = std::getenv("CIRCLELOSS_X86_LEVEL");
    if (cap && std::strcmp(cap, "baseline") == 0) return X86Level::Baseline;
    if (cap && std::strcmp(cap, "x86-64-v3") == 0 && level == X86Level::V4) return X86Level::V3;
    return level;
}

}  // namespace

X86Level x86_level() {
    static const X86Level level = detect();
    return level;
}

const char* x86_level_name(X86Level level) {
    switch (level) {
        case X86Level::V4: return "x86-64-v4 (AVX-512)";
        case X86Level::V3: return "x86-64-v3 (AVX2, FMA)";
        default: return "baseline x86-64 (SSE2)";
    }
}

}  // namespace cpu
}  // namespace circleloss
