// Google Benchmark of the C ABI: forward+backward against the product floor (the minimal GEMMs of the
// same problem timed by the library itself), for the shapes of docs/performance.md, with the time per
// call of each phase of the CPU backend (counters ms_<phase>; a build with CIRCLELOSS_PHASE_TIMERS).
//   build/bin/circleloss_bench --benchmark_min_time=2s --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "phase_timers_api.h"

namespace {

constexpr int kMaxPhases = 16;

void reset_phase_timers() {
    const char* names[kMaxPhases];
    double seconds[kMaxPhases];
    uint64_t counts[kMaxPhases];
    circleloss_phase_timers_read(names, seconds, counts, kMaxPhases, 1);
}

// Milliseconds per call spent in each phase of the CPU backend (phase_timers.h), as counters.
void report_phases(benchmark::State& state) {
    const char* names[kMaxPhases];
    double seconds[kMaxPhases];
    uint64_t counts[kMaxPhases];
    const int phases = std::min(kMaxPhases, circleloss_phase_timers_read(names, seconds, counts, kMaxPhases, 1));
    const double calls = static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
    for (int i = 0; i < phases; ++i) {
        if (counts[i] > 0) state.counters[std::string("ms_") + names[i]] = seconds[i] * 1e3 / calls;
    }
}

double floor_seconds(benchmark::State& state, circleloss_session* session, const circleloss_problem& problem) {
    double seconds = 0;
    if (circleloss_measure_product_floor(&seconds, session, &problem) != CIRCLELOSS_STATUS_OK) {
        state.SkipWithError(circleloss_last_error());
    }
    return seconds;
}

// Arguments: n, m (ignored for self), d, classes, refs (0/1), float64 (0/1), threads, idle_ms.
// idle_ms > 0: the machine idles that long (untimed) before each call, as between training steps when
// the model's own work runs elsewhere; the floor is then measured the same way (median of 7, each after
// the same idle time).
void ForwardBackward(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(6));
    const auto idle = std::chrono::milliseconds(state.range(7));
    BenchProblem p(state.range(0), state.range(1), state.range(2), static_cast<int>(state.range(3)), state.range(4) != 0,
                   state.range(5) != 0);
    circleloss_session* session = make_session(threads);
    circleloss_options options;
    circleloss_options_init(&options);
    std::vector<double> floors;
    floors.push_back(floor_seconds(state, session, p.problem));
    // One call before timing: a training loop's calls find the session's buffers and threads ready (the
    // first call's extra cost is in the memory curve's seconds).
    if (circleloss_forward_backward(&p.forward, &p.gradient, session, &options, &p.problem) != CIRCLELOSS_STATUS_OK) {
        state.SkipWithError(circleloss_last_error());
    }
    reset_phase_timers();
    for (auto _ : state) {
        if (idle.count() > 0) {
            state.PauseTiming();
            std::this_thread::sleep_for(idle);
            state.ResumeTiming();
        }
        if (circleloss_forward_backward(&p.forward, &p.gradient, session, &options, &p.problem) != CIRCLELOSS_STATUS_OK) {
            state.SkipWithError(circleloss_last_error());
            break;
        }
        benchmark::ClobberMemory();
    }
    report_phases(state);
    // Re-measure the floor after the loop: the ratio compares numbers taken in one run.
    double floor = 0;
    if (idle.count() > 0) {
        for (int k = 0; k < 7; ++k) {
            std::this_thread::sleep_for(idle);
            floors.push_back(floor_seconds(state, session, p.problem));
        }
        std::sort(floors.begin() + 1, floors.end());
        floor = floors[4];  // the median of the seven taken after idling
    } else {
        floors.push_back(floor_seconds(state, session, p.problem));
        floor = std::min(floors[0], floors[1]);
    }
    const double pairs = static_cast<double>(p.n) * static_cast<double>(p.m);
    const double product_flops = p.refs ? 6.0 * pairs * static_cast<double>(p.d) : 3.0 * pairs * static_cast<double>(p.d);
    state.counters["floor_ms"] = floor * 1e3;
    state.counters["floor_GFLOPs"] = product_flops / floor * 1e-9;
    state.counters["GFLOPs"] = benchmark::Counter(product_flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    circleloss_session_destroy(session);
}

}  // namespace

// Self-similarity and references, float32 and float64 (docs/performance.md's cases).
BENCHMARK(ForwardBackward)->ArgNames({"n", "m", "d", "classes", "refs", "f64", "threads", "idle_ms"})
    ->Args({256, 0, 128, 16, 0, 0, 2, 0})
    ->Args({1024, 0, 128, 64, 0, 0, 2, 0})
    ->Args({1024, 0, 128, 64, 0, 0, 1, 0})
    ->Args({1024, 0, 128, 64, 0, 1, 2, 0})
    ->Args({4096, 0, 256, 256, 0, 0, 2, 0})
    ->Args({4096, 0, 256, 256, 0, 0, 1, 0})
    // Queries against a reference memory (cross-batch-memory sized): kept whole within the workspace
    // limit (16384, 65536), streamed beyond it (262144).
    ->Args({1024, 16384, 128, 256, 1, 0, 2, 0})
    ->Args({1024, 65536, 128, 1000, 1, 0, 2, 0})
    ->Args({1024, 262144, 128, 1000, 1, 0, 2, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Between training steps: 200 ms idle before each call (a fixed count of calls: the pauses are not
// timed, so a minimum time would mean minutes of pauses).
BENCHMARK(ForwardBackward)->ArgNames({"n", "m", "d", "classes", "refs", "f64", "threads", "idle_ms"})
    ->Args({1024, 0, 128, 64, 0, 0, 2, 200})
    ->Iterations(40)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
