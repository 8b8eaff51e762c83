using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using CircleLoss.Interop.Native;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;
using Xunit.Sdk;

namespace CircleLoss.Interop.Tests;

/// <summary>
/// The device path (<see cref="DeviceBuffer{T}"/>, problem.memory = DEVICE) on a real CUDA device: skipped, with the
/// library's reason, where <see cref="CircleLossLibrary.QueryBackend"/> reports no usable device.
/// </summary>
[Collection(SessionCountingCollection.Name)]
public class DeviceGpuTests
{
    private static Circle Cuda(CircleOptions options) => new(options with { Backend = Backend.Cuda });

    /// <summary>Outputs of one evaluation, read back to the host.</summary>
    private sealed record Outputs<T>(T[] Loss, T[] PerSample, bool[] Mask, T[] Grad, T[]? GradRef);

    /// <summary>The span API (host memory; staged to the device by the library): one ForwardBackward, or Forward then
    /// Backward.</summary>
    private static Outputs<T> Host<T>(Circle circle, GoldenCase c, Func<double[], T[]> convert, bool split)
        where T : unmanaged
    {
        var loss = new T[circle.LossLength(c.N)];
        var perSample = new T[c.N];
        var mask = new bool[c.N];
        var grad = new T[c.N * c.Dimension];
        var state = new T[Circle.SavedStateLength(c.N)];
        T[]? gradRef = c.RefEmbeddings is null ? null : new T[c.M * c.Dimension];
        T[] x = convert(c.Embeddings);
        T[]? w = c.SampleWeights is null ? null : convert(c.SampleWeights);
        T[]? up = c.Upstream is null ? null : convert(c.Upstream);
        T[]? r = c.RefEmbeddings is null ? null : convert(c.RefEmbeddings);
        if (typeof(T) == typeof(float))
        {
            float[] xf = (float[])(object)x;
            float[]? wf = (float[]?)(object?)w, upf = (float[]?)(object?)up, rf = (float[]?)(object?)r, gradRefF = (float[]?)(object?)gradRef;
            if (split)
            {
                circle.Forward(c.Labels, xf, c.Dimension, (float[])(object)loss, (float[])(object)perSample, mask, (float[])(object)state, wf, c.RefLabels, rf);
                circle.Backward(c.Labels, xf, c.Dimension, (float[])(object)state, (float[])(object)grad, gradRefF, upf, wf, c.RefLabels, rf);
            }
            else
            {
                circle.ForwardBackward(c.Labels, xf, c.Dimension, (float[])(object)loss, (float[])(object)grad, gradRefF,
                    (float[])(object)perSample, mask, upf, wf, c.RefLabels, rf);
            }
        }
        else
        {
            double[] xd = (double[])(object)x;
            double[]? wd = (double[]?)(object?)w, upd = (double[]?)(object?)up, rd = (double[]?)(object?)r, gradRefD = (double[]?)(object?)gradRef;
            if (split)
            {
                circle.Forward(c.Labels, xd, c.Dimension, (double[])(object)loss, (double[])(object)perSample, mask, (double[])(object)state, wd, c.RefLabels, rd);
                circle.Backward(c.Labels, xd, c.Dimension, (double[])(object)state, (double[])(object)grad, gradRefD, upd, wd, c.RefLabels, rd);
            }
            else
            {
                circle.ForwardBackward(c.Labels, xd, c.Dimension, (double[])(object)loss, (double[])(object)grad, gradRefD,
                    (double[])(object)perSample, mask, upd, wd, c.RefLabels, rd);
            }
        }

        return new Outputs<T>(loss, perSample, mask, grad, gradRef);
    }

