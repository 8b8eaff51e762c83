// Google Benchmark of the C ABI: forward+backward against the product floor (the minimal GEMMs of the
// same problem timed by the library itself), for the shapes of docs/performance.md.
//   build/bin/circleloss_bench --benchmark_min_time=2s --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "bench_support.h"

namespace {

// Arguments: n, m (ignored for self), d, classes, refs (0/1), float64 (0/1), threads.
void ForwardBackward(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(6));
    BenchProblem p(state.range(0), state.range(1), state.range(2), static_cast<int>(state.range(3)), state.range(4) != 0,
                   state.range(5) != 0);
    circleloss_session* session = make_session(threads);
    circleloss_options options;
    circleloss_options_init(&options);
    double floor_seconds = 0;
    if (circleloss_measure_product_floor(&floor_seconds, session, &p.problem) != CIRCLELOSS_STATUS_OK) {
        state.SkipWithError(circleloss_last_error());
        return;
    }
    for (auto _ : state) {
        if (circleloss_forward_backward(&p.forward, &p.gradient, session, &options, &p.problem) != CIRCLELOSS_STATUS_OK) {
            state.SkipWithError(circleloss_last_error());
            break;
        }
        benchmark::ClobberMemory();
    }
    // Re-measure the floor after the loop: the ratio compares two numbers taken in one run.
    double floor_after = 0;
    circleloss_measure_product_floor(&floor_after, session, &p.problem);
    const double floor_best = std::min(floor_seconds, floor_after);
    const double pairs = static_cast<double>(p.n) * static_cast<double>(p.m);
    const double product_flops = p.refs ? 6.0 * pairs * static_cast<double>(p.d) : 3.0 * pairs * static_cast<double>(p.d);
    state.counters["floor_ms"] = floor_best * 1e3;
    state.counters["floor_GFLOPs"] = product_flops / floor_best * 1e-9;
    state.counters["GFLOPs"] = benchmark::Counter(product_flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    circleloss_session_destroy(session);
}

}  // namespace

// Self-similarity (the targets), float32 and float64, 2 threads.
BENCHMARK(ForwardBackward)->ArgNames({"n", "m", "d", "classes", "refs", "f64", "threads"})
    ->Args({256, 0, 128, 16, 0, 0, 2})
    ->Args({1024, 0, 128, 64, 0, 0, 2})
    ->Args({1024, 0, 128, 64, 0, 1, 2})
    ->Args({4096, 0, 256, 256, 0, 0, 2})
    ->Args({4096, 0, 256, 256, 0, 0, 1})
    // Queries against a reference memory (cross-batch-memory sized).
    ->Args({1024, 16384, 128, 256, 1, 0, 2})
    ->Args({1024, 262144, 128, 1000, 1, 0, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
