/*
 * circleloss.h — the C ABI of CircleLoss.Interop.
 *
 * Circle Loss (Sun et al., CVPR 2020) with exactly the semantics of Keras 3's keras.losses.Circle:
 * forward values, the five reductions with Keras's `loss > 0` output mask, sample weights, optional
 * reference sets, and gradients (Keras autodiff, or the paper's detached weights).
 *
 * Conventions
 * - Plain C (C99 and C++). Every function that can fail returns a circleloss_status; outputs come first.
 * - On failure a thread-local message describes the error (circleloss_last_error) and no output has
 *   been written. Every call that can fail clears the message on entry.
 * - Structs that may grow carry their own size in their first field (`struct_size`); fill them with
 *   the matching *_init function (or the CIRCLELOSS_*_INIT initialiser in C) before setting fields.
 *   Fields are only ever appended: a caller built against an older header passes its shorter struct
 *   and the library uses the defaults for the fields that layout lacks. A struct_size that is not the
 *   size of any published layout (e.g. from a newer header) gives CIRCLELOSS_STATUS_UNSUPPORTED_VERSION.
 * - Matrices are dense and row-major without padding: row i of an n×d matrix starts at element i*d.
 * - Sessions are thread-safe: one session may run calls from several threads at once.
 * - This header is the single source of the generated .NET bindings: fixed-width integer types, no
 *   varargs, bitfields or unions, and only object-like macros.
 *
 * The loss (Keras 3 `keras.losses.circle`), per query i < n and reference j < m:
 *   s = <x_i, r_j>, d = max(1 - s, 0)
 *   positive pair: y_i == r_j and not (remove_diagonal and j == i + diagonal_offset (0 by default));
 *   negative pair: y_i != r_j
 *   lp = -gamma * max(margin + d, 0) * (margin - d);  ln = gamma * max(1 + margin - d, 0) * (1 - margin - d)
 *   LP_i = logsumexp over positives of lp, LN_i = logsumexp over negatives of ln (-inf when empty)
 *   l_i = softplus(LP_i + LN_i); mask_i = l_i > 0 (in the compute precision)
 */
#ifndef CIRCLELOSS_CIRCLELOSS_H
#define CIRCLELOSS_CIRCLELOSS_H

#include <stddef.h>
#include <stdint.h>

#if defined(CIRCLELOSS_BUILDING_LIBRARY) && defined(__GNUC__)
#define CIRCLELOSS_API __attribute__((visibility("default")))
#else
#define CIRCLELOSS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------- */
/* Versioning                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

#define CIRCLELOSS_VERSION_MAJOR 0
#define CIRCLELOSS_VERSION_MINOR 3
#define CIRCLELOSS_VERSION_PATCH 0
/* major * 10000 + minor * 100 + patch; compare with circleloss_version(). */
#define CIRCLELOSS_VERSION_NUMBER 300
#define CIRCLELOSS_VERSION_STRING "0.3.0"

/* Values of saved forward state per query row: LP_i then LN_i. */
#define CIRCLELOSS_SAVED_STATE_PER_ROW 2

/* Values of forward_output->reduction_terms (float64): the weighted masked sum, then the divisor. */
#define CIRCLELOSS_REDUCTION_TERMS 2

/* Session flag: allow TF32 tensor-core math for float32 similarity products on the GPU. */
#define CIRCLELOSS_SESSION_FLAG_ALLOW_TF32 1

/* ---------------------------------------------------------------------------------------------- */
/* Status and errors                                                                               */
/* ---------------------------------------------------------------------------------------------- */

