#include "session.h"

#include <mutex>
#include <unordered_set>

#include "cuda_loader.h"
#include "errors.h"

namespace circleloss {
namespace {

std::mutex g_registry_mutex;
std::unordered_set<const circleloss_session*>& registry() {
    static auto* live = new std::unordered_set<const circleloss_session*>();  // never destroyed: safe at exit
    return *live;
}

void attach_cuda(circleloss_session& s, const CudaProviderStatus& cuda, const circleloss_session_config& config) {
    char error[1024] = {0};
    void* context = nullptr;
    const circleloss_status status = cuda.api->create(&context, &config, error, sizeof error);
    error[sizeof error - 1] = '\0';
    if (status != CIRCLELOSS_STATUS_OK) {
        throw Error(status, std::string("CUDA session: ") + error, cuda.api->last_error_argument());
    }
    s.backend = CIRCLELOSS_BACKEND_CUDA;
    s.provider = cuda.api;
    s.provider_context = context;
    s.num_threads = 1;
    const char* device = cuda.api->describe(context);
    s.description = std::string("CUDA backend: ") + (device ? device : "unknown device");
}

}  // namespace

circleloss_session* create_session(const circleloss_session_config& config) {
    auto session = std::make_unique<circleloss_session>();
    const uint64_t workspace = config.workspace_limit_bytes ? config.workspace_limit_bytes : kDefaultWorkspaceLimitBytes;
    if (config.backend == CIRCLELOSS_BACKEND_CUDA || config.backend == CIRCLELOSS_BACKEND_AUTO) {
        const CudaProviderStatus& cuda = cuda_provider();
        if (cuda.api) {
            attach_cuda(*session, cuda, config);
        } else if (config.backend == CIRCLELOSS_BACKEND_CUDA) {
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE, "the CUDA backend is unavailable: " + cuda.detail);
        } else {
            session->fallback_reason = "CUDA unavailable, using the CPU: " + cuda.detail;
        }
    }
    if (session->backend == CIRCLELOSS_BACKEND_CPU) {
        session->cpu = std::make_unique<cpu::CpuBackend>(config.num_threads, workspace);
        session->num_threads = session->cpu->num_threads();
        session->description = session->cpu->describe();
    }
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    registry().insert(session.get());
    return session.release();
}

void destroy_session(circleloss_session* session) {
    {
        std::lock_guard<std::mutex> lock(g_registry_mutex);
        if (registry().erase(session) == 0) {
            fail_argument(CIRCLELOSS_STATUS_INVALID_SESSION, "session", " is not a live session (already destroyed?)");
        }
    }
    if (session->provider && session->provider_context) session->provider->destroy(session->provider_context);
    delete session;
}

circleloss_session* checked_session(const circleloss_session* session) {
    if (!session) fail_argument(CIRCLELOSS_STATUS_INVALID_SESSION, "session", " must not be NULL");
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    if (registry().count(session) == 0) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_SESSION, "session", " is not a live session (already destroyed?)");
    }
    return const_cast<circleloss_session*>(session);
}

}  // namespace circleloss
