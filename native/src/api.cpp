// The C ABI: every exported function checks its arguments, runs inside guard() so that no exception
// crosses the boundary, and dispatches to the session's backend.
#include <cstdio>
#include <string>

#include "circleloss/circleloss.h"
#include "cpu/cpu_provider.h"
#include "cuda_loader.h"
#include "errors.h"
#include "session.h"
#include "struct_layouts.h"
#include "validation.h"

using namespace circleloss;

namespace {

constexpr int32_t kMaxThreads = 4096;

template <class T>
void require_out(T* pointer, const char* name) {
    if (!pointer) fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, name, " must not be NULL");
}

circleloss_session_config validate_session_config(const circleloss_session_config* given) {
    if (!given) return CIRCLELOSS_SESSION_CONFIG_INIT;
    const circleloss_session_config current = in_current_layout(given, "config");
    const circleloss_session_config* config = &current;
    const int backend =
        require_enum(config->backend, CIRCLELOSS_BACKEND_AUTO, CIRCLELOSS_BACKEND_CUDA, "config->backend", "circleloss_backend");
    if (config->device_index < 0) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT,
             "config->device_index", " must be >= 0 (got " + std::to_string(config->device_index) + ")");
    }
    if (config->num_threads < 0 || config->num_threads > kMaxThreads) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "config->num_threads", " must be in [0, " + std::to_string(kMaxThreads) +
                                                     "] (got " + std::to_string(config->num_threads) + ")");
    }
    if ((config->flags & ~static_cast<uint32_t>(CIRCLELOSS_SESSION_FLAG_ALLOW_TF32)) != 0) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "config->flags", " has unknown bits (" + std::to_string(config->flags) + ")");
    }
    if (config->reserved0 != 0) fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "config->reserved0", " must be 0");
    if (config->cuda_stream != nullptr && backend != CIRCLELOSS_BACKEND_CUDA) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT,
             "config->cuda_stream", " must be NULL unless config->backend is CUDA (a caller's stream cannot be "
             "used by a CPU session, and AUTO may fall back to the CPU)");
    }
    return current;
}

// A backend writes its message into a buffer; turn a failure into an Error with its argument.
template <class Call>
void call_backend(const circleloss_session& session, Call&& call) {
    char error[1024] = {0};
    const circleloss_status status = call(session.api, session.context, error, sizeof error);
    error[sizeof error - 1] = '\0';
    if (status != CIRCLELOSS_STATUS_OK) {
        throw Error(status, error[0] ? error : circleloss_status_name(status), session.api->last_error_argument());
    }
}

// The session if its backend has device memory (CUDA); otherwise fails with BACKEND_UNAVAILABLE.
const circleloss_session& device_memory_session(const circleloss_session* handle) {
    const circleloss_session* s = checked_session(handle);
    if (!s->api->device_memory) {
        fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE, "device memory needs a CUDA session; this session runs on the CPU");
    }
    return *s;
}

void require_memory_supported(const circleloss_session& session, const ResolvedProblem& problem) {
    if (problem.memory == CIRCLELOSS_MEMORY_DEVICE && !session.api->device_memory) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "problem->memory", " is DEVICE but the session runs on the CPU");
    }
}

}  // namespace

