namespace CircleLoss.Interop;

/// <summary>
/// Where a <see cref="Circle"/> computes: Keras has no such choice; this is the accelerator's.
/// </summary>
public enum Backend
{
    /// <summary>CUDA when a usable device and the CUDA provider are present, otherwise the CPU
    /// (<see cref="Circle.FallbackReason"/> then says why).</summary>
    Auto = 0,

    /// <summary>The CPU: tiled, fused and multithreaded.</summary>
    Cpu = 1,

    /// <summary>A CUDA device. Creating a <see cref="Circle"/> fails with
    /// <see cref="CircleLossBackendUnavailableException"/> when none can be used.</summary>
    Cuda = 2,
}

/// <summary>
/// How the per-sample losses <c>l_i</c> are reduced; Keras's <c>reduction</c> argument. Rows whose loss is
/// not positive (Keras's output mask, <c>l_i &gt; 0</c>) are left out of every reduction but <see cref="None"/>.
/// </summary>
public enum Reduction
{
    /// <summary>No reduction: the loss is the vector <c>w_i · l_i</c> (N values).</summary>
    None = 0,

    /// <summary><c>Σ w_i · l_i · mask_i</c>.</summary>
    Sum = 1,

    /// <summary><c>Σ w_i · l_i · mask_i / count(mask)</c>, 0 when no row is positive. Keras's default
    /// (<c>"sum_over_batch_size"</c>): it divides by the rows whose loss is positive, not by N.</summary>
    SumOverBatchSize = 2,

    /// <summary>The same as <see cref="SumOverBatchSize"/>.</summary>
    Mean = 3,

    /// <summary><c>Σ w_i · l_i · mask_i / Σ w_i · mask_i</c>, 0 when the divisor is 0.</summary>
    MeanWithSampleWeight = 4,
}

/// <summary>Which gradient the backward pass computes. The forward values are the same in both modes.</summary>
public enum GradientMode
{
    /// <summary>The exact derivative of the loss (what Keras's autodiff gives; nothing detached). The default.</summary>
    Keras = 0,

    /// <summary>The pair weights are treated as constants, as in the paper's reference code and
    /// pytorch-metric-learning.</summary>
    Paper = 1,
}

/// <summary>The status codes of the native library (<c>circleloss_status</c>).</summary>
public enum CircleLossStatus
{
    /// <summary>Success.</summary>
    Ok = 0,

    /// <summary>A null pointer where data is required, a size or option out of range, inconsistent sizes,
    /// an unknown enum value.</summary>
    InvalidArgument = 1,

    /// <summary>NaN or infinity in embeddings, sample weights or upstream gradients.</summary>
    NonFiniteInput = 2,

    /// <summary>A size or byte count does not fit in 64 bits or in the address space.</summary>
    SizeOverflow = 3,

    /// <summary>The library does not know the size of a struct the bindings passed: the bindings and the
    /// native library are of different versions.</summary>
    UnsupportedVersion = 4,

    /// <summary>A null or already destroyed session.</summary>
    InvalidSession = 5,

    /// <summary>The requested backend cannot run here.</summary>
    BackendUnavailable = 6,

    /// <summary>Host memory, device memory or the configured workspace limit is insufficient.</summary>
    OutOfMemory = 7,

    /// <summary>The accelerator's runtime reported an error.</summary>
    DeviceError = 8,

    /// <summary>A bug in the native library.</summary>
    InternalError = 9,
}
