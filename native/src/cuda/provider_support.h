// What every part of the CUDA provider shares: failures turned into a status and a message (nothing is
// thrown across the provider table), device buffers and their layout, and the session context.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <string>

#include "provider_api.h"

namespace circleloss {
namespace cuda {

// ---- errors -----------------------------------------------------------------------------------------

struct Failure {
    circleloss_status status;
    std::string message;
    std::string argument;  // the C name of the argument at fault, or ""
};

// The argument of this thread's last failed provider call (read by the core right after the failure).
inline thread_local char g_last_argument[128];

inline std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string format(const char* fmt, ...) {
    char buffer[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buffer, sizeof buffer, fmt, args);
    va_end(args);
    return buffer;
}

[[noreturn]] inline void fail(circleloss_status status, std::string message) { throw Failure{status, std::move(message), {}}; }

// A failure about one argument: the message is its C name followed by `rest`.
[[noreturn]] inline void fail_argument(circleloss_status status, const char* argument, const std::string& rest) {
    throw Failure{status, argument + rest, argument};
}

inline void check_cuda(cudaError_t error, const char* what) {
    if (error == cudaSuccess) return;
    const circleloss_status status =
        error == cudaErrorMemoryAllocation ? CIRCLELOSS_STATUS_OUT_OF_MEMORY : CIRCLELOSS_STATUS_DEVICE_ERROR;
    fail(status, format("%s failed: %s (%s)", what, cudaGetErrorName(error), cudaGetErrorString(error)));
}

inline const char* cublas_status_name(cublasStatus_t s) {
    switch (s) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
        default: return "unknown cuBLAS status";
    }
}

inline void check_cublas(cublasStatus_t s, const char* what) {
    if (s == CUBLAS_STATUS_SUCCESS) return;
    fail(s == CUBLAS_STATUS_ALLOC_FAILED ? CIRCLELOSS_STATUS_OUT_OF_MEMORY : CIRCLELOSS_STATUS_DEVICE_ERROR,
         format("%s failed: %s (%d)", what, cublas_status_name(s), static_cast<int>(s)));
}

inline void write_message(char* out, size_t size, const std::string& message) {
    if (!out || size == 0) return;
    const size_t n = std::min(size - 1, message.size());
    std::memcpy(out, message.data(), n);
    out[n] = '\0';
}

// Runs `body`, turning every failure into a status and a message: nothing is thrown across the ABI.
template <class Body>
circleloss_status guarded(char* error, size_t error_size, Body&& body) {
    g_last_argument[0] = '\0';
    try {
        body();
        write_message(error, error_size, "");
        return CIRCLELOSS_STATUS_OK;
    } catch (const Failure& f) {
        write_message(error, error_size, f.message);
        write_message(g_last_argument, sizeof g_last_argument, f.argument);
        return f.status;
    } catch (const std::bad_alloc&) {
        write_message(error, error_size, "the CUDA provider ran out of host memory");
        return CIRCLELOSS_STATUS_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        write_message(error, error_size, std::string("internal error in the CUDA provider: ") + e.what());
        return CIRCLELOSS_STATUS_INTERNAL_ERROR;
    } catch (...) {
        write_message(error, error_size, "internal error in the CUDA provider: unknown exception");
        return CIRCLELOSS_STATUS_INTERNAL_ERROR;
    }
}

inline std::string version_text(int v) { return format("%d.%d", v / 1000, (v % 1000) / 10); }

inline std::string gib(uint64_t bytes) { return format("%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024)); }


// ---- device buffers ---------------------------------------------------------------------------------

// A grow-only device allocation, reused across calls of one session.
class DeviceBuffer {
  public:
    DeviceBuffer() = default;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { release(); }

    void* ensure(uint64_t bytes, const char* what) {
        if (bytes <= capacity_) return data_;
        release();
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, static_cast<size_t>(bytes));
        if (e != cudaSuccess) {
            (void)cudaGetLastError();  // clear the (non-sticky) allocation error
            fail(CIRCLELOSS_STATUS_OUT_OF_MEMORY,
                 format("cudaMalloc of %" PRIu64 " bytes for the %s failed: %s", bytes, what, cudaGetErrorString(e)));
        }
        data_ = p;
        capacity_ = bytes;
        return data_;
    }
    void release() {
        if (data_) cudaFree(data_);
        data_ = nullptr;
        capacity_ = 0;
    }
    uint64_t capacity() const { return capacity_; }

  private:
    void* data_ = nullptr;
    uint64_t capacity_ = 0;
};

// Carves aligned pieces out of one allocation: first a pass that counts, then one that hands out.
class Layout {
  public:
    template <class T>
    T* take(uint64_t count) {
        const uint64_t offset = size_;
        size_ = align(size_ + count * sizeof(T));
        return base_ ? reinterpret_cast<T*>(static_cast<char*>(base_) + offset) : nullptr;
    }
    uint64_t size() const { return size_; }
    void start(void* base) {
        base_ = base;
        size_ = 0;
    }
    static uint64_t align(uint64_t bytes) { return (bytes + 255) & ~uint64_t(255); }

  private:
    void* base_ = nullptr;
    uint64_t size_ = 0;
};

// ---- the session context ----------------------------------------------------------------------------

struct Context {
    int device = 0;
    cudaStream_t stream = nullptr;
    bool owns_stream = true;  // false when the caller's stream (config->cuda_stream) is used
    cublasHandle_t blas = nullptr;
    bool allow_tf32 = false;
    uint64_t workspace_limit = 0;
    std::string description;
    std::mutex mutex;        // one computation at a time per session (they share stream and buffers)
    DeviceBuffer scratch;    // tiles and per-row state: counted against workspace_limit
    DeviceBuffer staging;    // device copies of host inputs and outputs (HOST memory problems)
    unsigned long long* host_flags = nullptr;  // pinned: results of the value checks

    ~Context() {
        if (host_flags) cudaFreeHost(host_flags);
        if (blas) cublasDestroy(blas);
        if (stream && owns_stream) cudaStreamDestroy(stream);
    }
};

inline void use_device(const Context& ctx) { check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice"); }

}  // namespace cuda
}  // namespace circleloss