extern "C" {

CIRCLELOSS_API const char* circleloss_status_name(circleloss_status status) {
    switch (raw_enum(status)) {
        case CIRCLELOSS_STATUS_OK: return "OK";
        case CIRCLELOSS_STATUS_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
        case CIRCLELOSS_STATUS_NON_FINITE_INPUT: return "NON_FINITE_INPUT";
        case CIRCLELOSS_STATUS_SIZE_OVERFLOW: return "SIZE_OVERFLOW";
        case CIRCLELOSS_STATUS_UNSUPPORTED_VERSION: return "UNSUPPORTED_VERSION";
        case CIRCLELOSS_STATUS_INVALID_SESSION: return "INVALID_SESSION";
        case CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE: return "BACKEND_UNAVAILABLE";
        case CIRCLELOSS_STATUS_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
        case CIRCLELOSS_STATUS_DEVICE_ERROR: return "DEVICE_ERROR";
        case CIRCLELOSS_STATUS_INTERNAL_ERROR: return "INTERNAL_ERROR";
    }
    return "UNKNOWN";
}

CIRCLELOSS_API const char* circleloss_last_error(void) { return last_error_message(); }

CIRCLELOSS_API const char* circleloss_last_error_argument(void) { return last_error_argument(); }

CIRCLELOSS_API int32_t circleloss_version(void) { return CIRCLELOSS_VERSION_NUMBER; }

CIRCLELOSS_API const char* circleloss_version_string(void) { return CIRCLELOSS_VERSION_STRING; }

CIRCLELOSS_API circleloss_status circleloss_session_config_init(circleloss_session_config* config) {
    return guard(__func__, [&] {
        require_out(config, "config");
        *config = circleloss_session_config CIRCLELOSS_SESSION_CONFIG_INIT;
    });
}

CIRCLELOSS_API circleloss_status circleloss_options_init(circleloss_options* options) {
    return guard(__func__, [&] {
        require_out(options, "options");
        *options = circleloss_options CIRCLELOSS_OPTIONS_INIT;
    });
}

CIRCLELOSS_API circleloss_status circleloss_options_check(const circleloss_options* options) {
    return guard(__func__, [&] { (void)validate_options(options); });
}

CIRCLELOSS_API circleloss_status circleloss_problem_init(circleloss_problem* problem) {
    return guard(__func__, [&] {
        require_out(problem, "problem");
        *problem = circleloss_problem CIRCLELOSS_PROBLEM_INIT;
    });
}

CIRCLELOSS_API circleloss_status circleloss_forward_output_init(circleloss_forward_output* output) {
    return guard(__func__, [&] {
        require_out(output, "output");
        *output = circleloss_forward_output CIRCLELOSS_FORWARD_OUTPUT_INIT;
    });
}

CIRCLELOSS_API circleloss_status circleloss_gradient_output_init(circleloss_gradient_output* output) {
    return guard(__func__, [&] {
        require_out(output, "output");
        *output = circleloss_gradient_output CIRCLELOSS_GRADIENT_OUTPUT_INIT;
    });
}

CIRCLELOSS_API circleloss_status circleloss_session_create(circleloss_session** out_session,
                                                          const circleloss_session_config* config) {
    return guard(__func__, [&] {
        require_out(out_session, "out_session");
        const circleloss_session_config c = validate_session_config(config);
        *out_session = create_session(c);
    });
}

CIRCLELOSS_API circleloss_status circleloss_session_destroy(circleloss_session* session) {
    return guard(__func__, [&] {
        if (session) destroy_session(session);
    });
}

CIRCLELOSS_API circleloss_status circleloss_session_backend(circleloss_backend* out_backend,
                                                           const circleloss_session* session) {
    return guard(__func__, [&] {
        require_out(out_backend, "out_backend");
        *out_backend = checked_session(session)->backend;
    });
}

CIRCLELOSS_API circleloss_status circleloss_session_fallback_reason(const char** out_reason,
                                                                   const circleloss_session* session) {
    return guard(__func__, [&] {
        require_out(out_reason, "out_reason");
        *out_reason = checked_session(session)->fallback_reason.c_str();
    });
}

CIRCLELOSS_API circleloss_status circleloss_session_describe(const char** out_description,
                                                            const circleloss_session* session) {
    return guard(__func__, [&] {
        require_out(out_description, "out_description");
        *out_description = checked_session(session)->description.c_str();
    });
}

CIRCLELOSS_API circleloss_status circleloss_session_num_threads(int32_t* out_num_threads,
                                                               const circleloss_session* session) {
    return guard(__func__, [&] {
        require_out(out_num_threads, "out_num_threads");
        *out_num_threads = checked_session(session)->num_threads;
    });
}

CIRCLELOSS_API circleloss_status circleloss_query_backend(int32_t* out_available, const char** out_detail,
                                                         circleloss_backend backend) {
    // No destructor (see errors.cpp): valid even when called from a static destructor.
    static thread_local char detail[1024];
    return guard(__func__, [&] {
        require_out(out_available, "out_available");
        require_out(out_detail, "out_detail");
        int32_t available = 0;
        std::string text;
        switch (raw_enum(backend)) {
            case CIRCLELOSS_BACKEND_CPU: {
                char cpu_detail[1024] = {0};
                available = cpu::provider_table().probe(cpu_detail, sizeof cpu_detail) == CIRCLELOSS_STATUS_OK ? 1 : 0;
                text = cpu_detail;
                break;
            }
            case CIRCLELOSS_BACKEND_CUDA: {
                const CudaProviderStatus& cuda = cuda_provider();
                available = cuda.api ? 1 : 0;
                text = cuda.detail;
                break;
            }
            case CIRCLELOSS_BACKEND_AUTO: {
                const CudaProviderStatus& cuda = cuda_provider();
                available = 1;
                text = cuda.api ? "AUTO selects CUDA: " + cuda.detail : "AUTO selects the CPU: " + cuda.detail;
                break;
            }
            default:
                fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT,
                     "backend", " is not a circleloss_backend value (got " + std::to_string(raw_enum(backend)) + ")");
        }
        std::snprintf(detail, sizeof detail, "%s", text.c_str());
        *out_available = available;
        *out_detail = detail;
    });
}

CIRCLELOSS_API circleloss_status circleloss_library_path(const char** out_path) {
    return guard(__func__, [&] {
        require_out(out_path, "out_path");
        *out_path = core_library_path().c_str();
    });
}

