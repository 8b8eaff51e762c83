// The phase timers' totals (phase_timers.h) and the function the benchmarks read them with. Built only
// with CIRCLELOSS_PHASE_TIMERS; the function is exported by that build alone and declared in
// native/bench/phase_timers_api.h, not in the public header.
#include "cpu/phase_timers.h"

#include <atomic>
#include <chrono>

namespace circleloss {
namespace cpu {
namespace phases {
namespace {

std::atomic<uint64_t> phase_totals[kPhaseCount];
std::atomic<uint64_t> phase_counts[kPhaseCount];

const char* const phase_names[kPhaseCount] = {
    "setup",          "similarities",          "row_statistics", "streamed_statistics", "scales",
    "gradient_coefficients", "gradient_products", "streamed_gradients", "forward_outputs", "worker_wake",
};

}  // namespace

uint64_t now_ns() {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

void add(Phase phase, uint64_t nanoseconds) {
    phase_totals[phase].fetch_add(nanoseconds, std::memory_order_relaxed);
    phase_counts[phase].fetch_add(1, std::memory_order_relaxed);
}

}  // namespace phases
}  // namespace cpu
}  // namespace circleloss

// Copies up to `capacity` phases' names, total seconds and counts since the last reset; returns the
// number of phases. `reset` != 0 sets the totals to zero afterwards.
extern "C" __attribute__((visibility("default"))) int circleloss_phase_timers_read(const char** names, double* seconds,
                                                                                 uint64_t* counts, int capacity, int reset) {
    using namespace circleloss::cpu::phases;
    for (int p = 0; p < kPhaseCount && p < capacity; ++p) {
        names[p] = phase_names[p];
        seconds[p] = static_cast<double>(phase_totals[p].load()) * 1e-9;
        counts[p] = phase_counts[p].load();
        if (reset) {
            phase_totals[p].store(0);
            phase_counts[p].store(0);
        }
    }
    return kPhaseCount;
}
