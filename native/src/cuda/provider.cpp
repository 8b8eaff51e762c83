// The CUDA provider: the table of provider_api.h over the kernels of kernels.cu and cuBLAS.
//
// Scheme (both passes work on tiles of the similarity matrix, never on all of N×M at once):
// - forward: for each tile (query rows I, reference rows J), S_IJ = X_I·R_Jᵀ by cuBLAS, then one kernel
//   folds the tile into per-row running log-sum-exps of positives and negatives (lse_tile). Tiles are
//   visited row block by row block, column tiles in order, so each row's state sees its columns in a
//   fixed order. A per-row kernel turns the state into LP, LN, l_i and the mask; one block reduces.
// - backward: per row, scale_i = c_i·σ(LP_i + LN_i); per tile, S_IJ again (or from the forward, when
//   forward_backward can keep every tile within the workspace limit), one kernel turns it into G_IJ in
//   place, then dX_I (+)= G_IJ·R_J and dR_J (+)= G_IJᵀ·X_I by cuBLAS. When the queries are their own
//   references the kernel forms H_IJ = G_IJ + (G_JI)ᵀ from the same S tile and dX_I (+)= H_IJ·X_J is
//   the only product.
// Determinism: fixed tile shapes (from the sizes and the workspace limit only), one stream, no
// floating-point atomics, cuBLAS products accumulated in a fixed order.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <cinttypes>
#include <string>

#include "passes.h"
#include "provider_api.h"
#include "provider_support.h"
#include "tile_plan.h"

namespace circleloss {
namespace cuda {
namespace {

constexpr int kMinimumMajor = 8;  // sm_80: the oldest SASS in the library; PTX is compute_90

// ---- the provider table -----------------------------------------------------------------------------

circleloss_status probe(char* detail, size_t detail_size) {
    std::string text;
    const circleloss_status status = guarded(detail, detail_size, [&] {
        // The static runtime finds the driver by loading libcuda.so.1; say so plainly when it is missing.
        void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!driver) {
            const char* why = dlerror();
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 std::string("the NVIDIA driver is not installed: libcuda.so.1 could not be loaded (") +
                     (why ? why : "unknown error") + ")");
        }
        dlclose(driver);
        int driver_version = 0;
        (void)cudaDriverGetVersion(&driver_version);
        int count = 0;
        const cudaError_t e = cudaGetDeviceCount(&count);
        if (e == cudaErrorInsufficientDriver) {
            (void)cudaGetLastError();
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("the NVIDIA driver is too old: it supports CUDA %s, this provider needs CUDA %s or newer",
                        version_text(driver_version).c_str(), version_text(CUDART_VERSION).c_str()));
        }
        if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
            (void)cudaGetLastError();
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("no CUDA device found (driver for CUDA %s)", version_text(driver_version).c_str()));
        }
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("the CUDA driver could not be initialised: %s (%s)", cudaGetErrorName(e), cudaGetErrorString(e)));
        }
        text = format("CUDA runtime %s, driver %s; ", version_text(CUDART_VERSION).c_str(),
                                  version_text(driver_version).c_str());
        int usable = 0;
        for (int i = 0; i < count; ++i) {
            cudaDeviceProp prop;
            if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
            const bool ok = prop.major >= kMinimumMajor;
            usable += ok ? 1 : 0;
            text += format("%sdevice %d: %s (compute capability %d.%d, %s)%s", i ? "; " : "", i, prop.name, prop.major,
                           prop.minor, gib(prop.totalGlobalMem).c_str(), ok ? "" : " [unsupported: needs 8.0 or newer]");
        }
        if (usable == 0) {
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE, "no supported CUDA device (compute capability 8.0 or newer): " + text);
        }
    });
    if (status == CIRCLELOSS_STATUS_OK) write_message(detail, detail_size, text);  // the devices
    return status;
}

circleloss_status create(void** out_context, int32_t* out_num_threads, const circleloss_session_config* config,
                         char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        *out_context = nullptr;
        *out_num_threads = 1;
        int count = 0;
        check_cuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
        const int index = config ? config->device_index : 0;
        if (index < 0 || index >= count) {
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("config->device_index is %d but this machine has %d CUDA device(s)", index, count));
        }
        cudaDeviceProp prop;
        check_cuda(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
        if (prop.major < kMinimumMajor) {
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
                 format("CUDA device %d (%s) has compute capability %d.%d; the CUDA backend needs 8.0 or newer", index,
                        prop.name, prop.major, prop.minor));
        }
        Context* ctx = new Context();
        try {
            ctx->device = index;
            use_device(*ctx);
            if (config && config->cuda_stream) {
                ctx->stream = static_cast<cudaStream_t>(config->cuda_stream);
                ctx->owns_stream = false;
                // A handle that is not a stream fails here rather than in the first call.
                const cudaError_t state = cudaStreamQuery(ctx->stream);
                if (state != cudaSuccess && state != cudaErrorNotReady) {
                    fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "config->cuda_stream",
                                  format(" is not a usable CUDA stream of device %d: %s", index,
                                         cudaGetErrorString(state)));
                }
            } else {
                check_cuda(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking), "cudaStreamCreate");
            }
            check_cublas(cublasCreate(&ctx->blas), "cublasCreate");
            check_cublas(cublasSetStream(ctx->blas, ctx->stream), "cublasSetStream");
            check_cublas(cublasSetPointerMode(ctx->blas, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
            ctx->allow_tf32 = config && (config->flags & CIRCLELOSS_SESSION_FLAG_ALLOW_TF32) != 0;
            check_cublas(cublasSetMathMode(ctx->blas, ctx->allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                         "cublasSetMathMode");
            check_cuda(cudaMallocHost(reinterpret_cast<void**>(&ctx->host_flags), kFlagCount * sizeof(unsigned long long)),
                       "cudaMallocHost");
            size_t free_bytes = 0, total_bytes = 0;
            check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
            const bool defaulted = !config || config->workspace_limit_bytes == 0;
            ctx->workspace_limit =
                defaulted ? std::min<uint64_t>(kDefaultWorkspaceLimit, free_bytes / 2) : config->workspace_limit_bytes;
            int runtime = 0, driver = 0, blas_version = 0;
            (void)cudaRuntimeGetVersion(&runtime);
            (void)cudaDriverGetVersion(&driver);
            (void)cublasGetVersion(ctx->blas, &blas_version);
            ctx->description = format(
                "CUDA device %d: %s (compute capability %d.%d, %d SMs, %s), runtime %s, driver %s, cuBLAS %d.%d.%d, "
                "workspace limit %s%s, TF32 %s, %s stream",
                index, prop.name, prop.major, prop.minor, prop.multiProcessorCount, gib(prop.totalGlobalMem).c_str(),
                version_text(runtime).c_str(), version_text(driver).c_str(), blas_version / 10000,
                (blas_version / 100) % 100, blas_version % 100, gib(ctx->workspace_limit).c_str(),
                defaulted ? " (default)" : "", ctx->allow_tf32 ? "allowed" : "off",
                ctx->owns_stream ? "own" : "caller's");
        } catch (...) {
            delete ctx;
            throw;
        }
        *out_context = ctx;
    });
}

