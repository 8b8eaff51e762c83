// The phase timers of a benchmark build of the library (CIRCLELOSS_PHASE_TIMERS; see
// native/src/cpu/phase_timers.h). Not part of the public header: shipped libraries lack the function.
#pragma once

#include <cstdint>

extern "C" int circleloss_phase_timers_read(const char** names, double* seconds, uint64_t* counts, int capacity,
                                            int reset);