typedef enum circleloss_status {
    CIRCLELOSS_STATUS_OK = 0,
    /* A null pointer where data is required, a size or option out of range, inconsistent sizes, an
     * unknown enum value, a negative sample weight, or (host memory) finite values so large that the
     * logits, loss or gradients could overflow the element type. The message names the argument. */
    CIRCLELOSS_STATUS_INVALID_ARGUMENT = 1,
    /* NaN or infinity in embeddings, sample weights or upstream gradients (the message names the
     * first bad row and column, or index). */
    CIRCLELOSS_STATUS_NON_FINITE_INPUT = 2,
    /* n*d, m*d, n*m or a byte count does not fit in 64 bits (or in the address space). */
    CIRCLELOSS_STATUS_SIZE_OVERFLOW = 3,
    /* A struct_size this version of the library does not know. */
    CIRCLELOSS_STATUS_UNSUPPORTED_VERSION = 4,
    /* A null session, or one already destroyed. */
    CIRCLELOSS_STATUS_INVALID_SESSION = 5,
    /* The requested backend cannot run here; the message says why. */
    CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE = 6,
    /* Memory (host, device, or the configured workspace limit) is insufficient. */
    CIRCLELOSS_STATUS_OUT_OF_MEMORY = 7,
    /* The accelerator's runtime reported an error. */
    CIRCLELOSS_STATUS_DEVICE_ERROR = 8,
    /* A bug in the library; the message says where. */
    CIRCLELOSS_STATUS_INTERNAL_ERROR = 9
} circleloss_status;

/* The enumerator's name without prefix ("OK", "INVALID_ARGUMENT", ...); "UNKNOWN" for other values. */
CIRCLELOSS_API const char* circleloss_status_name(circleloss_status status);

/* The message of the last failed call on this thread; "" when the last call succeeded. Never NULL.
 * The pointer stays valid until the next call into the library on the same thread. */
CIRCLELOSS_API const char* circleloss_last_error(void);

/* Since 0.3.0. The argument the last failed call on this thread rejected, named as in C: a parameter
 * ("options", "saved_state", "session") or a field ("problem->ref_embeddings", "options->gamma",
 * "config->num_threads"). "" when the failure is not about one argument (OUT_OF_MEMORY, a device
 * error, sizes that overflow together) or the last call succeeded. The message (circleloss_last_error)
 * begins with the same name. Never NULL; valid until the next call into the library on this thread. */
CIRCLELOSS_API const char* circleloss_last_error_argument(void);

/* The version of the loaded library, encoded as CIRCLELOSS_VERSION_NUMBER. */
CIRCLELOSS_API int32_t circleloss_version(void);

/* The version of the loaded library as "major.minor.patch"; static storage. */
CIRCLELOSS_API const char* circleloss_version_string(void);

/* ---------------------------------------------------------------------------------------------- */
/* Enumerations                                                                                    */
/* ---------------------------------------------------------------------------------------------- */

typedef enum circleloss_backend {
    CIRCLELOSS_BACKEND_AUTO = 0, /* CUDA when available, else CPU (the session says why) */
    CIRCLELOSS_BACKEND_CPU = 1,
    CIRCLELOSS_BACKEND_CUDA = 2
} circleloss_backend;

typedef enum circleloss_reduction {
    CIRCLELOSS_REDUCTION_NONE = 0,                   /* vector w_i * l_i */
    CIRCLELOSS_REDUCTION_SUM = 1,                    /* sum w_i * l_i * mask_i */
    CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE = 2,    /* sum w_i * l_i * mask_i / count(mask) (Keras default) */
    CIRCLELOSS_REDUCTION_MEAN = 3,                   /* same as SUM_OVER_BATCH_SIZE */
    CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT = 4 /* sum w_i * l_i * mask_i / sum w_i * mask_i */
} circleloss_reduction;

typedef enum circleloss_gradient_mode {
    CIRCLELOSS_GRADIENT_KERAS = 0, /* exact derivative of the formula (autodiff, nothing detached) */
    CIRCLELOSS_GRADIENT_PAPER = 1  /* pair weights treated as constants, as in the paper's code */
} circleloss_gradient_mode;

typedef enum circleloss_dtype {
    CIRCLELOSS_DTYPE_FLOAT32 = 0,
    CIRCLELOSS_DTYPE_FLOAT64 = 1
} circleloss_dtype;