void destroy(void* context) {
    Context* ctx = static_cast<Context*>(context);
    if (!ctx) return;
    if (cudaSetDevice(ctx->device) == cudaSuccess) (void)cudaStreamSynchronize(ctx->stream);
    delete ctx;
}

const char* last_error_argument() { return g_last_argument; }

const char* describe(void* context) {
    const Context* ctx = static_cast<const Context*>(context);
    return ctx ? ctx->description.c_str() : "";
}

circleloss_status forward(void* context, const circleloss_forward_output* output,
                          const circleloss_resolved_options* options, const circleloss_resolved_problem* problem,
                          char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        dispatch(*static_cast<Context*>(context), CallKind::kForward, output, nullptr, options, problem, nullptr);
    });
}

circleloss_status backward(void* context, const circleloss_gradient_output* output,
                           const circleloss_resolved_options* options, const circleloss_resolved_problem* problem,
                           const void* saved_state, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        dispatch(*static_cast<Context*>(context), CallKind::kBackward, nullptr, output, options, problem, saved_state);
    });
}

circleloss_status forward_backward(void* context, const circleloss_forward_output* forward_output,
                                   const circleloss_gradient_output* gradient_output,
                                   const circleloss_resolved_options* options, const circleloss_resolved_problem* problem,
                                   char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        dispatch(*static_cast<Context*>(context), CallKind::kForwardBackward, forward_output, gradient_output, options,
                 problem, nullptr);
    });
}

// The yardstick of benchmarks is a CPU measurement; the GPU's products are timed by native/gpu/gemm_bench.cu.
circleloss_status measure_product_floor(void*, double*, const circleloss_resolved_problem*, char* error,
                                        size_t error_size) {
    return guarded(error, error_size, [] {
        fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,
             "the product floor is measured for CPU sessions only; for CUDA use native/gpu/check.sh");
    });
}

circleloss_status device_alloc(void* context, void** out_pointer, uint64_t bytes, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        Context& ctx = *static_cast<Context*>(context);
        use_device(ctx);
        *out_pointer = nullptr;
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, static_cast<size_t>(bytes == 0 ? 1 : bytes));
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY,
                 format("cudaMalloc of %" PRIu64 " bytes failed: %s", bytes, cudaGetErrorString(e)));
        }
        *out_pointer = p;
    });
}

circleloss_status device_free(void* context, void* pointer, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        if (!pointer) return;
        Context& ctx = *static_cast<Context*>(context);
        use_device(ctx);
        check_cuda(cudaFree(pointer), "cudaFree");
    });
}

circleloss_status device_copy(void* context, void* destination, const void* source, uint64_t bytes,
                              circleloss_copy_kind kind, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        Context& ctx = *static_cast<Context*>(context);
        use_device(ctx);
        if (bytes == 0) return;
        cudaMemcpyKind k = cudaMemcpyDeviceToDevice;
        if (kind == CIRCLELOSS_COPY_HOST_TO_DEVICE) k = cudaMemcpyHostToDevice;
        if (kind == CIRCLELOSS_COPY_DEVICE_TO_HOST) k = cudaMemcpyDeviceToHost;
        check_cuda(cudaMemcpyAsync(destination, source, static_cast<size_t>(bytes), k, ctx.stream), "cudaMemcpyAsync");
        check_cuda(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize (copy)");
    });
}

circleloss_status synchronize(void* context, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        Context& ctx = *static_cast<Context*>(context);
        use_device(ctx);
        check_cuda(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize");
    });
}

const circleloss_provider_api kApi = {
    CIRCLELOSS_PROVIDER_ABI_VERSION,
    probe,
    create,
    destroy,
    describe,
    1,  // device memory
    forward,
    backward,
    forward_backward,
    measure_product_floor,
    device_alloc,
    device_free,
    device_copy,
    synchronize,
    last_error_argument,
};

}  // namespace
}  // namespace cuda
}  // namespace circleloss

extern "C" __attribute__((visibility("default"))) const circleloss_provider_api* circleloss_cuda_provider_entry(void) {
    return &circleloss::cuda::kApi;
}
