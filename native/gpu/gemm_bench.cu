// The cuBLAS products of the circle loss alone, at full size, as the floor for the provider's timings.
//
//   gemm_bench            prints one line per benchmark shape: "GEMM <name> fwd_ms=... fwdbwd_ms=..."
//
// forward:          S = X·Rᵀ                       (N×M×D)
// forward+backward: S, then dX = G·R, plus dR = Gᵀ·X when the references are a separate set
//                   (self: dX = (G + Gᵀ)·X, one product). G is a random N×M matrix here.
// Each product is timed with CUDA events (median of 10 after 3 warm-ups), in plain fp32 and with TF32.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CK(x)                                                                                  \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            std::exit(1);                                                                      \
        }                                                                                      \
    } while (0)
#define CB(x)                                                                                  \
    do {                                                                                       \
        cublasStatus_t s_ = (x);                                                               \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                     \
            std::fprintf(stderr, "%s:%d %s: cuBLAS status %d\n", __FILE__, __LINE__, #x, (int)s_); \
            std::exit(1);                                                                      \
        }                                                                                      \
    } while (0)

__global__ void fill(float* p, size_t n, unsigned seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2654435761u ^ seed;
        h ^= h >> 13;
        h *= 0x5bd1e995u;
        h ^= h >> 15;
        p[i] = ((h & 0xffffff) / 16777216.0f - 0.5f) * 0.1f;
    }
}

template <class F>
float time_ms(F&& f) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    std::vector<float> t;
    for (int k = 0; k < 13; ++k) {
        CK(cudaEventRecord(a));
        f();
        CK(cudaEventRecord(b));
        CK(cudaEventSynchronize(b));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, a, b));
        if (k >= 3) t.push_back(ms);
    }
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

void bench(const char* name, int n, int m, int d, bool self) {
    float *x, *r, *s, *dx, *dr;
    CK(cudaMalloc(&x, sizeof(float) * n * d));
    CK(cudaMalloc(&r, sizeof(float) * (size_t)m * d));
    CK(cudaMalloc(&s, sizeof(float) * (size_t)n * m));
    CK(cudaMalloc(&dx, sizeof(float) * n * d));
    CK(cudaMalloc(&dr, sizeof(float) * (size_t)m * d));
    fill<<<1024, 256>>>(x, (size_t)n * d, 1);
    fill<<<1024, 256>>>(r, (size_t)m * d, 2);
    fill<<<4096, 256>>>(s, (size_t)n * m, 3);
    CK(cudaDeviceSynchronize());
    cublasHandle_t h;
    CB(cublasCreate(&h));
    const float one = 1, zero = 0;
    for (int tf32 = 0; tf32 < 2; ++tf32) {
        CB(cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
        // Row-major S (n×m) = X·Rᵀ  <=>  column-major Sᵀ (m×n) = R·Xᵀ
        const float t_s = time_ms([&] {
            CB(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, d, &one, r, d, x, d, &zero, s, m));
        });
        // dX (n×d) = G (n×m)·R (m×d)
        const float t_dx = time_ms([&] {
            CB(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, d, n, m, &one, r, d, s, m, &zero, dx, d));
        });
        // dR (m×d) = Gᵀ (m×n)·X (n×d)
        const float t_dr = self ? 0.0f : time_ms([&] {
            CB(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, d, m, n, &one, x, d, s, m, &zero, dr, d));
        });
        const double flop = 2.0 * n * (double)m * d;
        std::printf("GEMM %s%s fwd_ms=%.3f fwdbwd_ms=%.3f (S %.3f ms = %.1f TFLOP/s, dX %.3f ms, dR %.3f ms)\n", name,
                    tf32 ? "_tf32" : "", t_s, t_s + t_dx + t_dr, t_s, flop / t_s / 1e9, t_dx, t_dr);
    }
    CB(cublasDestroy(h));
    CK(cudaFree(x));
    CK(cudaFree(r));
    CK(cudaFree(s));
    CK(cudaFree(dx));
    CK(cudaFree(dr));
}

int main() {
    bench("self_n8192_d512", 8192, 8192, 512, true);
    bench("refs_n4096_m262144_d128", 4096, 262144, 128, false);
    return 0;
}
