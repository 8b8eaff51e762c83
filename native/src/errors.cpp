#include "errors.h"

#include <string>

namespace circleloss {
namespace {
// One message per thread, so concurrent calls never see each other's errors.
thread_local std::string g_last_error;
}  // namespace

void fail(circleloss_status status, const std::string& message) { throw Error(status, message); }

void clear_last_error() noexcept { g_last_error.clear(); }

circleloss_status set_last_error(circleloss_status status, const char* message) noexcept {
    try {
        g_last_error = message;
    } catch (...) {
        // Keep whatever was there: a message must never be the reason a call crashes.
    }
    return status;
}

const char* last_error_message() noexcept { return g_last_error.c_str(); }

}  // namespace circleloss