    /// <summary>The same evaluation with every array in device buffers: one ForwardBackward, or Forward then Backward.</summary>
    private static Outputs<T> Device<T>(Circle circle, GoldenCase c, Func<double[], T[]> convert, bool split)
        where T : unmanaged
    {
        var owned = new List<IDisposable>();
        DeviceBuffer<TElement> Up<TElement>(TElement[] values)
            where TElement : unmanaged
        {
            DeviceBuffer<TElement> b = circle.CreateDeviceBuffer<TElement>(values);
            owned.Add(b);
            return b;
        }

        DeviceBuffer<TElement>? UpOrNull<TElement>(TElement[]? values)
            where TElement : unmanaged => values is null ? null : Up(values);

        DeviceBuffer<TElement> Out<TElement>(int length)
            where TElement : unmanaged
        {
            DeviceBuffer<TElement> b = circle.CreateDeviceBuffer<TElement>(length);
            owned.Add(b);
            return b;
        }

        try
        {
            DeviceBuffer<int> labels = Up(c.Labels);
            DeviceBuffer<T> x = Up(convert(c.Embeddings));
            DeviceBuffer<T>? w = UpOrNull(c.SampleWeights is null ? null : convert(c.SampleWeights));
            DeviceBuffer<T>? up = UpOrNull(c.Upstream is null ? null : convert(c.Upstream));
            DeviceBuffer<int>? refLabels = UpOrNull(c.RefLabels);
            DeviceBuffer<T>? r = UpOrNull(c.RefEmbeddings is null ? null : convert(c.RefEmbeddings));
            DeviceBuffer<T> loss = Out<T>(circle.LossLength(c.N));
            DeviceBuffer<T> perSample = Out<T>(c.N);
            DeviceBuffer<bool> mask = Out<bool>(c.N);
            DeviceBuffer<T> grad = Out<T>(c.N * c.Dimension);
            DeviceBuffer<T>? gradRef = c.RefEmbeddings is null ? null : Out<T>(c.M * c.Dimension);
            DeviceBuffer<T> state = Out<T>(Circle.SavedStateLength(c.N));
            if (typeof(T) == typeof(float))
            {
                if (split)
                {
                    circle.Forward(labels, As<float>(x), c.Dimension, As<float>(loss), As<float>(perSample), mask, As<float>(state), AsOrNull<float>(w), refLabels, AsOrNull<float>(r));
                    circle.Backward(labels, As<float>(x), c.Dimension, As<float>(state), As<float>(grad), AsOrNull<float>(gradRef), AsOrNull<float>(up), AsOrNull<float>(w), refLabels, AsOrNull<float>(r));
                }
                else
                {
                    circle.ForwardBackward(labels, As<float>(x), c.Dimension, As<float>(loss), As<float>(grad), AsOrNull<float>(gradRef), As<float>(perSample), mask,
                        AsOrNull<float>(up), AsOrNull<float>(w), refLabels, AsOrNull<float>(r));
                }
            }
            else if (split)
            {
                circle.Forward(labels, As<double>(x), c.Dimension, As<double>(loss), As<double>(perSample), mask, As<double>(state), AsOrNull<double>(w), refLabels, AsOrNull<double>(r));
                circle.Backward(labels, As<double>(x), c.Dimension, As<double>(state), As<double>(grad), AsOrNull<double>(gradRef), AsOrNull<double>(up), AsOrNull<double>(w), refLabels, AsOrNull<double>(r));
            }
            else
            {
                circle.ForwardBackward(labels, As<double>(x), c.Dimension, As<double>(loss), As<double>(grad), AsOrNull<double>(gradRef), As<double>(perSample), mask,
                    AsOrNull<double>(up), AsOrNull<double>(w), refLabels, AsOrNull<double>(r));
            }

            return new Outputs<T>(loss.ToArray(), perSample.ToArray(), mask.ToArray(), grad.ToArray(), gradRef?.ToArray());
        }
        finally
        {
            foreach (IDisposable b in owned)
            {
                b.Dispose();
            }
        }
    }

    private static DeviceBuffer<TTarget> As<TTarget>(object buffer)
        where TTarget : unmanaged => (DeviceBuffer<TTarget>)buffer;

    private static DeviceBuffer<TTarget>? AsOrNull<TTarget>(object? buffer)
        where TTarget : unmanaged => (DeviceBuffer<TTarget>?)buffer;