/* The integer type of labels and ref_labels (both have the same type). Only equality of labels
 * matters; any value of the type is a valid label. (Since 0.2.0: older callers pass 0 here.) */
typedef enum circleloss_label_type {
    CIRCLELOSS_LABELS_INT32 = 0, /* int32_t (default) */
    CIRCLELOSS_LABELS_INT64 = 1  /* int64_t, e.g. PyTorch's and TorchSharp's default integer tensors */
} circleloss_label_type;

/* Where every pointer of a call (inputs and outputs) points. Device pointers must come from
 * circleloss_device_alloc on the same session (or be memory of that session's device). Calls with device
 * memory are synchronous like host calls: outputs are complete when the call returns. */
typedef enum circleloss_memory {
    CIRCLELOSS_MEMORY_HOST = 0,
    CIRCLELOSS_MEMORY_DEVICE = 1 /* memory of the session's CUDA device (CUDA sessions only) */
} circleloss_memory;

typedef enum circleloss_copy_kind {
    CIRCLELOSS_COPY_HOST_TO_DEVICE = 0,
    CIRCLELOSS_COPY_DEVICE_TO_HOST = 1,
    CIRCLELOSS_COPY_DEVICE_TO_DEVICE = 2
} circleloss_copy_kind;

/* ---------------------------------------------------------------------------------------------- */
/* Sessions                                                                                        */
/* ---------------------------------------------------------------------------------------------- */

/* An opaque session: a backend with its threads, device, stream and workspace. */
typedef struct circleloss_session circleloss_session;

typedef struct circleloss_session_config {
    uint32_t struct_size;           /* sizeof(circleloss_session_config) */
    circleloss_backend backend;     /* default AUTO */
    int32_t device_index;           /* CUDA device ordinal; default 0 */
    int32_t num_threads;            /* CPU worker threads; 0 (default) = one per hardware thread */
    uint64_t workspace_limit_bytes; /* scratch memory a call may use; 0 (default) = 1 GiB. The CPU backend
                                     * keeps the n x m similarity matrix when it fits (fastest; the session
                                     * keeps the buffer for its next call) and streams beyond it, its memory
                                     * then independent of m */
    uint32_t flags;                 /* CIRCLELOSS_SESSION_FLAG_*; default 0 */
    int32_t reserved0;              /* must be 0 */
    /* Since 0.3.0. The caller's CUDA stream (a cudaStream_t of device_index, e.g. the current stream of
     * the framework whose tensors are passed) for backend CUDA; NULL (default) = a stream of the
     * session's own. Calls with device memory are queued on it after the work the caller queued
     * there, so no synchronisation is needed before a call; they still return when their outputs are
     * complete. The stream must outlive the session. Must be NULL for other backends (AUTO included). */
    void* cuda_stream;
} circleloss_session_config;

#define CIRCLELOSS_SESSION_CONFIG_INIT { sizeof(circleloss_session_config), CIRCLELOSS_BACKEND_AUTO, 0, 0, 0, 0, 0, NULL }

/* Fills *config with the defaults (struct_size set). */
CIRCLELOSS_API circleloss_status circleloss_session_config_init(circleloss_session_config* config);

/* Creates a session. config may be NULL for the defaults. With backend AUTO the session falls back to
 * the CPU when CUDA cannot be used; circleloss_session_fallback_reason says why. With backend CUDA
 * and no usable device the call fails with BACKEND_UNAVAILABLE and the reason. */
CIRCLELOSS_API circleloss_status circleloss_session_create(circleloss_session** out_session,
                                                          const circleloss_session_config* config);

/* Destroys a session. NULL is accepted and ignored; a session already destroyed gives INVALID_SESSION.
 * The caller must not destroy a session while another thread is using it. */
CIRCLELOSS_API circleloss_status circleloss_session_destroy(circleloss_session* session);

