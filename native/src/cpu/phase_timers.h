// Wall-clock timers of the CPU backend's phases, for finding where a call's time goes without a
// profiler. Compiled in only when CMake's CIRCLELOSS_PHASE_TIMERS is ON (the benchmark build); the
// shipped library has neither the timers nor the function that reads them.
#pragma once

#include <cstdint>

namespace circleloss {
namespace cpu {
namespace phases {

// A call's phases, in the order they run. Each is timed on the calling thread, from the start of its
// first parallel loop to the join of its last, so the phases of one call add up to the call.
enum Phase : int {
    kSetup,                 // the plan, buffers and per-row state
    kSimilarities,          // S = X·Rᵀ (or its upper panels) when the matrix is kept whole
    kRowStatistics,         // per-row log-sum-exps from the kept matrix
    kStreamedStatistics,    // streamed plans: the similarity tiles and the log-sum-exps together
    kScales,                // per-row gradient scales
    kGradientCoefficients,  // G (or H = G + Gᵀ) from the kept matrix, in place
    kGradientProducts,      // dX = G·R (H·X) and dR = Gᵀ·X from the kept matrix
    kStreamedGradients,     // streamed plans: tiles recomputed, turned into G and multiplied out
    kForwardOutputs,        // per-row losses and the reduction
    kWorkerWake,            // from a parallel loop's start until a second thread joins it (summed)
    kPhaseCount
};

#if defined(CIRCLELOSS_PHASE_TIMERS)
uint64_t now_ns();
void add(Phase phase, uint64_t nanoseconds);

class Scope {
public:
    explicit Scope(Phase phase) : phase_(phase), start_(now_ns()) {}
    ~Scope() { add(phase_, now_ns() - start_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

private:
    Phase phase_;
    uint64_t start_;
};
#define CIRCLELOSS_PHASE_CONCAT2(a, b) a##b
#define CIRCLELOSS_PHASE_CONCAT(a, b) CIRCLELOSS_PHASE_CONCAT2(a, b)
#define CIRCLELOSS_PHASE(phase) \
    ::circleloss::cpu::phases::Scope CIRCLELOSS_PHASE_CONCAT(circleloss_phase_, __LINE__)(::circleloss::cpu::phases::phase)
#else
#define CIRCLELOSS_PHASE(phase) static_cast<void>(0)
#endif

}  // namespace phases
}  // namespace cpu
}  // namespace circleloss
