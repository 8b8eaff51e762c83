#include "errors.h"

#include <cstdio>
#include <string>

namespace circleloss {
namespace {
// One message per thread, so concurrent calls never see each other's errors. A plain array, not a
// std::string: it has no destructor, so calls made after this thread's thread_local objects are
// destroyed (from static destructors or atexit handlers) still find valid storage. Longer messages
// are truncated.
constexpr size_t kMaxMessage = 2048;
thread_local char g_last_error[kMaxMessage];
}  // namespace

void fail(circleloss_status status, const std::string& message) { throw Error(status, message); }

void clear_last_error() noexcept { g_last_error[0] = '\0'; }

circleloss_status set_last_error(circleloss_status status, const char* message) noexcept {
    std::snprintf(g_last_error, sizeof g_last_error, "%s", message ? message : "");
    return status;
}

const char* last_error_message() noexcept { return g_last_error; }

}  // namespace circleloss