/* The backend the session actually runs on (CPU or CUDA, never AUTO). */
CIRCLELOSS_API circleloss_status circleloss_session_backend(circleloss_backend* out_backend,
                                                           const circleloss_session* session);

/* Why an AUTO session runs on the CPU ("" when it did not fall back). Valid while the session lives. */
CIRCLELOSS_API circleloss_status circleloss_session_fallback_reason(const char** out_reason,
                                                                   const circleloss_session* session);

/* A one-line human-readable description of the session's backend (threads, GEMM kernel, device).
 * Valid while the session lives. */
CIRCLELOSS_API circleloss_status circleloss_session_describe(const char** out_description,
                                                            const circleloss_session* session);

/* The CPU worker threads the session uses (1 for CUDA sessions). */
CIRCLELOSS_API circleloss_status circleloss_session_num_threads(int32_t* out_num_threads,
                                                               const circleloss_session* session);

/* Whether a backend can be used on this machine (1) or not (0), with a human-readable detail: the CPU
 * features and GEMM kernel, or the CUDA devices, or why CUDA is unavailable. *out_detail is valid until
 * the next call into the library on the same thread. */
CIRCLELOSS_API circleloss_status circleloss_query_backend(int32_t* out_available, const char** out_detail,
                                                         circleloss_backend backend);

/* The file system path of the loaded library. Static storage. */
CIRCLELOSS_API circleloss_status circleloss_library_path(const char** out_path);

/* ---------------------------------------------------------------------------------------------- */
/* Options and problems                                                                            */
/* ---------------------------------------------------------------------------------------------- */

typedef struct circleloss_options {
    uint32_t struct_size;                   /* sizeof(circleloss_options) */
    int32_t remove_diagonal;                /* 1 (default): pair (i, i) is never a positive */
    double gamma;                           /* scale, > 0 and finite; default 80 */
    double margin;                          /* relaxation, finite; default 0.4 */
    circleloss_reduction reduction;         /* default SUM_OVER_BATCH_SIZE */
    circleloss_gradient_mode gradient_mode; /* default KERAS */
} circleloss_options;

#define CIRCLELOSS_OPTIONS_INIT                                                                     \
    { sizeof(circleloss_options), 1, 80.0, 0.4, CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE,          \
      CIRCLELOSS_GRADIENT_KERAS }

/* Fills *options with Keras's defaults (struct_size set). */
CIRCLELOSS_API circleloss_status circleloss_options_init(circleloss_options* options);

/* Since 0.3.0. Checks options as every computation does, as far as that needs no problem (gamma, margin,
 * remove_diagonal, reduction, gradient_mode; what depends on the element type is checked per call), so a
 * caller can refuse bad options when it is configured rather than at its first call. */
CIRCLELOSS_API circleloss_status circleloss_options_check(const circleloss_options* options);

/* The inputs of one loss evaluation. Floating-point arrays have element type `dtype`; all pointers
 * point into `memory`.
 * References: with neither ref_labels nor ref_embeddings the queries are their own references
 * (m must be 0 or n). ref_labels alone: the references are the queries with other labels (m == n).
 * ref_embeddings alone: the reference labels are the query labels (m == n). Both: any m >= 0. */
