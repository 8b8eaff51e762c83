// Callers built against an older header pass the shorter layouts of the versioned structs (fields are
// only ever appended). Each struct lists the size of every published layout, oldest first, and is read
// into this version's layout with the defaults for the fields the caller's layout lacks, so everything
// past this point sees one layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "circleloss/circleloss.h"
#include "errors.h"

namespace circleloss {

struct PublishedLayout {
    uint32_t size;
    const char* since;  // the first library version with this layout
};

template <class S>
struct StructLayouts;

template <>
struct StructLayouts<circleloss_session_config> {
    static constexpr const char* init_function = "circleloss_session_config_init";
    static constexpr PublishedLayout layouts[] = {
        {offsetof(circleloss_session_config, cuda_stream), "0.1.0"},
        {sizeof(circleloss_session_config), "0.3.0"},
    };
    static circleloss_session_config defaults() { return CIRCLELOSS_SESSION_CONFIG_INIT; }
};

template <>
struct StructLayouts<circleloss_options> {
    static constexpr const char* init_function = "circleloss_options_init";
    static constexpr PublishedLayout layouts[] = {{sizeof(circleloss_options), "0.1.0"}};
    static circleloss_options defaults() { return CIRCLELOSS_OPTIONS_INIT; }
};

template <>
struct StructLayouts<circleloss_problem> {
    static constexpr const char* init_function = "circleloss_problem_init";
    static constexpr PublishedLayout layouts[] = {
        {offsetof(circleloss_problem, diagonal_offset), "0.1.0"},
        {sizeof(circleloss_problem), "0.3.0"},
    };
    static circleloss_problem defaults() { return CIRCLELOSS_PROBLEM_INIT; }
};

template <>
struct StructLayouts<circleloss_forward_output> {
    static constexpr const char* init_function = "circleloss_forward_output_init";
    static constexpr PublishedLayout layouts[] = {
        {offsetof(circleloss_forward_output, reduction_terms), "0.1.0"},
        {sizeof(circleloss_forward_output), "0.3.0"},
    };
    static circleloss_forward_output defaults() { return CIRCLELOSS_FORWARD_OUTPUT_INIT; }
};

template <>
struct StructLayouts<circleloss_gradient_output> {
    static constexpr const char* init_function = "circleloss_gradient_output_init";
    static constexpr PublishedLayout layouts[] = {{sizeof(circleloss_gradient_output), "0.1.0"}};
    static circleloss_gradient_output defaults() { return CIRCLELOSS_GRADIENT_OUTPUT_INIT; }
};

// `*given` (not NULL) in this version's layout. `name` is the argument's name in messages.
template <class S>
S in_current_layout(const S* given, const char* name) {
    using Layouts = StructLayouts<S>;
    static_assert(Layouts::layouts[sizeof Layouts::layouts / sizeof Layouts::layouts[0] - 1].size == sizeof(S),
                  "the newest published layout is the struct of this header");
    const uint32_t size = given->struct_size;
    for (const PublishedLayout& layout : Layouts::layouts) {
        if (layout.size == size) {
            S current = Layouts::defaults();
            std::memcpy(&current, given, size);
            current.struct_size = sizeof(S);
            return current;
        }
    }
    std::string known;
    for (const PublishedLayout& layout : Layouts::layouts) {
        known += (known.empty() ? "" : ", ") + std::to_string(layout.size) + " (since " + layout.since + ")";
    }
    fail_argument(CIRCLELOSS_STATUS_UNSUPPORTED_VERSION, std::string(name) + "->struct_size",
         " is " + std::to_string(size) + "; this library (version " +
             CIRCLELOSS_VERSION_STRING + ") knows " + known + ": initialise the struct with " +
             Layouts::init_function);
}

}  // namespace circleloss
