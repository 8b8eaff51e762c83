using System;
using System.Diagnostics;
using System.Linq;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary><see cref="Circle.MeasureProductFloor(ReadOnlySpan{int}, ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float})"/>:
/// the benchmark yardstick.</summary>
public class ProductFloorTests
{
    private static Circle Cpu(int threads = 1) => new(new CircleOptions { Backend = Backend.Cpu, ThreadCount = threads });

    private static TimeSpan Min(int runs, Func<TimeSpan> measure) => Enumerable.Range(0, runs).Select(_ => measure()).Min();

    [Fact]
    public void The_floor_is_positive_and_below_the_full_computation()
    {
        ReferenceProblem p = RandomCases.Make(31, n: 384, d: 64);
        float[] x = p.Embeddings.ToSingle();
        using Circle circle = Cpu();
        TimeSpan floor = Min(3, () => circle.MeasureProductFloor(p.Labels, x, p.Dimension));
        var grad = new float[x.Length];
        TimeSpan full = Min(3, () =>
        {
            var watch = Stopwatch.StartNew();
            circle.LossAndGradients(p.Labels, x, p.Dimension, grad);
            return watch.Elapsed;
        });

        Assert.True(floor > TimeSpan.Zero, $"floor {floor}");
        Assert.True(floor < TimeSpan.FromSeconds(5), $"floor {floor}");
        // The floor is part of what the full call does (plus the per-pair work); a generous factor for a busy machine.
        Assert.True(floor.TotalSeconds <= 2 * full.TotalSeconds, $"floor {floor.TotalMilliseconds:F3} ms, full call {full.TotalMilliseconds:F3} ms");
    }

    [Fact]
    public void The_floor_grows_with_the_work()
    {
        // Self-similarity costs ~2·N²·D multiply-adds: 16 times more work at 4·N.
        ReferenceProblem small = RandomCases.Make(32, n: 128, d: 64);
        ReferenceProblem large = RandomCases.Make(33, n: 512, d: 64);
        using Circle circle = Cpu();
        TimeSpan smallFloor = Min(3, () => circle.MeasureProductFloor(small.Labels, small.Embeddings, small.Dimension));
        TimeSpan largeFloor = Min(3, () => circle.MeasureProductFloor(large.Labels, large.Embeddings, large.Dimension));
        Assert.True(smallFloor > TimeSpan.Zero);
        Assert.True(largeFloor > 2 * smallFloor, $"N=128: {smallFloor.TotalMilliseconds:F3} ms, N=512: {largeFloor.TotalMilliseconds:F3} ms");
    }

    [Fact]
    public void The_floor_takes_a_reference_set_in_float32_and_float64()
    {
        ReferenceProblem p = RandomCases.Make(34, n: 96, d: 32, refs: RefsKind.Both, m: 160);
        using Circle circle = Cpu(threads: 2);
        Assert.True(circle.MeasureProductFloor(p.Labels, p.Embeddings, p.Dimension, p.RefLabels, p.RefEmbeddings) > TimeSpan.Zero);
        Assert.True(circle.MeasureProductFloor(p.Labels, p.Embeddings.ToSingle(), p.Dimension, p.RefLabels, p.RefEmbeddings!.ToSingle()) > TimeSpan.Zero);
        Assert.True(circle.MeasureProductFloor(p.Labels, p.Embeddings.ToSingle(), p.Dimension, refEmbeddings: p.Embeddings.ToSingle()) > TimeSpan.Zero);
        // An empty problem is a valid one.
        Assert.True(circle.MeasureProductFloor(ReadOnlySpan<int>.Empty, ReadOnlySpan<float>.Empty, 8) >= TimeSpan.Zero);
    }

    [Fact]
    public void The_floor_checks_its_inputs_like_a_computation()
    {
        ReferenceProblem p = RandomCases.Make(35, n: 10, d: 4, refs: RefsKind.Both, m: 7);
        var circle = Cpu();
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => circle.MeasureProductFloor(p.Labels, p.Embeddings, 0)).ParamName);
        Assert.Equal("embeddings", Assert.Throws<ArgumentException>(() => circle.MeasureProductFloor(p.Labels, p.Embeddings, 5)).ParamName);
        Assert.Equal("refEmbeddings", Assert.Throws<ArgumentException>(
            () => circle.MeasureProductFloor(p.Labels, p.Embeddings, 4, p.RefLabels, p.Embeddings)).ParamName);
        Assert.Equal("refLabels", Assert.Throws<ArgumentException>(() => circle.MeasureProductFloor(p.Labels, p.Embeddings, 4, p.RefLabels)).ParamName);

        double[] bad = (double[])p.Embeddings.Clone();
        bad[4 * 3 + 2] = double.NaN;
        var e = Assert.Throws<CircleLossNonFiniteInputException>(() => circle.MeasureProductFloor(p.Labels, bad, 4));
        Assert.Equal("embeddings", e.ParamName);
        Assert.Contains("circleloss_measure_product_floor", e.Message, StringComparison.Ordinal);

        circle.Dispose();
        Assert.Throws<ObjectDisposedException>(() => circle.MeasureProductFloor(p.Labels, p.Embeddings, 4));
    }

    [CudaFact]
    public void A_CUDA_session_refuses_with_BackendUnavailable()
    {
        ReferenceProblem p = RandomCases.Make(36, n: 64, d: 16);
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cuda });
        var e = Assert.Throws<CircleLossBackendUnavailableException>(() => circle.MeasureProductFloor(p.Labels, p.Embeddings, p.Dimension));
        Assert.Equal(CircleLossStatus.BackendUnavailable, e.Status);
        Assert.Contains("CPU sessions only", e.NativeMessage, StringComparison.Ordinal);
        Assert.Throws<CircleLossBackendUnavailableException>(() => circle.MeasureProductFloor(p.Labels, p.Embeddings.ToSingle(), p.Dimension));
        // The session stays usable.
        Assert.True(circle.Loss(p.Labels, p.Embeddings, p.Dimension) > 0);
    }
}
