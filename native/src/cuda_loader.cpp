#include "cuda_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace circleloss {
namespace {

struct LibraryLocation {
    std::string path;
    std::string directory;
};

const LibraryLocation& location() {
    static const LibraryLocation loc = [] {
        LibraryLocation l;
        Dl_info info{};
        if (dladdr(reinterpret_cast<void*>(&core_library_path), &info) != 0 && info.dli_fname) {
            l.path = info.dli_fname;
            const size_t slash = l.path.rfind('/');
            l.directory = slash == std::string::npos ? std::string("./") : l.path.substr(0, slash + 1);
        }
        return l;
    }();
    return loc;
}

CudaProviderStatus load_and_probe() {
    CudaProviderStatus status;
    const char* override_path = std::getenv("CIRCLELOSS_CUDA_PROVIDER");
    const std::string path = (override_path && *override_path) ? std::string(override_path)
                                                               : core_library_directory() + "libcircleloss_cuda.so";
    // RTLD_LOCAL: the provider's CUDA runtime stays private to it.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = dlerror();
        status.detail = "the CUDA provider could not be loaded from " + path + ": " +
                        (why ? why : "unknown dlopen error") +
                        " (the CUDA provider ships in the CircleLoss.Interop.Cuda.linux-x64 package and must sit"
                        " beside libcircleloss.so)";
        return status;
    }
    // The provider stays loaded for the life of the process (the CUDA runtime does not like unloading).
    auto entry = reinterpret_cast<circleloss_provider_entry_fn>(dlsym(handle, CIRCLELOSS_PROVIDER_ENTRY_SYMBOL));
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
