// The x86-64 micro-architecture level of the running CPU, for targets that compile a piece of code once
// per level and choose at run time (Windows: PE has no ifunc, so GCC's target_clones is not available).
#pragma once

namespace circleloss {
namespace cpu {

enum class X86Level { Baseline = 0, V3 = 3, V4 = 4 };  // x86-64 (SSE2), x86-64-v3 (AVX2, FMA), x86-64-v4 (AVX-512)

// The highest level the CPU and the operating system support, capped by the environment variable
// CIRCLELOSS_X86_LEVEL (baseline, x86-64-v3 or x86-64-v4) so that tests run every variant on one machine.
// Decided once per process.
X86Level x86_level();

// "x86-64-v4 (AVX-512)", "x86-64-v3 (AVX2, FMA)", "baseline x86-64 (SSE2)".
const char* x86_level_name(X86Level level);

}  // namespace cpu
}  // namespace circleloss
