// The platform layer on Linux: dlopen / dlsym / dladdr, sched_getcpu / pthread_setaffinity_np.
#include "platform/platform.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>

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

int current_cpu() { return sched_getcpu(); }

struct ThreadPlacement::Set {
    cpu_set_t cpus;
};

ThreadPlacement::ThreadPlacement() : allowed_(new Set) {
    CPU_ZERO(&allowed_->cpus);
    if (pthread_getaffinity_np(pthread_self(), sizeof allowed_->cpus, &allowed_->cpus) != 0) allowed_.reset();
}

ThreadPlacement::~ThreadPlacement() = default;

void ThreadPlacement::keep_off(std::thread& thread, int cpu) const {
    if (!allowed_) return;
    cpu_set_t others = allowed_->cpus;
    if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_CLR(cpu, &others);
    const cpu_set_t& chosen = CPU_COUNT(&others) > 0 ? others : allowed_->cpus;
    pthread_setaffinity_np(thread.native_handle(), sizeof chosen, &chosen);  // best effort: placement only
}

}  // namespace platform
}  // namespace circleloss