    private static void Bitwise<T>(T[] expected, T[] actual, string what)
        where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        if (!MemoryExtensions.SequenceEqual<byte>(
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.AsSpan()),
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(actual.AsSpan())))
        {
            int first = Enumerable.Range(0, expected.Length).First(i => !expected[i].Equals(actual[i]));
            throw new XunitException($"{what}: not bitwise identical (first difference at {first}: {expected[first]} vs {actual[first]})");
        }
    }

    private static void Same<T>(Outputs<T> expected, Outputs<T> actual, string what)
        where T : unmanaged
    {
        Bitwise(expected.Loss, actual.Loss, what + " loss");
        Bitwise(expected.PerSample, actual.PerSample, what + " per-sample loss");
        Assert.Equal(expected.Mask, actual.Mask);
        Bitwise(expected.Grad, actual.Grad, what + " gradient");
        Assert.Equal(expected.GradRef is null, actual.GradRef is null);
        if (expected.GradRef is not null)
        {
            Bitwise(expected.GradRef, actual.GradRef!, what + " reference gradient");
        }
    }

    [CudaFact]
    public void Device_buffers_give_the_host_paths_results_bitwise_on_every_golden_case()
    {
        int cases = 0;
        foreach (string name in GoldenCase.Names())
        {
            GoldenCase c = GoldenCase.Load(name);
            foreach (GradientMode mode in new[] { GradientMode.Keras, GradientMode.Paper })
            {
                using Circle circle = Cuda(c.Options(mode, Backend.Cuda));
                GoldenExpected e = c.Expected(mode);

                Outputs<double> host64 = Host(circle, c, v => v, split: false);
                Same(host64, Device(circle, c, v => v, split: false), $"{name} {mode} float64");
                Same(Host(circle, c, v => v, split: true), Device(circle, c, v => v, split: true), $"{name} {mode} float64 split");
                Compare.Close(e.Loss, host64.Loss, 1e-10, $"{name} {mode} float64 loss vs golden");
                Compare.Close(e.GradEmbeddings, host64.Grad, 1e-8, $"{name} {mode} float64 gradient vs golden");
                Assert.Equal(e.Mask, host64.Mask);

                Outputs<float> host32 = Host(circle, c, v => v.ToSingle(), split: false);
                Same(host32, Device(circle, c, v => v.ToSingle(), split: false), $"{name} {mode} float32");
                Same(Host(circle, c, v => v.ToSingle(), split: true), Device(circle, c, v => v.ToSingle(), split: true), $"{name} {mode} float32 split");
                Compare.Close(e.Loss, host32.Loss, 1e-5, $"{name} {mode} float32 loss vs golden");
                Compare.Close(e.GradEmbeddings, host32.Grad, 5e-4, $"{name} {mode} float32 gradient vs golden");
                if (e.GradRefEmbeddings is not null)
                {
                    Compare.Close(e.GradRefEmbeddings, host64.GradRef!, 1e-8, $"{name} {mode} float64 reference gradient vs golden");
                    Compare.Close(e.GradRefEmbeddings, host32.GradRef!, 5e-4, $"{name} {mode} float32 reference gradient vs golden");
                }

                cases++;
            }
        }

        Assert.True(cases >= 60, $"ran {cases} case × mode pairs");
    }

    [CudaFact]
    public void Buffers_copy_both_ways_and_on_the_device()
    {
        using Circle circle = Cuda(new CircleOptions());
        Assert.Equal(Backend.Cuda, circle.Backend);
        float[] values = Enumerable.Range(0, 1000).Select(i => i * 0.25f - 7).ToArray();
        using DeviceBuffer<float> a = circle.CreateDeviceBuffer<float>(values);
        Assert.Equal(1000, a.Length);
        Assert.Equal(4000, a.ByteLength);
        Assert.Equal(values, a.ToArray());

        using DeviceBuffer<float> b = circle.CreateDeviceBuffer<float>(1000);
        a.CopyTo(b);
        var back = new float[1000];
        b.CopyTo(back);
        Assert.Equal(values, back);

        float[] other = values.Select(v => -v).ToArray();
        a.CopyFrom(other);
        Assert.Equal(other, a.ToArray());
        Assert.Equal(values, b.ToArray()); // b is a copy, not a view

        using DeviceBuffer<double> d = circle.CreateDeviceBuffer<double>([1.5, double.MaxValue, -0.0]);
        Assert.Equal(new[] { 1.5, double.MaxValue, -0.0 }, d.ToArray());
        using DeviceBuffer<int> i = circle.CreateDeviceBuffer<int>([3, -1, int.MaxValue]);
        Assert.Equal(new[] { 3, -1, int.MaxValue }, i.ToArray());
        using DeviceBuffer<bool> m = circle.CreateDeviceBuffer<bool>([true, false, true]);
        Assert.Equal(new[] { true, false, true }, m.ToArray());
        using DeviceBuffer<float> empty = circle.CreateDeviceBuffer<float>(0);
        Assert.Empty(empty.ToArray());
        circle.Synchronize();
    }

    [CudaFact]
    public void Failed_device_calls_leave_the_device_outputs_untouched()
    {
        ReferenceProblem p = RandomCases.Make(41, n: 64, d: 8);
        float[] x = p.Embeddings.ToSingle();
        x[5 * 8 + 3] = float.NaN;
        using Circle circle = Cuda(new CircleOptions());
        using DeviceBuffer<int> labels = circle.CreateDeviceBuffer<int>(p.Labels);
        using DeviceBuffer<float> embeddings = circle.CreateDeviceBuffer<float>(x);
        using DeviceBuffer<float> loss = circle.CreateDeviceBuffer<float>([42f]);
        using DeviceBuffer<float> grad = circle.CreateDeviceBuffer<float>(Enumerable.Repeat(42f, x.Length).ToArray());

        var e = Assert.Throws<CircleLossNonFiniteInputException>(() => circle.ForwardBackward(labels, embeddings, 8, loss, grad));
        Assert.Equal("embeddings", e.ParamName);
        Assert.Contains("row 5", e.NativeMessage, StringComparison.Ordinal);
        Assert.Equal(42f, loss.ToArray()[0]);
        Assert.All(grad.ToArray(), v => Assert.Equal(42f, v));

        // Too little workspace: OUT_OF_MEMORY, nothing written.
        using Circle tight = Cuda(new CircleOptions { WorkspaceLimitBytes = 4096 });
        ReferenceProblem big = RandomCases.Make(42, n: 4096, d: 8);
        using DeviceBuffer<int> bigLabels = tight.CreateDeviceBuffer<int>(big.Labels);
        using DeviceBuffer<float> bigX = tight.CreateDeviceBuffer<float>(big.Embeddings.ToSingle());
        using DeviceBuffer<float> bigLoss = tight.CreateDeviceBuffer<float>([42f]);
        Assert.Throws<CircleLossOutOfMemoryException>(() => tight.Forward(bigLabels, bigX, 8, bigLoss));
        Assert.Equal(42f, bigLoss.ToArray()[0]);
    }

    [CudaFact]
    public void Buffers_outlive_their_disposed_Circle_and_free_their_session_last()
    {
        long released = SessionHandle.ReleasedCount;
        long freed = DeviceMemoryHandle.FreedCount;
        var circle = Cuda(new CircleOptions());
        DeviceBuffer<double> buffer = circle.CreateDeviceBuffer<double>([1, 2, 3]);
        circle.Dispose();
        Assert.Equal(released, SessionHandle.ReleasedCount);
        Assert.Equal(new double[] { 1, 2, 3 }, buffer.ToArray()); // the session lives on for its buffer
        buffer.CopyFrom([4, 5, 6]);
        Assert.Equal(new double[] { 4, 5, 6 }, buffer.ToArray());
        buffer.Dispose();
        Assert.Equal(freed + 1, DeviceMemoryHandle.FreedCount);
        Assert.Equal(released + 1, SessionHandle.ReleasedCount);

        // Undisposed buffers and Circles: the finalisers free the memory and then the session.
        List<WeakReference> handles = CreateAndDrop(4);
        for (int attempt = 0; attempt < 10 && handles.Any(h => h.IsAlive); attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.All(handles, h => Assert.False(h.IsAlive));
        Assert.True(DeviceMemoryHandle.FreedCount - freed >= 1 + 4 * 2);
        Assert.True(SessionHandle.ReleasedCount - released >= 1 + 4);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> CreateAndDrop(int count)
    {
        var handles = new List<WeakReference>();
        for (int i = 0; i < count; i++)
        {
            var circle = Cuda(new CircleOptions());
            handles.Add(new WeakReference(circle.Handle, trackResurrection: true));
            for (int k = 0; k < 2; k++)
            {
                DeviceBuffer<float> buffer = circle.CreateDeviceBuffer<float>(1 << 20);
                handles.Add(new WeakReference(buffer.Handle, trackResurrection: true));
            }
        }

        return handles;
    }

    [CudaFact]
    public void One_Circle_from_many_threads_with_device_buffers_gives_the_single_threaded_results()
    {
        GoldenCase c = GoldenCase.Load(GoldenCase.Names().First(n => n.StartsWith("21_", StringComparison.Ordinal)));
        using Circle circle = Cuda(c.Options(GradientMode.Keras, Backend.Cuda));
        Outputs<float> fused = Device(circle, c, v => v.ToSingle(), split: false);
        Outputs<float> split = Device(circle, c, v => v.ToSingle(), split: true);
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            k => Same(k % 2 == 1 ? split : fused, Device(circle, c, v => v.ToSingle(), split: k % 2 == 1), $"iteration {k}"));
    }
}
