// A computation on the device: value checks of device inputs, the forward and backward passes over the
// tiles, and the staging of host memory, for one call of the provider table.
#pragma once

#include "provider_support.h"

namespace circleloss {
namespace cuda {

enum class CallKind { kForward, kBackward, kForwardBackward };

// Runs one call on the context's device and stream (one at a time per context); throws Failure.
void dispatch(Context& ctx, CallKind kind, const circleloss_forward_output* fwd, const circleloss_gradient_output* grad,
              const circleloss_resolved_options* options, const circleloss_resolved_problem* problem,
              const void* saved_state);

}  // namespace cuda
}  // namespace circleloss
