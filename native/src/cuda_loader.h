// Finds and loads the CUDA provider (libcircleloss_cuda.so) from the core library's own folder, once
// per process, and probes it. A machine without CUDA never loads it unless a CUDA session is asked for.
#pragma once

#include <string>

#include "provider_api.h"

namespace circleloss {

struct CudaProviderStatus {
    const circleloss_provider_api* api = nullptr;  // non-NULL when usable
    std::string detail;  // the devices when usable; otherwise why not (missing file, dlopen error, no driver...)
};

// Loads and probes on the first call; later calls return the same result.
// The environment variable CIRCLELOSS_CUDA_PROVIDER overrides the provider's path (used by tests).
const CudaProviderStatus& cuda_provider();

// The folder of the loaded core library (with a trailing '/'), and its full path.
const std::string& core_library_directory();
const std::string& core_library_path();

}  // namespace circleloss
