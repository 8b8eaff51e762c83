// The CPU backend's workers are kept off the processor of the thread that hands them work, so that a
// scheduler packing threads onto few processors cannot queue a worker behind the thread waiting for it
// (thread_pool.cpp). Observable on Linux x86-64 through the threads' affinity; the other targets leave
// placement to their scheduler (or run here under an emulator that has threads of its own).
#include <gtest/gtest.h>

#if defined(__linux__) && defined(__x86_64__)

#include <dirent.h>
#include <pthread.h>
#include <sched.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "test_support.h"

using namespace testing_support;

namespace {

std::vector<pid_t> threads_of_this_process() {
    std::vector<pid_t> tids;
    DIR* dir = opendir("/proc/self/task");
    if (!dir) return tids;
    while (const dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') tids.push_back(static_cast<pid_t>(std::atoi(entry->d_name)));
    }
    closedir(dir);
    return tids;
}

TEST(ThreadPlacement, WorkersAreKeptOffTheCallersCpu) {
    cpu_set_t allowed;
    ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed), 0);
    if (CPU_COUNT(&allowed) < 2) GTEST_SKIP() << "this thread may run on one CPU only";

    SessionHolder s(2);  // its worker may use what this thread may use
    // Hold this thread on one CPU so that the CPU the call is made from is known.
    const int cpu = sched_getcpu();
    ASSERT_GE(cpu, 0);
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(cpu, &only);
    ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof only, &only), 0);
    std::mt19937_64 rng(7);
    const Result r = run_case<float>(s.session, random_case(rng, 300, 300, 8, 5, false), CIRCLELOSS_GRADIENT_KERAS,
                                     Call::ForwardBackward);
    ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed), 0);
    ASSERT_EQ(r.status, CIRCLELOSS_STATUS_OK) << r.message;

    cpu_set_t expected = allowed;
    CPU_CLR(cpu, &expected);
    int kept_off = 0;
    for (const pid_t tid : threads_of_this_process()) {
        cpu_set_t mask;
        if (sched_getaffinity(tid, sizeof mask, &mask) == 0 && CPU_EQUAL(&mask, &expected)) ++kept_off;
    }
    EXPECT_EQ(kept_off, 1) << "the session's one worker may use every CPU but " << cpu;
}

}  // namespace

#endif
