#include "cuda_loader.h"

#include <cstdlib>
#include <mutex>

#include "platform/platform.h"

namespace circleloss {
namespace {

struct LibraryLocation {
    std::string path;
    std::string directory;
};

const LibraryLocation& location() {
    static const LibraryLocation loc = [] {
        LibraryLocation l;
        l.path = platform::module_path_of(reinterpret_cast<const void*>(&core_library_path));
        if (!l.path.empty()) l.directory = platform::directory_of(l.path);
        return l;
    }();
    return loc;
}

// The CUDA provider is built for linux-x64 only (Debian's CUDA toolkit and the provider package target it).
#if defined(__linux__) && defined(__x86_64__)
constexpr bool kCudaProviderBuiltForThisPlatform = true;
#else
constexpr bool kCudaProviderBuiltForThisPlatform = false;
#endif

CudaProviderStatus load_and_probe() {
    CudaProviderStatus status;
    if (!kCudaProviderBuiltForThisPlatform) {
        status.detail = std::string("CUDA is unavailable on ") + platform::runtime_identifier() +
                        ": the CUDA provider is built for linux-x64 only (CircleLoss.Interop.Cuda.linux-x64); "
                        "this library computes on the CPU";
        return status;
    }
    const char* override_path = std::getenv("CIRCLELOSS_CUDA_PROVIDER");
    const std::string path = (override_path && *override_path) ? std::string(override_path)
                                                               : core_library_directory() + "libcircleloss_cuda.so";
    std::string why;
    void* handle = platform::load_library(path, why);  // privately: the provider's CUDA runtime stays its own
    if (!handle) {
        status.detail = "the CUDA provider could not be loaded from " + path + ": " + why +
                        " (the CUDA provider ships in the CircleLoss.Interop.Cuda.linux-x64 package and must sit"
                        " beside libcircleloss.so)";
        return status;
    }
    // The provider stays loaded for the life of the process (the CUDA runtime does not like unloading).
    auto entry = reinterpret_cast<circleloss_provider_entry_fn>(
        platform::find_symbol(handle, CIRCLELOSS_PROVIDER_ENTRY_SYMBOL));
    if (!entry) {
        status.detail = path + " does not export " CIRCLELOSS_PROVIDER_ENTRY_SYMBOL ": not a CircleLoss CUDA provider";
        return status;
    }
    const circleloss_provider_api* api = entry();
    if (!api || api->abi_version != CIRCLELOSS_PROVIDER_ABI_VERSION) {
        status.detail = path + " implements provider ABI " + std::to_string(api ? api->abi_version : 0) +
                        ", this core needs " + std::to_string(CIRCLELOSS_PROVIDER_ABI_VERSION) +
                        ": install matching versions of CircleLoss.Interop and its CUDA package";
        return status;
    }
    char detail[1024] = {0};
    const circleloss_status probe = api->probe(detail, sizeof detail);
    detail[sizeof detail - 1] = '\0';
    status.detail = detail;
    if (probe == CIRCLELOSS_STATUS_OK) status.api = api;
    return status;
}

}  // namespace

const std::string& core_library_directory() { return location().directory; }
const std::string& core_library_path() { return location().path; }

const CudaProviderStatus& cuda_provider() {
    static const CudaProviderStatus status = load_and_probe();
    return status;
}

}  // namespace circleloss
