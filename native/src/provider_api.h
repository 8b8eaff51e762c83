// The interface between the core library and a backend provider that lives in its own shared library
// (libcircleloss_cuda.so). The core dlopen()s the provider from its own folder the first time a CUDA
// session is asked for and calls circleloss_cuda_provider_entry() to get this table.
//
// Contract:
// - The core has already validated everything that does not need to read device memory: struct sizes,
//   enums, options, sizes and overflow, null pointers, reference consistency, and (for host memory)
//   finiteness of embeddings, weights and upstream. The provider checks finiteness of device inputs.
// - No C++ exception crosses these functions. On failure they return a non-OK status and write a
//   NUL-terminated message into `error` (at most error_size bytes).
// - Outputs are untouched on failure.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "circleloss/circleloss.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CIRCLELOSS_PROVIDER_ABI_VERSION 3  // 2: config->cuda_stream, last_error_argument; 3: problem->diagonal_offset
                                           // and reduction_divisor, forward_output->reduction_terms (0.3.0)
#define CIRCLELOSS_PROVIDER_ENTRY_SYMBOL "circleloss_cuda_provider_entry"

typedef struct circleloss_provider_api {
    uint32_t abi_version;  // CIRCLELOSS_PROVIDER_ABI_VERSION

    // Whether the provider can run here (driver present and recent enough, a device exists). Writes a
    // description of the devices on success or the reason on failure into `detail`.
    circleloss_status (*probe)(char* detail, size_t detail_size);

    // Creates a per-session context on config->device_index (stream, cuBLAS handle, workspace).
    circleloss_status (*create)(void** out_context, const circleloss_session_config* config, char* error,
                                size_t error_size);
    void (*destroy)(void* context);

    // A one-line description of the context's device (name, compute capability, memory).
    const char* (*describe)(void* context);

    circleloss_status (*forward)(void* context, const circleloss_forward_output* output,
                                 const circleloss_options* options, const circleloss_problem* problem,
                                 char* error, size_t error_size);
    circleloss_status (*backward)(void* context, const circleloss_gradient_output* output,
                                  const circleloss_options* options, const circleloss_problem* problem,
                                  const void* saved_state, char* error, size_t error_size);
    circleloss_status (*forward_backward)(void* context, const circleloss_forward_output* forward_output,
                                          const circleloss_gradient_output* gradient_output,
                                          const circleloss_options* options, const circleloss_problem* problem,
                                          char* error, size_t error_size);

    circleloss_status (*device_alloc)(void* context, void** out_pointer, uint64_t bytes, char* error,
                                      size_t error_size);
    circleloss_status (*device_free)(void* context, void* pointer, char* error, size_t error_size);
    circleloss_status (*device_copy)(void* context, void* destination, const void* source, uint64_t bytes,
                                     circleloss_copy_kind kind, char* error, size_t error_size);
    circleloss_status (*synchronize)(void* context, char* error, size_t error_size);

    // The C name of the argument the last failed call on this thread rejected ("problem->embeddings"),
    // or "" (see circleloss_last_error_argument).
    const char* (*last_error_argument)(void);
} circleloss_provider_api;

typedef const circleloss_provider_api* (*circleloss_provider_entry_fn)(void);

#ifdef __cplusplus
}
#endif
