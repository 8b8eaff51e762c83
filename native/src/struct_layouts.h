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

// StructLayouts<S>: the function that initialises an S (named in messages), the defaults of this version's
// layout (the header's CIRCLELOSS_*_INIT), and the published layouts, oldest first, as {size, since}.
#define CIRCLELOSS_STRUCT_LAYOUTS(S, DEFAULTS, ...)                         \
    template <>                                                             \
    struct StructLayouts<S> {                                               \
        static constexpr const char* init_function = #S "_init";            \
        static constexpr PublishedLayout layouts[] = {__VA_ARGS__};         \
        static S defaults() { return DEFAULTS; }                            \
    };

CIRCLELOSS_STRUCT_LAYOUTS(circleloss_session_config, CIRCLELOSS_SESSION_CONFIG_INIT,
                          {offsetof(circleloss_session_config, cuda_stream), "0.1.0"},
                          {sizeof(circleloss_session_config), "0.3.0"})
CIRCLELOSS_STRUCT_LAYOUTS(circleloss_options, CIRCLELOSS_OPTIONS_INIT,
                          {sizeof(circleloss_options), "0.1.0"})
CIRCLELOSS_STRUCT_LAYOUTS(circleloss_problem, CIRCLELOSS_PROBLEM_INIT,
                          {offsetof(circleloss_problem, diagonal_offset), "0.1.0"},
                          {sizeof(circleloss_problem), "0.3.0"})
CIRCLELOSS_STRUCT_LAYOUTS(circleloss_forward_output, CIRCLELOSS_FORWARD_OUTPUT_INIT,
                          {offsetof(circleloss_forward_output, reduction_terms), "0.1.0"},
                          {sizeof(circleloss_forward_output), "0.3.0"})
CIRCLELOSS_STRUCT_LAYOUTS(circleloss_gradient_output, CIRCLELOSS_GRADIENT_OUTPUT_INIT,
                          {sizeof(circleloss_gradient_output), "0.1.0"})

#undef CIRCLELOSS_STRUCT_LAYOUTS

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
