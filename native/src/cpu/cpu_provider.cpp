// The CPU backend behind the backend table of provider_api.h, like the CUDA provider: the core calls
// every backend the same way, and this file only adapts CpuBackend's calls to the table's conventions
// (a status, a message in the caller's buffer, the argument at fault kept for last_error_argument).
#include "cpu/cpu_provider.h"

#include <cstdio>
#include <new>
#include <string>

#include "cpu/cpu_backend.h"
#include "errors.h"

namespace circleloss {
namespace cpu {
namespace {

// The default scratch limit per call when the caller gives 0.
constexpr uint64_t kDefaultWorkspaceLimitBytes = uint64_t(1) << 30;

thread_local char g_last_argument[128];

void write(char* out, size_t size, const char* text) {
    if (out && size > 0) std::snprintf(out, size, "%s", text);
}

// Runs `body`, turning what it throws into the table's status, message and argument.
template <class Body>
circleloss_status guarded(char* error, size_t error_size, Body&& body) noexcept {
    g_last_argument[0] = '\0';
    try {
        body();
        write(error, error_size, "");
        return CIRCLELOSS_STATUS_OK;
    } catch (const Error& e) {
        write(error, error_size, e.what());
        write(g_last_argument, sizeof g_last_argument, e.argument());
        return e.status();
    } catch (const std::bad_alloc&) {
        write(error, error_size, "out of host memory");
        return CIRCLELOSS_STATUS_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        write(error, error_size, (std::string("internal error in the CPU backend: ") + e.what()).c_str());
        return CIRCLELOSS_STATUS_INTERNAL_ERROR;
    } catch (...) {
        write(error, error_size, "internal error in the CPU backend (unknown exception)");
        return CIRCLELOSS_STATUS_INTERNAL_ERROR;
    }
}

struct Context {
    CpuBackend backend;
    std::string description;
    Context(int threads, uint64_t workspace) : backend(threads, workspace), description(backend.describe()) {}
};

CpuBackend& backend_of(void* context) { return static_cast<Context*>(context)->backend; }

circleloss_status probe(char* detail, size_t detail_size) {
    std::string text;
    const circleloss_status status = guarded(detail, detail_size, [&] {
        text = "CPU: " + std::to_string(CpuBackend::default_num_threads()) + " hardware thread(s); " +
               CpuBackend::gemm_and_cpu_description();
    });
    if (status == CIRCLELOSS_STATUS_OK) write(detail, detail_size, text.c_str());
    return status;
}

circleloss_status create(void** out_context, int32_t* out_num_threads, const circleloss_session_config* config,
                         char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        const uint64_t workspace = config->workspace_limit_bytes ? config->workspace_limit_bytes : kDefaultWorkspaceLimitBytes;
        auto* context = new Context(config->num_threads, workspace);
        *out_num_threads = context->backend.num_threads();
        *out_context = context;
    });
}

void destroy(void* context) { delete static_cast<Context*>(context); }

const char* describe(void* context) { return static_cast<Context*>(context)->description.c_str(); }

circleloss_status forward(void* context, const circleloss_forward_output* output, const circleloss_resolved_options* options,
                          const circleloss_resolved_problem* problem, char* error, size_t error_size) {
    return guarded(error, error_size, [&] { backend_of(context).forward(*output, *options, *problem); });
}

circleloss_status backward(void* context, const circleloss_gradient_output* output,
                           const circleloss_resolved_options* options, const circleloss_resolved_problem* problem,
                           const void* saved_state, char* error, size_t error_size) {
    return guarded(error, error_size, [&] { backend_of(context).backward(*output, *options, *problem, saved_state); });
}

circleloss_status forward_backward(void* context, const circleloss_forward_output* forward_output,
                                   const circleloss_gradient_output* gradient_output,
                                   const circleloss_resolved_options* options, const circleloss_resolved_problem* problem,
                                   char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        backend_of(context).forward_backward(*forward_output, *gradient_output, *options, *problem);
    });
}

circleloss_status measure_product_floor(void* context, double* out_seconds, const circleloss_resolved_problem* problem,
                                        char* error, size_t error_size) {
    return guarded(error, error_size, [&] { *out_seconds = backend_of(context).measure_product_floor(*problem); });
}

// Every call of a CPU session has finished when it returns.
circleloss_status synchronize(void*, char* error, size_t error_size) {
    write(error, error_size, "");
    return CIRCLELOSS_STATUS_OK;
}

const char* last_error_argument() { return g_last_argument; }

const circleloss_provider_api kTable = {
    CIRCLELOSS_PROVIDER_ABI_VERSION,
    probe,
    create,
    destroy,
    describe,
    0,  // no device memory
    forward,
    backward,
    forward_backward,
    measure_product_floor,
    nullptr,  // device_alloc: no device memory (the core refuses device calls first)
    nullptr,  // device_free
    nullptr,  // device_copy
    synchronize,
    last_error_argument,
};

}  // namespace

const circleloss_provider_api& provider_table() { return kTable; }

}  // namespace cpu
}  // namespace circleloss
