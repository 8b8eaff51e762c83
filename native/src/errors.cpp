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
constexpr size_t kMaxArgument = 128;
thread_local char g_last_argument[kMaxArgument];
}  // namespace

void fail(circleloss_status status, const std::string& message) { throw Error(status, message); }

void fail_argument(circleloss_status status, const std::string& argument, const std::string& rest) {
    throw Error(status, argument + rest, argument);
}

void clear_last_error() noexcept {
    g_last_error[0] = '\0';
    g_last_argument[0] = '\0';
}

circleloss_status set_last_error(circleloss_status status, const char* message, const char* argument) noexcept {
    std::snprintf(g_last_error, sizeof g_last_error, "%s", message ? message : "");
    std::snprintf(g_last_argument, sizeof g_last_argument, "%s", argument ? argument : "");
    return status;
}

const char* last_error_message() noexcept { return g_last_error; }

const char* last_error_argument() noexcept { return g_last_argument; }

}  // namespace circleloss
