// What the tests need to know about the target they run on (linux-x64, linux-arm64, win-x64), and the
// few POSIX calls the tests use, provided on Windows.
#pragma once

#include <cstdlib>

namespace testing_support {

#if defined(_WIN32)
constexpr const char* kLibraryFileName = "circleloss.dll";
constexpr const char* kGemmName = "Eigen";
#else
constexpr const char* kLibraryFileName = "libcircleloss.so";
constexpr const char* kGemmName = "OpenBLAS";
#endif

// The CUDA provider is built for linux-x64 only; elsewhere the core reports why CUDA is unavailable.
#if defined(__linux__) && defined(__x86_64__)
constexpr bool kCudaProviderPlatform = true;
#else
constexpr bool kCudaProviderPlatform = false;
#endif
constexpr const char* kNoCudaProviderHere = "the CUDA provider is built for linux-x64 only (see Platform.CudaIsUnavailableWithTheReason)";

// Resident memory of this process in bytes (Linux: /proc/self/statm; Windows: the working set), or -1.
long resident_set_bytes();

}  // namespace testing_support

#if defined(_WIN32)
inline int setenv(const char* name, const char* value, int /*overwrite*/) { return _putenv_s(name, value); }
inline int unsetenv(const char* name) { return _putenv_s(name, ""); }
#endif
