#include "session.h"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "cpu/cpu_provider.h"
#include "cuda_loader.h"
#include "errors.h"

namespace circleloss {
namespace {

std::mutex g_registry_mutex;
std::unordered_set<const circleloss_session*>& registry() {
    static auto* live = new std::unordered_set<const circleloss_session*>();  // never destroyed: safe at exit
    return *live;
}

// Creates the backend's context for the session; fails with the backend's status, message and argument.
void attach(circleloss_session& s, circleloss_backend backend, const circleloss_provider_api& api,
            const circleloss_session_config& config, const char* what, const std::string& description_prefix) {
    char error[1024] = {0};
    void* context = nullptr;
    int32_t threads = 1;
    const circleloss_status status = api.create(&context, &threads, &config, error, sizeof error);
    error[sizeof error - 1] = '\0';
    if (status != CIRCLELOSS_STATUS_OK) throw Error(status, what + std::string(error), api.last_error_argument());
    s.backend = backend;
    s.api = &api;
    s.context = context;
    s.num_threads = threads;
    const char* description = api.describe(context);
    s.description = description_prefix + (description ? description : "unknown");
}

}  // namespace

circleloss_session* create_session(const circleloss_session_config& config) {
    auto session = std::make_unique<circleloss_session>();
    if (config.backend == CIRCLELOSS_BACKEND_CUDA || config.backend == CIRCLELOSS_BACKEND_AUTO) {
        const CudaProviderStatus& cuda = cuda_provider();
        if (cuda.api) {
            attach(*session, CIRCLELOSS_BACKEND_CUDA, *cuda.api, config, "CUDA session: ", "CUDA backend: ");
        } else if (config.backend == CIRCLELOSS_BACKEND_CUDA) {
            fail(CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE, "the CUDA backend is unavailable: " + cuda.detail);
        } else {
            session->fallback_reason = "CUDA unavailable, using the CPU: " + cuda.detail;
        }
    }
    if (!session->api) attach(*session, CIRCLELOSS_BACKEND_CPU, cpu::provider_table(), config, "", "");
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
    delete session;  // destroys the backend's context
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
