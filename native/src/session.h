// The session behind the opaque circleloss_session handle, and the registry of live sessions that
// lets every call reject a null or destroyed handle instead of touching freed memory.
#pragma once

#include <memory>
#include <string>

#include "circleloss/circleloss.h"
#include "provider_api.h"

// Every session runs on a backend through the same table (provider_api.h): the CPU backend's, compiled
// into the core, or the CUDA provider's.
struct circleloss_session {
    circleloss_backend backend = CIRCLELOSS_BACKEND_CPU;  // what it runs on: CPU or CUDA
    std::string fallback_reason;                          // why AUTO chose the CPU ("" otherwise)
    std::string description;
    int num_threads = 1;
    const circleloss_provider_api* api = nullptr;  // the backend's table
    void* context = nullptr;                       // its context for this session

    circleloss_session() = default;
    circleloss_session(const circleloss_session&) = delete;
    circleloss_session& operator=(const circleloss_session&) = delete;
    ~circleloss_session() {
        if (api && context) api->destroy(context);
    }
};

namespace circleloss {

circleloss_session* create_session(const circleloss_session_config& config);
void destroy_session(circleloss_session* session);

// The session if it is live; otherwise fails with INVALID_SESSION.
circleloss_session* checked_session(const circleloss_session* session);

}  // namespace circleloss
