// The one interface between the core and a backend. Every session holds a table of this type and a
// context: the CPU backend's table is compiled into the core (cpu/cpu_provider.cpp); the CUDA provider
// lives in its own shared library (libcircleloss_cuda.so), which the core dlopen()s from its own folder
// the first time a CUDA session is asked for, taking the table from circleloss_cuda_provider_entry().
//
// Contract:
// - The core resolves each call once (validation.cpp): struct layouts, enums, options, sizes and overflow,
//   null pointers, the reference defaults, and (for host memory) the values. A backend computes from the
//   resolved options and problem alone; the provider checks the values of device inputs.
// - No C++ exception crosses these functions. On failure they return a non-OK status, write a
//   NUL-terminated message into `error` (at most error_size bytes), and leave the name of the argument at
//   fault for last_error_argument.
// - Outputs are untouched on failure.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "circleloss/circleloss.h"

#ifdef __cplusplus
extern "C" {
#endif

// 2: config->cuda_stream, last_error_argument; 3: problem->diagonal_offset and reduction_divisor,
// forward_output->reduction_terms; 4: resolved options and problems, the product floor (all 0.3.0).
#define CIRCLELOSS_PROVIDER_ABI_VERSION 4
#define CIRCLELOSS_PROVIDER_ENTRY_SYMBOL "circleloss_cuda_provider_entry"

// The options of a call, checked.
typedef struct circleloss_resolved_options {
    double gamma;
    double margin;
    int32_t remove_diagonal;  // 0 or 1
    circleloss_reduction reduction;
    circleloss_gradient_mode gradient_mode;
} circleloss_resolved_options;

// The problem of a call with the reference defaults applied and its sizes checked.
typedef struct circleloss_resolved_problem {
    circleloss_dtype dtype;
    circleloss_memory memory;
    circleloss_label_type label_type;  // of labels and ref_labels
    int64_t n;
    int64_t d;
    int64_t m;                   // n when the queries are their own references or only one ref array is given
    const void* labels;
    const void* embeddings;
    const void* ref_labels;      // == labels when not given
    const void* ref_embeddings;  // == embeddings when not given
    int32_t refs_are_queries;    // ref_embeddings not given: gradients of both roles go to the queries
    int32_t per_row_loss;        // reduction NONE: no divisor, no reduction terms
    const void* sample_weights;  // may be NULL
    const void* upstream;        // may be NULL
    int64_t loss_length;         // n for reduction NONE, else 1
    int64_t diagonal_offset;     // remove_diagonal drops pair (i, i + diagonal_offset); 0 without ref_embeddings
    double reduction_divisor;    // > 0: the divisor of the scalar reductions (a batch's); 0: the call's own
    uint64_t element_size;       // bytes of one value of dtype
} circleloss_resolved_problem;

typedef struct circleloss_provider_api {
    uint32_t abi_version;  // CIRCLELOSS_PROVIDER_ABI_VERSION

    // Whether the backend can run here (for CUDA: driver present and recent enough, a device exists).
    // Writes a description on success or the reason on failure into `detail`.
    circleloss_status (*probe)(char* detail, size_t detail_size);

    // Creates a per-session context (threads; or device, stream, cuBLAS handle) and says how many CPU
    // worker threads it uses.
    circleloss_status (*create)(void** out_context, int32_t* out_num_threads, const circleloss_session_config* config,
                                char* error, size_t error_size);
    void (*destroy)(void* context);

    // A one-line description of the context (threads and GEMM kernel, or the device).
    const char* (*describe)(void* context);

    // Whether problems in device memory (CIRCLELOSS_MEMORY_DEVICE) can be computed.
    int32_t device_memory;

    circleloss_status (*forward)(void* context, const circleloss_forward_output* output,
                                 const circleloss_resolved_options* options, const circleloss_resolved_problem* problem,
                                 char* error, size_t error_size);
    circleloss_status (*backward)(void* context, const circleloss_gradient_output* output,
                                  const circleloss_resolved_options* options,
                                  const circleloss_resolved_problem* problem, const void* saved_state, char* error,
                                  size_t error_size);
    circleloss_status (*forward_backward)(void* context, const circleloss_forward_output* forward_output,
                                          const circleloss_gradient_output* gradient_output,
                                          const circleloss_resolved_options* options,
                                          const circleloss_resolved_problem* problem, char* error, size_t error_size);

    // Seconds taken by the minimal products of a forward+backward call (circleloss_measure_product_floor).
    circleloss_status (*measure_product_floor)(void* context, double* out_seconds,
                                               const circleloss_resolved_problem* problem, char* error,
                                               size_t error_size);

    // Device memory; NULL when device_memory is 0 (the core refuses such calls before reaching the table).
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
