// What differs between the targets the core is built for (linux-x64, linux-arm64, win-x64): loading a
// shared library, finding the core's own file, naming the platform and describing the CPU. The rest of
// the core is portable C++; platform_posix.cpp or platform_windows.cpp implements this for each target.
#pragma once

#include <memory>
#include <string>
#include <thread>

namespace circleloss {
namespace platform {

// The .NET runtime identifier of this build ("linux-x64", "linux-arm64", "win-x64").
const char* runtime_identifier();

// Loads a shared library privately (dlopen RTLD_NOW | RTLD_LOCAL, LoadLibraryExW). Returns NULL and
// says why in `error` when it cannot.
void* load_library(const std::string& path, std::string& error);

// The address of an exported symbol, or NULL.
void* find_symbol(void* library, const char* name);

// The full path (UTF-8) of the shared library or executable that holds `address`; empty if unknown.
std::string module_path_of(const void* address);

// The folder of a path with its trailing separator ("./" when the path has none).
std::string directory_of(const std::string& path);

// The instruction-set extensions the CPU and the operating system support, space-separated
// (x86-64: sse4.2 avx avx2 fma avx512f; arm64: asimd, sve, sve2...), or a description of the baseline.
std::string cpu_features();

// The processor the calling thread runs on now, or -1 where the platform does not say.
int current_cpu();

// The processors threads started now may run on (those of the thread that creates it), and placing
// threads within them. Windows builds leave placement to the scheduler: there, keep_off does nothing.
class ThreadPlacement {
public:
    ThreadPlacement();
    ~ThreadPlacement();
    ThreadPlacement(const ThreadPlacement&) = delete;
    ThreadPlacement& operator=(const ThreadPlacement&) = delete;

    // Lets `thread` run on any of these processors except `cpu` (on all of them when that leaves none).
    void keep_off(std::thread& thread, int cpu) const;

private:
    struct Set;
    std::unique_ptr<Set> allowed_;  // empty where unknown
};

}  // namespace platform
}  // namespace circleloss
