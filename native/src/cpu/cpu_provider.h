// The CPU backend's table of provider_api.h (the CUDA provider exports the same table).
#pragma once

#include "provider_api.h"

namespace circleloss {
namespace cpu {

const circleloss_provider_api& provider_table();

}  // namespace cpu
}  // namespace circleloss
