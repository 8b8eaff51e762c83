using CircleLoss.Interop.Native;

namespace CircleLoss.Interop;

// The public enums name the C enums' values in C# style; each value is taken from the generated binding of
// the header's enum (Native/NativeMethods.Enums.g.cs), so the header is their only source. Their documentation is
// the façade's own, written for C# callers.

/// <summary>
/// Where a <see cref="Circle"/> computes: Keras has no such choice; this is the accelerator's.
/// </summary>
public enum Backend
{
    /// <summary>CUDA when a usable device and the CUDA provider are present, otherwise the CPU
    /// (<see cref="Circle.FallbackReason"/> then says why).</summary>
    Auto = (int)circleloss_backend.CIRCLELOSS_BACKEND_AUTO,

    /// <summary>The CPU: tiled, fused and multithreaded.</summary>
    Cpu = (int)circleloss_backend.CIRCLELOSS_BACKEND_CPU,

    /// <summary>A CUDA device. Creating a <see cref="Circle"/> fails with
    /// <see cref="CircleLossBackendUnavailableException"/> when none can be used.</summary>
    Cuda = (int)circleloss_backend.CIRCLELOSS_BACKEND_CUDA,
}

/// <summary>
/// How the per-sample losses <c>l_i</c> are reduced; Keras's <c>reduction</c> argument. Rows whose loss is
/// not positive (Keras's output mask, <c>l_i &gt; 0</c>) are left out of every reduction but <see cref="None"/>.
/// </summary>
public enum Reduction
{
    /// <summary>No reduction: the loss is the vector <c>w_i · l_i</c> (N values).</summary>
    None = (int)circleloss_reduction.CIRCLELOSS_REDUCTION_NONE,

    /// <summary><c>Σ w_i · l_i · mask_i</c>.</summary>
    Sum = (int)circleloss_reduction.CIRCLELOSS_REDUCTION_SUM,

    /// <summary><c>Σ w_i · l_i · mask_i / count(mask)</c>, 0 when no row is positive. Keras's default
    /// (<c>"sum_over_batch_size"</c>): it divides by the rows whose loss is positive, not by N.</summary>
    SumOverBatchSize = (int)circleloss_reduction.CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE,

    /// <summary>The same as <see cref="SumOverBatchSize"/>.</summary>
    Mean = (int)circleloss_reduction.CIRCLELOSS_REDUCTION_MEAN,

    /// <summary><c>Σ w_i · l_i · mask_i / Σ w_i · mask_i</c>, 0 when the divisor is 0.</summary>
    MeanWithSampleWeight = (int)circleloss_reduction.CIRCLELOSS_REDUCTION_MEAN_WITH_SAMPLE_WEIGHT,
}

/// <summary>Which gradient the backward pass computes. The forward values are the same in both modes.</summary>
public enum GradientMode
{
    /// <summary>The exact derivative of the loss (what Keras's autodiff gives; nothing detached). The default.</summary>
    Keras = (int)circleloss_gradient_mode.CIRCLELOSS_GRADIENT_KERAS,

    /// <summary>The pair weights are treated as constants, as in the paper's reference code and
    /// pytorch-metric-learning.</summary>
    Paper = (int)circleloss_gradient_mode.CIRCLELOSS_GRADIENT_PAPER,
}

/// <summary>The status codes of the native library (<c>circleloss_status</c>).</summary>
public enum CircleLossStatus
{
    /// <summary>Success.</summary>
    Ok = (int)circleloss_status.CIRCLELOSS_STATUS_OK,

    /// <summary>A null pointer where data is required, a size or option out of range, inconsistent sizes,
    /// an unknown enum value.</summary>
    InvalidArgument = (int)circleloss_status.CIRCLELOSS_STATUS_INVALID_ARGUMENT,

    /// <summary>NaN or infinity in embeddings, sample weights or upstream gradients.</summary>
    NonFiniteInput = (int)circleloss_status.CIRCLELOSS_STATUS_NON_FINITE_INPUT,

    /// <summary>A size or byte count does not fit in 64 bits or in the address space.</summary>
    SizeOverflow = (int)circleloss_status.CIRCLELOSS_STATUS_SIZE_OVERFLOW,

    /// <summary>The library does not know the size of a struct the bindings passed: the bindings and the
    /// native library are of different versions.</summary>
    UnsupportedVersion = (int)circleloss_status.CIRCLELOSS_STATUS_UNSUPPORTED_VERSION,

    /// <summary>A null or already destroyed session.</summary>
    InvalidSession = (int)circleloss_status.CIRCLELOSS_STATUS_INVALID_SESSION,

    /// <summary>The requested backend cannot run here.</summary>
    BackendUnavailable = (int)circleloss_status.CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE,

    /// <summary>Host memory, device memory or the configured workspace limit is insufficient.</summary>
    OutOfMemory = (int)circleloss_status.CIRCLELOSS_STATUS_OUT_OF_MEMORY,

    /// <summary>The accelerator's runtime reported an error.</summary>
    DeviceError = (int)circleloss_status.CIRCLELOSS_STATUS_DEVICE_ERROR,

    /// <summary>A bug in the native library.</summary>
    InternalError = (int)circleloss_status.CIRCLELOSS_STATUS_INTERNAL_ERROR,
}
