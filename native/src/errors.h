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
    Error(circleloss_status status, std::string message, std::string argument = {})
        : status_(status), message_(std::move(message)), argument_(std::move(argument)) {}
    circleloss_status status() const noexcept { return status_; }
    const char* what() const noexcept override { return message_.c_str(); }
    // The C name of the argument at fault ("options->gamma", "saved_state"), or "".
    const char* argument() const noexcept { return argument_.c_str(); }

private:
    circleloss_status status_;
    std::string message_;
    std::string argument_;
};

[[noreturn]] void fail(circleloss_status status, const std::string& message);

// A failure about one argument, named as in C ("options->gamma", "problem->ref_embeddings",
// "saved_state"): the message is the name followed by `rest`, and circleloss_last_error_argument
// returns the name alone, so no caller has to parse messages.
[[noreturn]] void fail_argument(circleloss_status status, const std::string& argument, const std::string& rest);

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

// The raw value of an enum argument, which must lie in [first, last]: otherwise INVALID_ARGUMENT,
// "<argument> is not a <type> value (got <raw>)".
template <class E>
int32_t require_enum(const E& value, int32_t first, int32_t last, const char* argument, const char* type) {
    const int32_t raw = raw_enum(value);
    if (raw < first || raw > last) {
        fail_argument(CIRCLELOSS_STATUS_INVALID_ARGUMENT, argument,
                      std::string(" is not a ") + type + " value (got " + std::to_string(raw) + ")");
    }
    return raw;
}

void clear_last_error() noexcept;
circleloss_status set_last_error(circleloss_status status, const char* message, const char* argument = "") noexcept;
const char* last_error_message() noexcept;
const char* last_error_argument() noexcept;

// Runs `body` (which may throw) and converts whatever it throws into a status and message.
template <class Body>
circleloss_status guard(const char* function, Body&& body) noexcept {
    clear_last_error();
    try {
        body();
        return CIRCLELOSS_STATUS_OK;
    } catch (const Error& e) {
        return set_last_error(e.status(), e.what(), e.argument());
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