CIRCLELOSS_API circleloss_status circleloss_forward(const circleloss_forward_output* output,
                                                   circleloss_session* session, const circleloss_options* options,
                                                   const circleloss_problem* problem) {
    return guard(__func__, [&] {
        circleloss_session* s = checked_session(session);
        const ResolvedOptions o = validate_options(options);
        const ResolvedProblem p = validate_problem(problem, o);
        const circleloss_forward_output out = validate_forward_output(output, p);
        require_memory_supported(*s, p);
        validate_problem_values(p, o, false);
        call_backend(*s, [&](const circleloss_provider_api* api, void* context, char* e, size_t n) {
            return api->forward(context, &out, &o, &p, e, n);
        });
    });
}

CIRCLELOSS_API circleloss_status circleloss_backward(const circleloss_gradient_output* output,
                                                    circleloss_session* session, const circleloss_options* options,
                                                    const circleloss_problem* problem, const void* saved_state) {
    return guard(__func__, [&] {
        circleloss_session* s = checked_session(session);
        const ResolvedOptions o = validate_options(options);
        const ResolvedProblem p = validate_problem(problem, o);
        const circleloss_gradient_output out = validate_gradient_output(output, p);
        validate_saved_state(saved_state, p);
        require_memory_supported(*s, p);
        validate_problem_values(p, o, true);
        call_backend(*s, [&](const circleloss_provider_api* api, void* context, char* e, size_t n) {
            return api->backward(context, &out, &o, &p, saved_state, e, n);
        });
    });
}

CIRCLELOSS_API circleloss_status circleloss_forward_backward(const circleloss_forward_output* forward_output,
                                                            const circleloss_gradient_output* gradient_output,
                                                            circleloss_session* session,
                                                            const circleloss_options* options,
                                                            const circleloss_problem* problem) {
    return guard(__func__, [&] {
        circleloss_session* s = checked_session(session);
        const ResolvedOptions o = validate_options(options);
        const ResolvedProblem p = validate_problem(problem, o);
        const circleloss_forward_output fwd = validate_forward_output(forward_output, p);
        const circleloss_gradient_output grad = validate_gradient_output(gradient_output, p);
        require_memory_supported(*s, p);
        validate_problem_values(p, o, true);
        call_backend(*s, [&](const circleloss_provider_api* api, void* context, char* e, size_t n) {
            return api->forward_backward(context, &fwd, &grad, &o, &p, e, n);
        });
    });
}

CIRCLELOSS_API circleloss_status circleloss_measure_product_floor(double* out_seconds, circleloss_session* session,
                                                                 const circleloss_problem* problem) {
    return guard(__func__, [&] {
        require_out(out_seconds, "out_seconds");
        circleloss_session* s = checked_session(session);
        circleloss_options defaults = CIRCLELOSS_OPTIONS_INIT;
        const ResolvedOptions o = validate_options(&defaults);
        const ResolvedProblem p = validate_problem(problem, o);
        require_memory_supported(*s, p);
        validate_problem_values(p, o, false);
        call_backend(*s, [&](const circleloss_provider_api* api, void* context, char* e, size_t n) {
            return api->measure_product_floor(context, out_seconds, &p, e, n);
        });
    });
}

CIRCLELOSS_API circleloss_status circleloss_device_alloc(void** out_pointer, circleloss_session* session,
                                                        uint64_t bytes) {
    return guard(__func__, [&] {
        require_out(out_pointer, "out_pointer");
        const circleloss_session& s = device_memory_session(session);
        call_backend(s, [&](const circleloss_provider_api* api, void* context, char* e, size_t n) {
            return api->device_alloc(context, out_pointer, bytes, e, n);
        });
    });
}

CIRCLELOSS_API circleloss_status circleloss_device_free(circleloss_session* session, void* pointer) {
    return guard(__func__, [&] {
        const circleloss_session& s = device_memory_session(session);
        if (!pointer) return;
        call_backend(s, [&](const circleloss_provider_api* api, void* context, char* e, size_t n) {
            return api->device_free(context, pointer, e, n);
        });
    });
}

CIRCLELOSS_API circleloss_status circleloss_device_copy(circleloss_session* session, void* destination,
                                                       const void* source, uint64_t bytes,
                                                       circleloss_copy_kind kind) {
    return guard(__func__, [&] {
        const circleloss_session& s = device_memory_session(session);
        require_enum(kind, CIRCLELOSS_COPY_HOST_TO_DEVICE, CIRCLELOSS_COPY_DEVICE_TO_DEVICE, "kind", "circleloss_copy_kind");
        if (bytes == 0) return;
        if (!destination) fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "destination", " must not be NULL");
        if (!source) fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, "source", " must not be NULL");
        call_backend(s, [&](const circleloss_provider_api* api, void* context, char* e, size_t n) {
            return api->device_copy(context, destination, source, bytes, kind, e, n);
        });
    });
}

CIRCLELOSS_API circleloss_status circleloss_session_synchronize(circleloss_session* session) {
    return guard(__func__, [&] {
        const circleloss_session* s = checked_session(session);
        call_backend(*s, [&](const circleloss_provider_api* api, void* context, char* e, size_t n) {
            return api->synchronize(context, e, n);
        });
    });
}

}  // extern "C"