typedef struct circleloss_problem {
    uint32_t struct_size;           /* sizeof(circleloss_problem) */
    circleloss_dtype dtype;         /* default FLOAT32 */
    circleloss_memory memory;       /* default HOST */
    circleloss_label_type label_type; /* default INT32: the element type of labels and ref_labels */
    int64_t n;                      /* query rows, >= 0 */
    int64_t d;                      /* embedding dimension, >= 1 */
    int64_t m;                      /* reference rows (see above) */
    const void* labels;             /* n labels of label_type; required when n > 0 */
    const void* embeddings;         /* n×d, meant to be L2-normalised; required when n > 0 */
    const void* ref_labels;         /* m labels of label_type, optional */
    const void* ref_embeddings;     /* m×d, optional */
    const void* sample_weights;     /* n weights >= 0, optional (all ones) */
    const void* upstream;           /* backward only: the gradient of the output, shaped like the
                                     * loss (n values for NONE, 1 otherwise); NULL = ones */
    /* Since 0.3.0: for a call that computes part of a larger batch (one process of several, or a batch
     * scored against a memory that contains it). Both default to 0, the single-call behaviour. */
    /* Where the queries sit among the references for remove_diagonal: pair (i, j) is the removed
     * diagonal when j == i + diagonal_offset (default 0: when j == i). A process holding rows
     * [k, k + n) of a batch whose references are the whole batch passes k. Must be 0 unless
     * ref_embeddings are given, and within [-2^62, 2^62]; an offset outside [-n, m) leaves no pair on the
     * diagonal. Ignored when options->remove_diagonal is 0. */
    int64_t diagonal_offset;
    /* The divisor of the scalar reductions (1.4 of docs/design.md) instead of the call's own: 0 (default)
     * = the call's own; > 0 (finite) = the loss is sum(w_i * l_i * mask_i) / reduction_divisor and the
     * backward coefficients are w_i * mask_i / reduction_divisor. The parts of a batch pass the batch's
     * divisor (from circleloss_reduce_terms). Must be 0 for reduction NONE. */
    double reduction_divisor;
} circleloss_problem;

#define CIRCLELOSS_PROBLEM_INIT                                                                     \
    { sizeof(circleloss_problem), CIRCLELOSS_DTYPE_FLOAT32, CIRCLELOSS_MEMORY_HOST,                \
      CIRCLELOSS_LABELS_INT32, 0, 0, 0,                                                             \
      NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.0 }

/* Fills *problem with an empty float32 host problem (struct_size set). */
CIRCLELOSS_API circleloss_status circleloss_problem_init(circleloss_problem* problem);

/* Where the forward pass writes. Arrays have the problem's dtype and memory. */
typedef struct circleloss_forward_output {
    uint32_t struct_size;  /* sizeof(circleloss_forward_output) */
    int32_t reserved0;     /* must be 0 */
    void* loss;            /* required: 1 value, or n values (w_i * l_i) for reduction NONE */
    void* per_sample_loss; /* optional: n values l_i (unweighted) */
    uint8_t* mask;         /* optional: n values, 1 where l_i > 0 */
    void* saved_state;     /* optional: CIRCLELOSS_SAVED_STATE_PER_ROW * n values for backward */
    /* Since 0.3.0. Optional: this call's part of a scalar reduction, CIRCLELOSS_REDUCTION_TERMS values
     * in float64 whatever the dtype, in the problem's memory: [0] = sum of w_i * l_i * mask_i, [1] = the
     * call's own divisor (1 for SUM, count(mask) for SUM_OVER_BATCH_SIZE and MEAN, sum of w_i * mask_i
     * for MEAN_WITH_SAMPLE_WEIGHT). The parts of a batch sum them (e.g. an all-reduce) and pass the
     * sums to circleloss_reduce_terms. Must be NULL for reduction NONE. */
    double* reduction_terms;
} circleloss_forward_output;

#define CIRCLELOSS_FORWARD_OUTPUT_INIT { sizeof(circleloss_forward_output), 0, NULL, NULL, NULL, NULL, NULL }

/* Where the backward pass writes. Arrays have the problem's dtype and memory. */
typedef struct circleloss_gradient_output {
    uint32_t struct_size;      /* sizeof(circleloss_gradient_output) */
    int32_t reserved0;         /* must be 0 */
    void* grad_embeddings;     /* n×d, required: d loss / d embeddings (through both roles when the
                                * queries are their own references) */
    void* grad_ref_embeddings; /* m×d: required when ref_embeddings is given, else must be NULL */
} circleloss_gradient_output;

#define CIRCLELOSS_GRADIENT_OUTPUT_INIT { sizeof(circleloss_gradient_output), 0, NULL, NULL }

