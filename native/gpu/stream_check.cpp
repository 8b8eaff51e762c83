// GPU check of config->cuda_stream (C ABI 0.3.0): a CUDA session that runs on the caller's stream.
//
//   stream_check            (needs a CUDA device; run by native/gpu/check.sh)
//
// 1. Ordering: the caller queues a 300 ms host function and then the copy of the embeddings on its
//    stream, and calls the library at once. Only a call queued behind that copy sees the embeddings;
//    a call on any other stream would read the zeros the buffer held before.
// 2. The results on the caller's stream are bitwise those of a session with a stream of its own, for
//    device and host memory, and the caller's stream is idle when the call returns.
// 3. The session does not destroy the caller's stream: it is usable after the session is gone.
// Exit status 0 only when every check passed.
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "circleloss/circleloss.h"

namespace {

int g_failed = 0;

void check(bool ok, const std::string& what) {
    std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) ++g_failed;
}

void require_cuda(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
        std::exit(1);
    }
}

circleloss_session* make_session(cudaStream_t stream) {
    circleloss_session_config config;
    circleloss_session_config_init(&config);
    config.backend = CIRCLELOSS_BACKEND_CUDA;
    config.cuda_stream = stream;
    circleloss_session* s = nullptr;
    if (circleloss_session_create(&s, &config) != CIRCLELOSS_STATUS_OK) {
        std::fprintf(stderr, "session: %s\n", circleloss_last_error());
        std::exit(1);
    }
    return s;
}

struct Results {
    circleloss_status status = CIRCLELOSS_STATUS_OK;
    std::vector<float> loss, grad;
};

