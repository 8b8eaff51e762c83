// Peak memory of one forward+backward call beyond its inputs and outputs, for one problem size.
//   circleloss_memory_curve N M D [threads [workspace_limit_mib]]   prints "m,limit_mib,extra_peak_mib,seconds"
// (limit 0: the session's default, 1 GiB)
// Run once per size in a fresh process (native/bench/memory_curve.sh does), so the high-water mark
// (VmHWM) before the call is that of the inputs and outputs alone.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "bench_support.h"

namespace {
long status_kib(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.compare(0, std::strlen(field), field) == 0) return std::atol(line.c_str() + std::strlen(field));
    }
    return -1;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s N M D [threads [workspace_limit_mib]]\n", argv[0]);
        return 2;
    }
    const long n = std::atol(argv[1]), m = std::atol(argv[2]), d = std::atol(argv[3]);
    const int threads = argc > 4 ? std::atoi(argv[4]) : 2;
    const long limit_mib = argc > 5 ? std::atol(argv[5]) : 0;
    BenchProblem p(n, m, d, 1000, true, false);
    circleloss_session* session = make_session(threads, static_cast<uint64_t>(limit_mib) << 20);
    circleloss_options options;
    circleloss_options_init(&options);
    // Touch the outputs so that they count as resident before the call.
    std::memset(p.gx32.data(), 0, p.gx32.size() * sizeof(float));
    std::memset(p.gr32.data(), 0, p.gr32.size() * sizeof(float));
    const long before = status_kib("VmHWM:");
    const auto start = std::chrono::steady_clock::now();
    if (circleloss_forward_backward(&p.forward, &p.gradient, session, &options, &p.problem) != CIRCLELOSS_STATUS_OK) {
        std::fprintf(stderr, "%s\n", circleloss_last_error());
        return 1;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const long after = status_kib("VmHWM:");
    std::printf("%ld,%ld,%.2f,%.3f\n", m, limit_mib > 0 ? limit_mib : 1024, static_cast<double>(after - before) / 1024.0,
                seconds);
    circleloss_session_destroy(session);
    return 0;
}
