// Random normalised problems for the benchmarks, owned buffers included.
#pragma once

#include <cstdint>
#include <vector>

#include "circleloss/circleloss.h"

struct BenchProblem {
    int64_t n = 0, m = 0, d = 0;
    bool refs = false;
    bool float64 = false;
    std::vector<int32_t> labels, ref_labels;
    std::vector<float> x32, r32, gx32, gr32;
    std::vector<double> x64, r64, gx64, gr64;
    double loss64 = 0;
    float loss32 = 0;
    circleloss_problem problem;
    circleloss_forward_output forward;
    circleloss_gradient_output gradient;

    BenchProblem(int64_t n, int64_t m, int64_t d, int classes, bool refs, bool float64, uint64_t seed = 1);
    BenchProblem(const BenchProblem&) = delete;
    BenchProblem& operator=(const BenchProblem&) = delete;
};

// A CPU session; workspace_limit_bytes 0 keeps the default limit.
circleloss_session* make_session(int threads, uint64_t workspace_limit_bytes = 0);
