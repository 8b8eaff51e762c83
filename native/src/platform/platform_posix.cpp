// The platform layer on Linux: dlopen / dlsym / dladdr.
#include "platform/platform.h"

#include <dlfcn.h>

namespace circleloss {
namespace platform {

void* load_library(const std::string& path, std::string& error) {
    // RTLD_LOCAL: what the library links (the CUDA runtime) stays private to it.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = dlerror();
        error = why ? why : "unknown dlopen error";
    }
    return handle;
}

void* find_symbol(void* library, const char* name) { return dlsym(library, name); }

std::string module_path_of(const void* address) {
    Dl_info info{};
    if (dladdr(address, &info) != 0 && info.dli_fname) return info.dli_fname;
    return std::string();
}

}  // namespace platform
}  // namespace circleloss
