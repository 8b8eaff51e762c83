using System;
using CircleLoss.Interop;

namespace CircleLoss.PowerShell;

/// <summary>The floating-point precision <c>Measure-CircleLoss</c> computes in.</summary>
public enum CircleLossPrecision
{
    /// <summary>float64 (the default for scripts: results agree with a float64 reference to ~1e-12).</summary>
    Double = 0,

    /// <summary>float32 (what training uses; faster, agrees to ~1e-5 relative).</summary>
    Single = 1,
}

/// <summary>What <c>Measure-CircleLoss</c> writes: the loss of one batch, with its mask and, on request, gradients.
/// Every number is a double, whatever the compute precision.</summary>
public sealed class CircleLossMeasurement
{
    /// <summary>The loss: a double for the scalar reductions, or a double[] of N values <c>w_i · l_i</c> for
    /// reduction None.</summary>
    public object Loss { get; init; } = 0.0;

    /// <summary>The unweighted per-sample losses <c>l_i</c> (N values).</summary>
    public double[] PerSampleLoss { get; init; } = [];

    /// <summary>Keras's output mask: true where <c>l_i &gt; 0</c> (N values).</summary>
    public bool[] Mask { get; init; } = [];

    /// <summary>The number of rows whose loss is positive (the rows the default reduction averages over).</summary>
    public int ValidCount { get; init; }

    /// <summary>d loss / d Embedding (N rows of D), through both roles when no reference embeddings were given;
    /// null unless -IncludeGradient.</summary>
    public double[][]? Gradient { get; init; }

    /// <summary>d loss / d ReferenceEmbedding (M rows of D); null unless -IncludeGradient and -ReferenceEmbedding.</summary>
    public double[][]? ReferenceGradient { get; init; }

    /// <summary>The backend the loss ran on (Cpu or Cuda).</summary>
    public Backend Backend { get; init; }

    /// <summary>The library's description of the backend (threads, GEMM kernel or device).</summary>
    public string BackendDescription { get; init; } = "";

    /// <summary>Why -Backend Auto ran on the CPU; null when it did not fall back.</summary>
    public string? FallbackReason { get; init; }

    /// <summary>The reduction applied.</summary>
    public Reduction Reduction { get; init; }

    /// <summary>The gradient mode (Keras or Paper).</summary>
    public GradientMode GradientMode { get; init; }

    /// <summary>The compute precision.</summary>
    public CircleLossPrecision Precision { get; init; }

    /// <summary>Keras's gamma.</summary>
    public double Gamma { get; init; }

    /// <summary>Keras's margin.</summary>
    public double Margin { get; init; }

    /// <summary>Keras's remove_diagonal.</summary>
    public bool RemoveDiagonal { get; init; }

    /// <summary>N, the query rows of this batch.</summary>
    public int Count { get; init; }

    /// <summary>M, the reference rows (N when the queries are their own references).</summary>
    public int ReferenceCount { get; init; }

    /// <summary>D, the embedding dimension.</summary>
    public int Dimension { get; init; }

    /// <summary>The batch's index (0 unless -BatchSize split the input).</summary>
    public int BatchIndex { get; init; }

    /// <summary>The input row the batch starts at (0 unless -BatchSize split the input).</summary>
    public int FirstRow { get; init; }
}

/// <summary>What <c>Get-CircleLossBackend</c> writes: the native library and the backends it can use here.</summary>
public sealed class CircleLossBackendInfo
{
    /// <summary>The module's version.</summary>
    public string ModuleVersion { get; init; } = "";

    /// <summary>The native library's version ("major.minor.patch").</summary>
    public string LibraryVersion { get; init; } = "";

    /// <summary>The version of the C header the .NET bindings were generated from.</summary>
    public string BindingsVersion { get; init; } = "";

    /// <summary>The file the native library was loaded from, as the library reports it.</summary>
    public string LibraryPath { get; init; } = "";

    /// <summary>The library's description of the CPU backend: threads, GEMM library and kernel, CPU features.</summary>
    public string CpuDetail { get; init; } = "";

    /// <summary>The CPU instruction-set features the CPU backend uses (parsed from <see cref="CpuDetail"/>).</summary>
    public string[] CpuFeatures { get; init; } = [];

    /// <summary>The CPU worker threads a session uses by default (one per hardware thread).</summary>
    public int CpuThreads { get; init; }

    /// <summary>Whether a CUDA session can be created here.</summary>
    public bool CudaAvailable { get; init; }

    /// <summary>The library's detail about CUDA: the devices when available, otherwise why not.</summary>
    public string CudaDetail { get; init; } = "";

    /// <summary>Why CUDA cannot be used; null when it can.</summary>
    public string? CudaUnavailableReason { get; init; }

    /// <summary>What -Backend Auto runs on here.</summary>
    public Backend AutoSelects { get; init; }

    /// <summary>The environment variable that overrides where the native library is loaded from.</summary>
    public string NativeLibraryPathVariable { get; init; } = CircleLossLibrary.NativeLibraryPathVariable;

    /// <inheritdoc />
    public override string ToString() =>
        $"CircleLoss {LibraryVersion} ({LibraryPath}); CUDA {(CudaAvailable ? "available" : "unavailable")}; Auto -> {AutoSelects}";
}
