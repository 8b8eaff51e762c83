// GPU checks of a batch computed in parts (problem->diagonal_offset, problem->reduction_divisor,
// forward_output->reduction_terms, circleloss_reduce_terms) on the CUDA provider, called from gpu_check.cpp:
// a batch split into unequal parts, each part against the whole batch as references (what
// CircleLoss.Interop.Distributed does on each rank), in float32 and float64, host and device memory, split
// (forward, reduce_terms, backward with the batch's divisor) and fused (forward_backward with divisor 1, scaled
// afterwards, as DistributedCircle does), against the whole batch on the CPU backend.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "circleloss/circleloss.h"

namespace {

using CheckFn = void (*)(bool, const std::string&);

// A buffer in host or device memory of a session, filled from and read back as bytes.
struct Buffer {
    circleloss_session* session;
    bool device;
    std::vector<unsigned char> host;
    void* pointer = nullptr;
    Buffer(circleloss_session* s, bool on_device, const void* data, size_t bytes)
        : session(s), device(on_device), host(bytes) {
        if (bytes && data) std::memcpy(host.data(), data, bytes);
        if (device && bytes) {
            circleloss_device_alloc(&pointer, session, bytes);
            circleloss_device_copy(session, pointer, host.data(), bytes, CIRCLELOSS_COPY_HOST_TO_DEVICE);
        } else {
            pointer = bytes ? host.data() : nullptr;
        }
    }
    ~Buffer() {
        if (device && pointer) circleloss_device_free(session, pointer);
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    template <class T>
    std::vector<double> read() {
        if (device && !host.empty()) {
            circleloss_device_copy(session, host.data(), pointer, host.size(), CIRCLELOSS_COPY_DEVICE_TO_HOST);
        }
        std::vector<double> out(host.size() / sizeof(T));
        for (size_t i = 0; i < out.size(); ++i) {
            T v;
            std::memcpy(&v, host.data() + i * sizeof(T), sizeof(T));
            out[i] = static_cast<double>(v);
        }
        return out;
    }
};

struct Batch {
    int64_t n, d;
    std::vector<int32_t> labels;
    std::vector<double> x, w;
};

Batch random_batch(uint64_t seed, int64_t n, int64_t d) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    std::uniform_int_distribution<int> label(0, 5);
    std::uniform_real_distribution<double> weight(0.0, 2.0);
    Batch b{n, d, {}, std::vector<double>(static_cast<size_t>(n * d)), {}};
    for (int64_t i = 0; i < n; ++i) {
        double norm = 0;
        for (int64_t k = 0; k < d; ++k) norm += std::pow(b.x[static_cast<size_t>(i * d + k)] = normal(rng), 2);
        for (int64_t k = 0; k < d; ++k) b.x[static_cast<size_t>(i * d + k)] /= std::sqrt(norm);
        b.labels.push_back(label(rng));
        b.w.push_back(i % 5 == 2 ? 0.0 : weight(rng));
    }
    return b;
}

double normwise(const std::vector<double>& a, const std::vector<double>& ref) {
    if (a.size() != ref.size()) return INFINITY;
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!std::isfinite(a[i])) return INFINITY;
        diff = std::max(diff, std::fabs(a[i] - ref[i]));
        scale = std::max(scale, std::fabs(ref[i]));
    }
    return scale == 0 ? diff : diff / scale;
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
    return std::vector<T>(v.begin(), v.end());
}

struct Whole {
    double loss;
    std::vector<double> grad;
};

// The whole batch in one call (self-similarity) on `session`, host memory.
template <class T>
Whole whole_batch(circleloss_session* session, const Batch& b, const circleloss_options& o) {
    const std::vector<T> x = cast<T>(b.x), w = cast<T>(b.w);
    std::vector<T> loss(1), grad(b.x.size());
    circleloss_problem p;
    circleloss_problem_init(&p);
    p.dtype = sizeof(T) == 4 ? CIRCLELOSS_DTYPE_FLOAT32 : CIRCLELOSS_DTYPE_FLOAT64;
    p.n = b.n;
    p.d = b.d;
    p.labels = b.labels.data();
    p.embeddings = x.data();
    p.sample_weights = w.data();
    circleloss_forward_output fo;
    circleloss_forward_output_init(&fo);
    fo.loss = loss.data();
    circleloss_gradient_output go;
    circleloss_gradient_output_init(&go);
    go.grad_embeddings = grad.data();
    if (circleloss_forward_backward(&fo, &go, session, &o, &p) != CIRCLELOSS_STATUS_OK) return {NAN, {}};
    return {static_cast<double>(loss[0]), std::vector<double>(grad.begin(), grad.end())};
}

