using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace CircleLoss.Benchmarks;

// The jobs. In-process (no generated project, no rebuild: the patched TorchSharp copy and the loaded libraries are
// the ones this process already uses). Short, fixed counts: a full run must stay well under 15 minutes on 2 cores.
internal static class Jobs
{
    public static bool Quick { get; set; }

    /// <summary>Steps of 0.1–2 s: one invocation per iteration, no pilot, no overhead stage.</summary>
    public static Job Large() => Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithStrategy(RunStrategy.Monitoring)
        .WithLaunchCount(1)
        .WithWarmupCount(Quick ? 1 : 2)
        .WithIterationCount(Quick ? 3 : 7)
        .WithInvocationCount(1)
        .WithUnrollFactor(1)
        .WithId("large");

    /// <summary>Steps of 1–50 ms: BenchmarkDotNet picks the invocations per iteration (about 200 ms each).</summary>
    public static Job Medium() => Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(Quick ? 1 : 3)
        .WithIterationCount(Quick ? 3 : 15)
        .WithIterationTime(TimeInterval.FromMilliseconds(200))
        .WithId("medium");

    /// <summary>Sub-millisecond calls (the façade overhead): more iterations, the medians must resolve a few percent.</summary>
    public static Job Small() => Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(Quick ? 2 : 5)
        .WithIterationCount(Quick ? 5 : 31)
        .WithIterationTime(TimeInterval.FromMilliseconds(200))
        .WithId("small");
}

public sealed class LargeConfig : ManualConfig
{
    public LargeConfig() => AddJob(Jobs.Large());
}

public sealed class MediumConfig : ManualConfig
{
    public MediumConfig() => AddJob(Jobs.Medium());
}

public sealed class SmallConfig : ManualConfig
{
    public SmallConfig() => AddJob(Jobs.Small());
}

/// <summary>Library vs TorchSharp on one problem; the product floor is sampled before and after each timed run
/// (the library reports the floor's own wall time, excluding its allocations).</summary>
public abstract class LibraryVsTorch
{
    private Workload? _workload;

    internal abstract Workload.Spec Spec { get; }

    [GlobalSetup(Target = nameof(Library))]
    public void SetupLibrary()
    {
        _workload = new Workload(Spec);
        _workload.SampleFloor();
    }

    [GlobalSetup(Target = nameof(TorchSharp))]
    public void SetupTorch()
    {
        _workload = new Workload(Spec, torch: true);
        Verification.CheckLargeCase(_workload);
    }

    [GlobalCleanup(Target = nameof(Library))]
    public void CleanupLibrary()
    {
        _workload?.SampleFloor();
        Release();
    }

    [GlobalCleanup(Target = nameof(TorchSharp))]
    public void CleanupTorch() => Release();

    private void Release()
    {
        _workload?.Dispose();
        _workload = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [Benchmark(Baseline = true)]
    public double Library() => _workload!.Library();

    [Benchmark]
    public double TorchSharp() => _workload!.Torch();
}

[Config(typeof(LargeConfig))]
public class SelfSimilarity4096 : LibraryVsTorch
{
    internal override Workload.Spec Spec => Workload.Self4096;
}

[Config(typeof(MediumConfig))]
public class SelfSimilarity1024 : LibraryVsTorch
{
    internal override Workload.Spec Spec => Workload.Self1024;
}

[Config(typeof(MediumConfig))]
public class SelfSimilarity1024Float64 : LibraryVsTorch
{
    internal override Workload.Spec Spec => Workload.Self1024F64;
}

[Config(typeof(LargeConfig))]
public class ReferenceMemory16384 : LibraryVsTorch
{
    internal override Workload.Spec Spec => Workload.Refs16384;
}

/// <summary>The 262,144-row memory: the library against its floor only (TorchSharp would need ~1 GiB per N×M temporary).</summary>
[Config(typeof(LargeConfig))]
public class ReferenceMemory262144
{
    private Workload? _workload;

    [GlobalSetup]
    public void Setup()
    {
        _workload = new Workload(Workload.Refs262144);
        _workload.SampleFloor(3, 0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _workload?.SampleFloor(3, 0);
        _workload?.Dispose();
        _workload = null;
        GC.Collect();
    }

    [Benchmark(Baseline = true)]
    public double Library() => _workload!.Library();
}

/// <summary>The façade's cost: Circle.LossAndGradients against a direct P/Invoke of circleloss_forward_backward on the
/// same session and the same pinned buffers.</summary>
[Config(typeof(SmallConfig))]
public class FacadeOverhead256
{
    private Workload? _workload;

    [GlobalSetup]
    public void Setup() => _workload = new Workload(Workload.Self256);

    [GlobalCleanup]
    public void Cleanup()
    {
        _workload?.Dispose();
        _workload = null;
    }

    [Benchmark(Baseline = true)]
    public int DirectPInvoke() => _workload!.Direct();

    [Benchmark]
    public double Facade() => _workload!.Library();
}