CIRCLELOSS_API circleloss_status circleloss_forward_output_init(circleloss_forward_output* output);
CIRCLELOSS_API circleloss_status circleloss_gradient_output_init(circleloss_gradient_output* output);

/* ---------------------------------------------------------------------------------------------- */
/* Computation                                                                                     */
/* ---------------------------------------------------------------------------------------------- */

/* The loss (and optionally per-sample losses, mask and saved state). problem->upstream is ignored. */
CIRCLELOSS_API circleloss_status circleloss_forward(const circleloss_forward_output* output,
                                                   circleloss_session* session,
                                                   const circleloss_options* options,
                                                   const circleloss_problem* problem);

/* Gradients from the state saved by circleloss_forward on the same problem and options, scaled by
 * problem->upstream. The similarities are recomputed; the forward reduction is not. */
CIRCLELOSS_API circleloss_status circleloss_backward(const circleloss_gradient_output* output,
                                                    circleloss_session* session,
                                                    const circleloss_options* options,
                                                    const circleloss_problem* problem,
                                                    const void* saved_state);

/* Forward and backward in one call (what most callers want); reuses work between the two. */
CIRCLELOSS_API circleloss_status circleloss_forward_backward(const circleloss_forward_output* forward_output,
                                                            const circleloss_gradient_output* gradient_output,
                                                            circleloss_session* session,
                                                            const circleloss_options* options,
                                                            const circleloss_problem* problem);

/* Combines the parts of a batch computed by several calls (one per process, say): from the element-wise
 * sums of their forward_output->reduction_terms, writes the batch's loss into *out_loss (with the
 * library's rule: a divisor of 0 gives 0, as divide_no_nan) and into *out_divisor the divisor the parts'
 * backward calls pass as problem->reduction_divisor (1 for SUM; 0 when the batch's divisor is 0, which
 * then gives every part zero coefficients as well). reduction must not be NONE; the sums must be finite
 * and >= 0. */
CIRCLELOSS_API circleloss_status circleloss_reduce_terms(double* out_loss, double* out_divisor,
                                                        circleloss_reduction reduction, const double* summed_terms);

/* A yardstick for benchmarks: runs only the matrix products that a forward+backward call on this
 * problem needs at the least, with the session's backend and threads, and reports their wall time in
 * seconds. Self-similarity: the upper triangle of X·Xᵀ (n²d multiply-adds) and one n×n by n×d product;
 * with reference embeddings: X·Rᵀ, then an n×m by m×d and an m×n by n×d product. The loss itself is
 * not computed. It allocates an n×m matrix. CPU sessions only (CUDA: BACKEND_UNAVAILABLE). */
CIRCLELOSS_API circleloss_status circleloss_measure_product_floor(double* out_seconds, circleloss_session* session,
                                                                 const circleloss_problem* problem);

/* ---------------------------------------------------------------------------------------------- */
/* Device memory (CUDA sessions; a CPU session answers BACKEND_UNAVAILABLE)                        */
/* ---------------------------------------------------------------------------------------------- */

/* Allocates `bytes` of device memory on the session's device. */
CIRCLELOSS_API circleloss_status circleloss_device_alloc(void** out_pointer, circleloss_session* session,
                                                        uint64_t bytes);

/* Frees memory from circleloss_device_alloc on the same session, after the work the session has queued
 * (so no call still uses it). NULL is ignored. */
CIRCLELOSS_API circleloss_status circleloss_device_free(circleloss_session* session, void* pointer);

/* Copies `bytes` on the session's stream and waits for the copy to finish. */
CIRCLELOSS_API circleloss_status circleloss_device_copy(circleloss_session* session, void* destination,
                                                       const void* source, uint64_t bytes,
                                                       circleloss_copy_kind kind);

/* Waits until all work queued by the session has finished. A CPU session returns at once. */
CIRCLELOSS_API circleloss_status circleloss_session_synchronize(circleloss_session* session);

#ifdef __cplusplus
}
#endif

#endif /* CIRCLELOSS_CIRCLELOSS_H */
