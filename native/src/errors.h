// Errors inside the core: thrown as circleloss::Error, caught at the C ABI boundary by guard(), turned
// into a status and the thread-local message. No exception crosses the ABI.
#pragma once

#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "circleloss/circleloss.h"

namespace circleloss {

class Error : public std::exception {
public:
    Error(circleloss_status status, std::string message) : status_(status), message_(std::move(message)) {}
    circleloss_status status() const noexcept { return status_; }
    const char* what() const noexcept override { return message_.c_str(); }

private:
    circleloss_status status_;
    std::string message_;
};

[[noreturn]] void fail(circleloss_status status, const std::string& message);

// The int32 value of an enum that came through the C ABI. Callers (C, .NET) may pass any int; in C++
// merely loading an enum object whose value is outside the enumeration's range is undefined, so the
// value is copied out as bytes before it is checked.
template <class E>
int32_t raw_enum(const E& value) noexcept {
    static_assert(sizeof(E) == sizeof(int32_t), "the C ABI's enums are int-sized");
    int32_t v;
    std::memcpy(&v, &value, sizeof v);
    return v;
}

void clear_last_error() noexcept;
circleloss_status set_last_error(circleloss_status status, const char* message) noexcept;
const char* last_error_message() noexcept;

// Runs `body` (which may throw) and converts whatever it throws into a status and message.
template <class Body>
circleloss_status guard(const char* function, Body&& body) noexcept {
    clear_last_error();
    try {
        body();
        return CIRCLELOSS_STATUS_OK;
    } catch (const Error& e) {
        return set_last_error(e.status(), e.what());
    } catch (const std::bad_alloc&) {
        return set_last_error(CIRCLELOSS_STATUS_OUT_OF_MEMORY,
                              (std::string(function) + ": out of host memory").c_str());
    } catch (const std::exception& e) {
        return set_last_error(CIRCLELOSS_STATUS_INTERNAL_ERROR,
                              (std::string(function) + ": internal error: " + e.what()).c_str());
    } catch (...) {
        return set_last_error(CIRCLELOSS_STATUS_INTERNAL_ERROR,
                              (std::string(function) + ": internal error (unknown exception)").c_str());
    }
}

}  // namespace circleloss