// The batch as parts on `session` (memory: host or device), split or fused.
template <class T>
Whole in_parts(circleloss_session* session, bool device, bool fused, const Batch& b, const circleloss_options& o,
               std::string& error) {
    const int64_t n = b.n, d = b.d;
    const std::vector<int64_t> starts = {0, n / 2, n / 2 + n / 7, n};  // unequal parts
    const std::vector<T> x = cast<T>(b.x), w = cast<T>(b.w);
    Buffer all_x(session, device, x.data(), x.size() * sizeof(T));
    Buffer all_y(session, device, b.labels.data(), b.labels.size() * sizeof(int32_t));
    Buffer all_w(session, device, w.data(), w.size() * sizeof(T));
    auto part = [&](size_t k, double divisor) {
        circleloss_problem p;
        circleloss_problem_init(&p);
        p.dtype = sizeof(T) == 4 ? CIRCLELOSS_DTYPE_FLOAT32 : CIRCLELOSS_DTYPE_FLOAT64;
        p.memory = device ? CIRCLELOSS_MEMORY_DEVICE : CIRCLELOSS_MEMORY_HOST;
        p.n = starts[k + 1] - starts[k];
        p.d = d;
        p.m = n;
        p.labels = static_cast<const int32_t*>(all_y.pointer) + starts[k];
        p.embeddings = static_cast<const T*>(all_x.pointer) + starts[k] * d;
        p.ref_labels = all_y.pointer;
        p.ref_embeddings = all_x.pointer;
        p.sample_weights = static_cast<const T*>(all_w.pointer) + starts[k];
        p.diagonal_offset = starts[k];
        p.reduction_divisor = divisor;
        return p;
    };
    const size_t parts = starts.size() - 1;
    std::vector<std::vector<double>> gx(parts), gr(parts), states;
    std::vector<std::unique_ptr<Buffer>> state_buffers;
    double summed[CIRCLELOSS_REDUCTION_TERMS] = {0, 0};
    for (size_t k = 0; k < parts; ++k) {
        const circleloss_problem p = part(k, fused ? 1.0 : 0.0);
        const double no_terms[CIRCLELOSS_REDUCTION_TERMS] = {-1, -1};
        Buffer loss(session, device, nullptr, sizeof(T));
        Buffer terms(session, device, no_terms, sizeof no_terms);
        state_buffers.push_back(std::make_unique<Buffer>(session, device, nullptr, static_cast<size_t>(2 * p.n) * sizeof(T)));
        Buffer dx(session, device, nullptr, static_cast<size_t>(p.n * d) * sizeof(T));
        Buffer dr(session, device, nullptr, static_cast<size_t>(n * d) * sizeof(T));
        circleloss_forward_output fo;
        circleloss_forward_output_init(&fo);
        fo.loss = loss.pointer;
        fo.saved_state = state_buffers.back()->pointer;
        fo.reduction_terms = static_cast<double*>(terms.pointer);
        circleloss_gradient_output go;
        circleloss_gradient_output_init(&go);
        go.grad_embeddings = dx.pointer;
        go.grad_ref_embeddings = dr.pointer;
        const circleloss_status st = fused ? circleloss_forward_backward(&fo, &go, session, &o, &p)
                                           : circleloss_forward(&fo, session, &o, &p);
        if (st != CIRCLELOSS_STATUS_OK) {
            error = circleloss_last_error();
            return {NAN, {}};
        }
        const std::vector<double> t = terms.read<double>();
        summed[0] += t[0];
        summed[1] += t[1];
        if (fused) {
            gx[k] = dx.read<T>();
            gr[k] = dr.read<T>();
        }
    }
    double loss = 0, divisor = 0;
    if (circleloss_reduce_terms(&loss, &divisor, o.reduction, summed) != CIRCLELOSS_STATUS_OK) {
        error = circleloss_last_error();
        return {NAN, {}};
    }
    if (!fused) {
        for (size_t k = 0; k < parts; ++k) {
            const circleloss_problem p = part(k, divisor);
            Buffer dx(session, device, nullptr, static_cast<size_t>(p.n * d) * sizeof(T));
            Buffer dr(session, device, nullptr, static_cast<size_t>(n * d) * sizeof(T));
            circleloss_gradient_output go;
            circleloss_gradient_output_init(&go);
            go.grad_embeddings = dx.pointer;
            go.grad_ref_embeddings = dr.pointer;
            if (circleloss_backward(&go, session, &o, &p, state_buffers[k]->pointer) != CIRCLELOSS_STATUS_OK) {
                error = circleloss_last_error();
                return {NAN, {}};
            }
            gx[k] = dx.read<T>();
            gr[k] = dr.read<T>();
        }
    }
    std::vector<double> grad(static_cast<size_t>(n * d), 0.0);
    for (size_t k = 0; k < parts; ++k) {
        for (size_t e = 0; e < gx[k].size(); ++e) grad[static_cast<size_t>(starts[k] * d) + e] += gx[k][e];
        for (size_t e = 0; e < gr[k].size(); ++e) grad[e] += gr[k][e];
    }
    if (fused && divisor != 0 && divisor != 1) {
        for (double& g : grad) g /= divisor;
    }
    return {loss, grad};
}

