// The session behind the opaque circleloss_session handle, and the registry of live sessions that
// lets every call reject a null or destroyed handle instead of touching freed memory.
#pragma once

#include <memory>
#include <string>

#include "circleloss/circleloss.h"
#include "cpu/cpu_backend.h"
#include "provider_api.h"

struct circleloss_session {
    circleloss_backend backend = CIRCLELOSS_BACKEND_CPU;  // what it runs on: CPU or CUDA
    std::string fallback_reason;                          // why AUTO chose the CPU ("" otherwise)
    std::string description;
    int num_threads = 1;
    std::unique_ptr<circleloss::cpu::CpuBackend> cpu;  // CPU sessions
    const circleloss_provider_api* provider = nullptr;  // CUDA sessions
    void* provider_context = nullptr;
};

namespace circleloss {

// Default scratch limit per call when the caller gives 0.
constexpr uint64_t kDefaultWorkspaceLimitBytes = uint64_t(1) << 30;

circleloss_session* create_session(const circleloss_session_config& config);
void destroy_session(circleloss_session* session);

// The session if it is live; otherwise fails with INVALID_SESSION.
circleloss_session* checked_session(const circleloss_session* session);

}  // namespace circleloss
