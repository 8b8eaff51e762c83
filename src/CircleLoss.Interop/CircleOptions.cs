using System;

namespace CircleLoss.Interop;

/// <summary>
/// The settings of a <see cref="Circle"/>: Keras's arguments of <c>keras.losses.Circle</c>
/// (<see cref="Gamma"/>, <see cref="Margin"/>, <see cref="RemoveDiagonal"/>, <see cref="Reduction"/>) with
/// Keras's defaults, the gradient mode, and where to compute. Immutable; derive variants with <c>with</c>:
/// <code>var options = new CircleOptions { Gamma = 256, Margin = 0.25 };
/// var paper = options with { GradientMode = GradientMode.Paper };</code>
/// The values are checked when a <see cref="Circle"/> is created.
/// </summary>
public sealed record CircleOptions
{
    /// <summary>Keras's <c>gamma</c>: the scale of the logits. Finite and &gt; 0; default 80.</summary>
    public double Gamma { get; init; } = 80.0;

    /// <summary>Keras's <c>margin</c>: the relaxation. Finite; default 0.4.</summary>
    public double Margin { get; init; } = 0.4;

    /// <summary>Keras's <c>remove_diagonal</c>: when true (the default) the pair (i, i) is never a positive
    /// pair (positional, also when a separate reference set is given).</summary>
    public bool RemoveDiagonal { get; init; } = true;

    /// <summary>Keras's <c>reduction</c>; default <see cref="Interop.Reduction.SumOverBatchSize"/>.</summary>
    public Reduction Reduction { get; init; } = Reduction.SumOverBatchSize;

    /// <summary>Which gradient the backward pass computes; default <see cref="Interop.GradientMode.Keras"/>.</summary>
    public GradientMode GradientMode { get; init; } = GradientMode.Keras;

    /// <summary>Where to compute; default <see cref="Interop.Backend.Auto"/> (CUDA when usable, else the CPU).</summary>
    public Backend Backend { get; init; } = Backend.Auto;

    /// <summary>The CUDA device ordinal (CUDA sessions); default 0.</summary>
    public int DeviceIndex { get; init; }

    /// <summary>CPU worker threads; 0 (the default) means one per hardware thread.</summary>
    public int ThreadCount { get; init; }

    /// <summary>The scratch memory one call may use, in bytes; 0 (the default) means the library's default, 1 GiB. The
    /// CPU backend keeps the N×M similarity matrix while it fits (the fastest plan; the session keeps that buffer for
    /// its next call) and streams beyond it, with memory independent of M: set a smaller limit for flat memory.</summary>
    public ulong WorkspaceLimitBytes { get; init; }

    /// <summary>Allow TF32 tensor-core math for float32 similarity products on the GPU (faster, about 10 bits
    /// of mantissa in the products); default false.</summary>
    public bool AllowTF32 { get; init; }
}