template <class T>
void check_type(circleloss_session* gpu, circleloss_session* cpu, bool device_memory, CheckFn check) {
    const double loss_tol = sizeof(T) == 8 ? 1e-9 : 5e-5, grad_tol = sizeof(T) == 8 ? 1e-8 : 5e-4;
    const char* type = sizeof(T) == 8 ? "f64" : "f32";
    for (circleloss_reduction reduction : {CIRCLELOSS_REDUCTION_SUM, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE,
                                           CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT}) {
        circleloss_options o;
        circleloss_options_init(&o);
        o.reduction = reduction;
        o.gamma = 32;
        const Batch b = random_batch(40 + static_cast<uint64_t>(reduction), 1537, 48);
        const Whole truth = whole_batch<T>(cpu, b, o);
        for (bool device : {false, true}) {
            if (device && !device_memory) continue;
            for (bool fused : {false, true}) {
                std::string error;
                const Whole parts = in_parts<T>(gpu, device, fused, b, o, error);
                const std::string label = std::string("batch parts ") + type + " reduction " + std::to_string(reduction) +
                                          (device ? " device" : " host") + (fused ? " fused" : " split");
                const double e_loss = std::fabs(parts.loss - truth.loss) / std::max(std::fabs(truth.loss), 1e-300);
                const double e_grad = normwise(parts.grad, truth.grad);
                char buf[256];
                std::snprintf(buf, sizeof buf, "%s: loss %.2e, grad %.2e vs the whole batch on the CPU%s%s", label.c_str(),
                              e_loss, e_grad, error.empty() ? "" : ": ", error.c_str());
                check(error.empty() && e_loss <= loss_tol && e_grad <= grad_tol, buf);
                std::printf("%s\n", buf);
            }
        }
    }
}

}  // namespace

// Called by gpu_check's main (declared there).
// Device memory only where `gpu` is a CUDA session (gpu_check --cpu-self-test puts the CPU in its place).
void run_batch_part_checks(circleloss_session* gpu, circleloss_session* cpu, void (*check)(bool, const std::string&)) {
    circleloss_backend backend = CIRCLELOSS_BACKEND_CPU;
    circleloss_session_backend(&backend, gpu);
    const bool device_memory = backend == CIRCLELOSS_BACKEND_CUDA;
    check_type<float>(gpu, cpu, device_memory, check);
    check_type<double>(gpu, cpu, device_memory, check);
}
