#include "bench_support.h"

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace {
template <class T>
void fill_unit_rows(std::vector<T>& v, int64_t rows, int64_t d, std::mt19937_64& rng) {
    std::normal_distribution<double> normal;
    v.resize(static_cast<size_t>(rows * d));
    for (int64_t i = 0; i < rows; ++i) {
        double norm = 0;
        for (int64_t k = 0; k < d; ++k) {
            const double value = normal(rng);
            v[static_cast<size_t>(i * d + k)] = static_cast<T>(value);
            norm += value * value;
        }
        norm = std::sqrt(norm);
        for (int64_t k = 0; k < d; ++k) v[static_cast<size_t>(i * d + k)] = static_cast<T>(v[static_cast<size_t>(i * d + k)] / norm);
    }
}
}  // namespace

BenchProblem::BenchProblem(int64_t n_, int64_t m_, int64_t d_, int classes, bool refs_, bool float64_, uint64_t seed)
    : n(n_), m(refs_ ? m_ : n_), d(d_), refs(refs_), float64(float64_) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> label(0, classes - 1);
    labels.resize(static_cast<size_t>(n));
    for (auto& l : labels) l = label(rng);
    circleloss_problem_init(&problem);
    circleloss_forward_output_init(&forward);
    circleloss_gradient_output_init(&gradient);
    problem.n = n;
    problem.d = d;
    problem.labels = labels.data();
    if (refs) {
        ref_labels.resize(static_cast<size_t>(m));
        for (auto& l : ref_labels) l = label(rng);
        problem.m = m;
        problem.ref_labels = ref_labels.data();
    }
    if (float64) {
        problem.dtype = CIRCLELOSS_DTYPE_FLOAT64;
        fill_unit_rows(x64, n, d, rng);
        gx64.resize(x64.size());
        problem.embeddings = x64.data();
        forward.loss = &loss64;
        gradient.grad_embeddings = gx64.data();
        if (refs) {
            fill_unit_rows(r64, m, d, rng);
            gr64.resize(r64.size());
            problem.ref_embeddings = r64.data();
            gradient.grad_ref_embeddings = gr64.data();
        }
    } else {
        fill_unit_rows(x32, n, d, rng);
        gx32.resize(x32.size());
        problem.embeddings = x32.data();
        forward.loss = &loss32;
        gradient.grad_embeddings = gx32.data();
        if (refs) {
            fill_unit_rows(r32, m, d, rng);
            gr32.resize(r32.size());
            problem.ref_embeddings = r32.data();
            gradient.grad_ref_embeddings = gr32.data();
        }
    }
}

circleloss_session* make_session(int threads, uint64_t workspace_limit_bytes) {
    circleloss_session_config config;
    circleloss_session_config_init(&config);
    config.backend = CIRCLELOSS_BACKEND_CPU;
    config.num_threads = threads;
    if (workspace_limit_bytes > 0) config.workspace_limit_bytes = workspace_limit_bytes;
    circleloss_session* session = nullptr;
    if (circleloss_session_create(&session, &config) != CIRCLELOSS_STATUS_OK) {
        throw std::runtime_error(std::string("session: ") + circleloss_last_error());
    }
    return session;
}