// Forward+backward of the self-similarity problem; `x` and `labels` in `memory`, outputs copied back.
Results run(circleloss_session* s, circleloss_memory memory, const void* labels, const void* x, int64_t n,
            int64_t d) {
    Results r;
    r.loss.assign(1, 0.f);
    r.grad.assign(static_cast<size_t>(n * d), 0.f);
    void* loss = r.loss.data();
    void* grad = r.grad.data();
    if (memory == CIRCLELOSS_MEMORY_DEVICE) {
        require_cuda(cudaMalloc(&loss, sizeof(float)), "cudaMalloc");
        require_cuda(cudaMalloc(&grad, r.grad.size() * sizeof(float)), "cudaMalloc");
    }
    circleloss_options options;
    circleloss_options_init(&options);
    circleloss_problem p;
    circleloss_problem_init(&p);
    p.memory = memory;
    p.n = n;
    p.d = d;
    p.labels = labels;
    p.embeddings = x;
    circleloss_forward_output f;
    circleloss_forward_output_init(&f);
    f.loss = loss;
    circleloss_gradient_output g;
    circleloss_gradient_output_init(&g);
    g.grad_embeddings = grad;
    r.status = circleloss_forward_backward(&f, &g, s, &options, &p);
    if (r.status != CIRCLELOSS_STATUS_OK) std::printf("call failed: %s\n", circleloss_last_error());
    if (memory == CIRCLELOSS_MEMORY_DEVICE) {
        require_cuda(cudaMemcpy(r.loss.data(), loss, sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy");
        require_cuda(cudaMemcpy(r.grad.data(), grad, r.grad.size() * sizeof(float), cudaMemcpyDeviceToHost),
                     "cudaMemcpy");
        cudaFree(loss);
        cudaFree(grad);
    }
    return r;
}

void CUDART_CB sleep_300_ms(void*) { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

}  // namespace

int main() {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::fprintf(stderr, "stream_check needs a CUDA device\n");
        return 1;
    }
    const int64_t n = 1024, d = 64;
    std::mt19937 rng(11);
    std::normal_distribution<float> normal;
    std::vector<float> x(static_cast<size_t>(n * d));
    std::vector<int32_t> labels(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        labels[static_cast<size_t>(i)] = static_cast<int32_t>(rng() % 16);
        double norm = 0;
        for (int64_t k = 0; k < d; ++k) {
            const float v = normal(rng);
            x[static_cast<size_t>(i * d + k)] = v;
            norm += static_cast<double>(v) * v;
        }
        for (int64_t k = 0; k < d; ++k) x[static_cast<size_t>(i * d + k)] /= static_cast<float>(std::sqrt(norm));
    }
    const size_t x_bytes = x.size() * sizeof(float);

    cudaStream_t caller = nullptr;
    require_cuda(cudaStreamCreateWithFlags(&caller, cudaStreamNonBlocking), "cudaStreamCreate");
    circleloss_session* own = make_session(nullptr);
    circleloss_session* on_caller = make_session(caller);
    const char* description = "";
    circleloss_session_describe(&description, on_caller);
    check(std::string(description).find("caller's stream") != std::string::npos,
          std::string("the session says it runs on the caller's stream: ") + description);

    // Reference: the session's own stream, inputs already on the device.
    void* dx = nullptr;
    void* dlabels = nullptr;
    float* pinned = nullptr;
    require_cuda(cudaMalloc(&dx, x_bytes), "cudaMalloc");
    require_cuda(cudaMalloc(&dlabels, labels.size() * sizeof(int32_t)), "cudaMalloc");
    require_cuda(cudaMallocHost(reinterpret_cast<void**>(&pinned), x_bytes), "cudaMallocHost");
    std::memcpy(pinned, x.data(), x_bytes);
    require_cuda(cudaMemcpy(dx, x.data(), x_bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
    require_cuda(cudaMemcpy(dlabels, labels.data(), labels.size() * sizeof(int32_t), cudaMemcpyHostToDevice),
                 "cudaMemcpy");
    const Results reference = run(own, CIRCLELOSS_MEMORY_DEVICE, dlabels, dx, n, d);
    check(reference.status == CIRCLELOSS_STATUS_OK && std::isfinite(reference.loss[0]) && reference.loss[0] > 0,
          "reference loss on the session's own stream: " + std::to_string(reference.loss[0]));

    // 1. Ordering behind the caller's queued work.
    require_cuda(cudaMemset(dx, 0, x_bytes), "cudaMemset");
    require_cuda(cudaLaunchHostFunc(caller, sleep_300_ms, nullptr), "cudaLaunchHostFunc");
    require_cuda(cudaMemcpyAsync(dx, pinned, x_bytes, cudaMemcpyHostToDevice, caller), "cudaMemcpyAsync");
    const Results queued = run(on_caller, CIRCLELOSS_MEMORY_DEVICE, dlabels, dx, n, d);
    check(queued.status == CIRCLELOSS_STATUS_OK && queued.loss == reference.loss && queued.grad == reference.grad,
          "a call queued behind the caller's copy sees the copied embeddings (loss " +
              std::to_string(queued.loss[0]) + ", bitwise equal to the reference)");
    check(cudaStreamQuery(caller) == cudaSuccess, "the caller's stream is idle when the call returns");

    // 2. Host memory, staged on the caller's stream.
    const Results host = run(on_caller, CIRCLELOSS_MEMORY_HOST, labels.data(), x.data(), n, d);
    check(host.status == CIRCLELOSS_STATUS_OK && host.loss == reference.loss && host.grad == reference.grad,
          "host memory on the caller's stream: bitwise equal to the reference");

    // 3. The caller's stream outlives the session.
    check(circleloss_session_destroy(on_caller) == CIRCLELOSS_STATUS_OK, "session on the caller's stream destroyed");
    require_cuda(cudaMemsetAsync(dx, 0, x_bytes, caller), "cudaMemsetAsync after the session is gone");
    check(cudaStreamSynchronize(caller) == cudaSuccess, "the caller's stream is still usable after the session");

    circleloss_session_destroy(own);
    cudaFreeHost(pinned);
    cudaFree(dx);
    cudaFree(dlabels);
    cudaStreamDestroy(caller);
    std::printf("stream checks: %s\n", g_failed ? "FAILED" : "all passed");
    return g_failed ? 1 : 0;
}
