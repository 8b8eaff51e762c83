using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using CircleLoss.Interop.Native;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>
/// <see cref="DeviceBuffer{T}"/> and the device overloads of <see cref="Circle"/> on a machine without a device: the
/// CPU session's refusals, every check the façade makes before the library is called, and the lifetimes. The checks
/// use "unbacked" buffers (<c>CreateUnbackedDeviceBuffer</c>) whose address a CPU session never
/// dereferences: copies are refused with BACKEND_UNAVAILABLE and computations with INVALID_ARGUMENT before any
/// access. The device path itself runs in <see cref="DeviceGpuTests"/> where a GPU is present.
/// </summary>
[Collection(SessionCountingCollection.Name)]
public class DeviceBufferTests
{
    private const int N = 6;
    private const int D = 4;
    private const int M = 5;

    private static Circle Cpu(Reduction reduction = Reduction.SumOverBatchSize) =>
        new(new CircleOptions { Backend = Backend.Cpu, ThreadCount = 1, Reduction = reduction });

    // ---- the CPU session's refusals ----

    [Fact]
    public void Creating_a_buffer_on_a_CPU_session_throws_BackendUnavailable_with_the_native_message()
    {
        using Circle circle = Cpu();
        long allocated = DeviceMemoryHandle.AllocatedCount;
        AssertBackendUnavailable(Assert.Throws<CircleLossBackendUnavailableException>(() => circle.CreateDeviceBuffer<float>(16)));
        AssertBackendUnavailable(Assert.Throws<CircleLossBackendUnavailableException>(() => circle.CreateDeviceBuffer<double>(16)));
        AssertBackendUnavailable(Assert.Throws<CircleLossBackendUnavailableException>(() => circle.CreateDeviceBuffer<int>(0)));
        AssertBackendUnavailable(Assert.Throws<CircleLossBackendUnavailableException>(() => circle.CreateDeviceBuffer<bool>(3)));
        AssertBackendUnavailable(Assert.Throws<CircleLossBackendUnavailableException>(() => circle.CreateDeviceBuffer<float>([1f, 2f, 3f])));
        Assert.Equal(allocated, DeviceMemoryHandle.AllocatedCount);

        // The loss stays usable.
        ReferenceProblem p = RandomCases.Make(3, n: N, d: D);
        Assert.True(circle.Loss(p.Labels, p.Embeddings, D) > 0);
    }

    private static void AssertBackendUnavailable(CircleLossBackendUnavailableException e)
    {
        Assert.Equal(CircleLossStatus.BackendUnavailable, e.Status);
        Assert.Contains("CUDA session", e.NativeMessage, StringComparison.Ordinal);
        Assert.Contains(e.NativeMessage, e.Message, StringComparison.Ordinal);
        Assert.Contains("circleloss_device_alloc", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateDeviceBuffer_checks_its_arguments_before_the_library()
    {
        var circle = Cpu();
        Assert.Throws<NotSupportedException>(() => circle.CreateDeviceBuffer<long>(4));
        Assert.Throws<NotSupportedException>(() => circle.CreateDeviceBuffer<byte>(4));
        Assert.Throws<NotSupportedException>(() => circle.CreateDeviceBuffer<Half>(4));
        Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => circle.CreateDeviceBuffer<float>(-1)).ParamName);
        circle.Dispose();
        Assert.Throws<ObjectDisposedException>(() => circle.CreateDeviceBuffer<float>(4));
        Assert.Throws<ObjectDisposedException>(() => circle.CreateDeviceBuffer<float>([1f]));
    }

    [Fact]
    public void Copies_check_lengths_and_reach_the_library_which_refuses_a_CPU_session()
    {
        using Circle circle = Cpu();
        using DeviceBuffer<float> buffer = circle.CreateUnbackedDeviceBuffer<float>(8);
        Assert.Equal(8, buffer.Length);
        Assert.Equal(32, buffer.ByteLength);
        Assert.Same(circle, buffer.Circle);

        Assert.Equal("source", Assert.Throws<ArgumentException>(() => buffer.CopyFrom(new float[7])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => buffer.CopyTo(new float[9])).ParamName);
        var e = Assert.Throws<CircleLossBackendUnavailableException>(() => buffer.CopyFrom(new float[8]));
        Assert.Contains("CUDA session", e.NativeMessage, StringComparison.Ordinal);
        Assert.Contains("circleloss_device_copy", e.Message, StringComparison.Ordinal);

        // Written only on success.
        float[] host = Enumerable.Repeat(42f, 8).ToArray();
        Assert.Throws<CircleLossBackendUnavailableException>(() => buffer.CopyTo(host));
        Assert.All(host, v => Assert.Equal(42f, v));
        Assert.Throws<CircleLossBackendUnavailableException>(() => buffer.ToArray());

        // Device to device: same Circle, same length, not itself.
        using DeviceBuffer<float> other = circle.CreateUnbackedDeviceBuffer<float>(8);
        using DeviceBuffer<float> shorter = circle.CreateUnbackedDeviceBuffer<float>(7);
        using Circle second = Cpu();
        using DeviceBuffer<float> foreign = second.CreateUnbackedDeviceBuffer<float>(8);
        Assert.Throws<ArgumentNullException>(() => buffer.CopyTo((DeviceBuffer<float>)null!));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => buffer.CopyTo(buffer)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => buffer.CopyTo(shorter)).ParamName);
        Assert.Contains("another Circle", Assert.Throws<ArgumentException>(() => buffer.CopyTo(foreign)).Message, StringComparison.Ordinal);
        Assert.Throws<CircleLossBackendUnavailableException>(() => buffer.CopyTo(other));

        // Empty buffers copy nothing and never reach the library.
        using DeviceBuffer<int> empty = circle.CreateUnbackedDeviceBuffer<int>(0);
        empty.CopyFrom(ReadOnlySpan<int>.Empty);
        Assert.Empty(empty.ToArray());
    }

    // ---- the device overloads: checks before the library ----

    /// <summary>Unbacked buffers of the right sizes for a problem with N queries, M references, D dimensions.</summary>
    private sealed class Buffers : IDisposable
    {
        private readonly List<IDisposable> _all = [];

        public Buffers(Circle circle, int lossLength = 1)
        {
            DeviceBuffer<TElement> Make<TElement>(int length)
                where TElement : unmanaged
            {
                DeviceBuffer<TElement> b = circle.CreateUnbackedDeviceBuffer<TElement>(length);
                _all.Add(b);
                return b;
            }

            Labels = Make<int>(N);
            Embeddings = Make<float>(N * D);
            RefLabels = Make<int>(M);
            RefEmbeddings = Make<float>(M * D);
            Weights = Make<float>(N);
            Loss = Make<float>(lossLength);
            PerSample = Make<float>(N);
            Mask = Make<bool>(N);
            State = Make<float>(Circle.SavedStateLength(N));
            Grad = Make<float>(N * D);
            GradRef = Make<float>(M * D);
            Upstream = Make<float>(lossLength);
            Wrong = Make<float>(3);
            WrongInts = Make<int>(3);
            Labels64 = Make<int>(N);
            Embeddings64 = Make<double>(N * D);
            Loss64 = Make<double>(lossLength);
            Grad64 = Make<double>(N * D);
            State64 = Make<double>(Circle.SavedStateLength(N));
        }

        public DeviceBuffer<int> Labels { get; }
        public DeviceBuffer<float> Embeddings { get; }
        public DeviceBuffer<int> RefLabels { get; }
        public DeviceBuffer<float> RefEmbeddings { get; }
        public DeviceBuffer<float> Weights { get; }
        public DeviceBuffer<float> Loss { get; }
        public DeviceBuffer<float> PerSample { get; }
        public DeviceBuffer<bool> Mask { get; }
        public DeviceBuffer<float> State { get; }
        public DeviceBuffer<float> Grad { get; }
        public DeviceBuffer<float> GradRef { get; }
        public DeviceBuffer<float> Upstream { get; }
        public DeviceBuffer<float> Wrong { get; }
        public DeviceBuffer<int> WrongInts { get; }
        public DeviceBuffer<int> Labels64 { get; }
        public DeviceBuffer<double> Embeddings64 { get; }
        public DeviceBuffer<double> Loss64 { get; }
        public DeviceBuffer<double> Grad64 { get; }
        public DeviceBuffer<double> State64 { get; }

        public void Dispose()
        {
            foreach (IDisposable b in _all)
            {
                b.Dispose();
            }
        }
    }

    [Fact]
    public void Valid_device_calls_reach_the_library_with_memory_DEVICE()
    {
        // A CPU session refuses device memory by name: proof that problem.memory = DEVICE was passed, and that
        // every check of the façade let these calls through.
        using Circle circle = Cpu();
        using var b = new Buffers(circle);
        AssertDeviceRefused(() => circle.Forward(b.Labels, b.Embeddings, D, b.Loss));
        AssertDeviceRefused(() => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, b.PerSample, b.Mask, b.State, b.Weights, b.RefLabels, b.RefEmbeddings));
        AssertDeviceRefused(() => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad));
        AssertDeviceRefused(() => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad, b.GradRef, b.PerSample, b.Mask, b.Upstream,
            b.Weights, b.RefLabels, b.RefEmbeddings));
        AssertDeviceRefused(() => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad, refLabels: b.Labels)); // inputs may repeat
        AssertDeviceRefused(() => circle.Backward(b.Labels, b.Embeddings, D, b.State, b.Grad));
        AssertDeviceRefused(() => circle.Backward(b.Labels, b.Embeddings, D, b.State, b.Grad, b.GradRef, b.Upstream, b.Weights, b.RefLabels, b.RefEmbeddings));
        AssertDeviceRefused(() => circle.Forward(b.Labels64, b.Embeddings64, D, b.Loss64));
        AssertDeviceRefused(() => circle.ForwardBackward(b.Labels64, b.Embeddings64, D, b.Loss64, b.Grad64));
        AssertDeviceRefused(() => circle.Backward(b.Labels64, b.Embeddings64, D, b.State64, b.Grad64));
    }

    private static void AssertDeviceRefused(Action call)
    {
        var e = Assert.Throws<CircleLossArgumentException>(call);
        Assert.Equal(CircleLossStatus.InvalidArgument, e.Status);
        Assert.Contains("memory is DEVICE", e.NativeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_required_buffers_throw_ArgumentNullException_naming_them()
    {
        using Circle circle = Cpu();
        using var b = new Buffers(circle);
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => circle.Forward(null!, b.Embeddings, D, b.Loss)).ParamName);
        Assert.Equal("embeddings", Assert.Throws<ArgumentNullException>(() => circle.Forward(b.Labels, (DeviceBuffer<float>)null!, D, b.Loss)).ParamName);
        Assert.Equal("loss", Assert.Throws<ArgumentNullException>(() => circle.Forward(b.Labels, b.Embeddings, D, null!)).ParamName);
        Assert.Equal("loss", Assert.Throws<ArgumentNullException>(() => circle.ForwardBackward(b.Labels, b.Embeddings, D, null!, b.Grad)).ParamName);
        Assert.Equal("gradEmbeddings", Assert.Throws<ArgumentNullException>(() => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, null!)).ParamName);
        Assert.Equal("savedState", Assert.Throws<ArgumentNullException>(() => circle.Backward(b.Labels, b.Embeddings, D, null!, b.Grad)).ParamName);
        Assert.Equal("gradEmbeddings", Assert.Throws<ArgumentNullException>(() => circle.Backward(b.Labels, b.Embeddings, D, b.State, null!)).ParamName);
    }

    [Fact]
    public void Lengths_are_checked_as_in_the_span_overloads()
    {
        using Circle circle = Cpu();
        using var b = new Buffers(circle);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => circle.Forward(b.Labels, b.Embeddings, 0, b.Loss)).ParamName);
        AssertNamed("embeddings", "24", () => circle.Forward(b.Labels, b.Embeddings, D + 1, b.Loss)); // N×D = 6×5 = 30 ≠ 24
        AssertNamed("embeddings", null, () => circle.Forward(b.WrongInts, b.Embeddings, D, b.Loss));
        AssertNamed("loss", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Wrong));
        AssertNamed("perSampleLoss", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, perSampleLoss: b.Wrong));
        AssertNamed("savedState", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, savedState: b.Wrong));
        AssertNamed("sampleWeights", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, sampleWeights: b.Wrong));
        AssertNamed("refEmbeddings", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, refLabels: b.RefLabels, refEmbeddings: b.Embeddings));
        AssertNamed("refLabels", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, refLabels: b.RefLabels)); // alone: M must be N
        AssertNamed("refEmbeddings", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, refEmbeddings: b.RefEmbeddings));
        AssertNamed("gradEmbeddings", null, () => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Wrong));
        AssertNamed("upstream", null, () => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad, upstream: b.Wrong));
        AssertNamed("gradRefEmbeddings", null, () => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad, b.Wrong, refLabels: b.RefLabels, refEmbeddings: b.RefEmbeddings));
        AssertNamed("gradRefEmbeddings", "not given", () => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad, refLabels: b.RefLabels, refEmbeddings: b.RefEmbeddings));
        var both = AssertNamed("gradRefEmbeddings", "both roles", () => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad, b.GradRef));
        Assert.Contains("must be null", both.Message, StringComparison.Ordinal);
        AssertNamed("savedState", null, () => circle.Backward(b.Labels, b.Embeddings, D, b.Wrong, b.Grad));
        AssertNamed("mask", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, mask: circle.CreateUnbackedDeviceBuffer<bool>(N + 1)));

        // An empty buffer is given (an empty reference set), unlike an empty span.
        using DeviceBuffer<int> noLabels = circle.CreateUnbackedDeviceBuffer<int>(0);
        using DeviceBuffer<float> noEmbeddings = circle.CreateUnbackedDeviceBuffer<float>(0);
        using DeviceBuffer<float> noGrad = circle.CreateUnbackedDeviceBuffer<float>(0);
        AssertDeviceRefused(() => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad, noGrad, refLabels: noLabels, refEmbeddings: noEmbeddings));
        AssertNamed("sampleWeights", null, () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, sampleWeights: noEmbeddings));
    }

    [Fact]
    public void Reduction_None_needs_N_losses_and_N_upstream_values()
    {
        using Circle circle = Cpu(Reduction.None);
        using var scalar = new Buffers(circle);
        using var vector = new Buffers(circle, lossLength: N);
        AssertNamed("loss", null, () => circle.Forward(scalar.Labels, scalar.Embeddings, D, scalar.Loss));
        AssertNamed("upstream", null, () => circle.ForwardBackward(vector.Labels, vector.Embeddings, D, vector.Loss, vector.Grad, upstream: scalar.Upstream));
        AssertDeviceRefused(() => circle.ForwardBackward(vector.Labels, vector.Embeddings, D, vector.Loss, vector.Grad, upstream: vector.Upstream));
    }

    private static ArgumentException AssertNamed(string name, string? fragment, Action call)
    {
        var e = Assert.Throws<ArgumentException>(call);
        Assert.Equal(name, e.ParamName);
        if (fragment is not null)
        {
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }

        return e;
    }

    [Fact]
    public void Buffers_of_another_Circle_are_refused()
    {
        using Circle circle = Cpu();
        using Circle other = Cpu();
        using var mine = new Buffers(circle);
        using var theirs = new Buffers(other);
        var e = AssertNamed("labels", "another Circle", () => circle.Forward(theirs.Labels, mine.Embeddings, D, mine.Loss));
        AssertNamed("embeddings", "another Circle", () => circle.Forward(mine.Labels, theirs.Embeddings, D, mine.Loss));
        AssertNamed("loss", "another Circle", () => circle.Forward(mine.Labels, mine.Embeddings, D, theirs.Loss));
        AssertNamed("mask", "another Circle", () => circle.Forward(mine.Labels, mine.Embeddings, D, mine.Loss, mask: theirs.Mask));
        AssertNamed("gradEmbeddings", "another Circle", () => circle.ForwardBackward(mine.Labels, mine.Embeddings, D, mine.Loss, theirs.Grad));
        AssertNamed("refEmbeddings", "another Circle", () => circle.ForwardBackward(mine.Labels, mine.Embeddings, D, mine.Loss, mine.Grad, mine.GradRef,
            refLabels: mine.RefLabels, refEmbeddings: theirs.RefEmbeddings));
        AssertNamed("savedState", "another Circle", () => circle.Backward(mine.Labels, mine.Embeddings, D, theirs.State, mine.Grad));
        Assert.IsNotType<CircleLossArgumentException>(e); // found by the façade, not the library
    }

    [Fact]
    public void An_output_may_not_be_an_input_or_another_output()
    {
        using Circle circle = Cpu();
        using var b = new Buffers(circle);
        DeviceBuffer<float> alsoEmbeddings = b.Grad; // N×D, like the embeddings
        AssertNamed("gradEmbeddings", "same buffer as the input embeddings",
            () => circle.ForwardBackward(b.Labels, alsoEmbeddings, D, b.Loss, alsoEmbeddings));
        AssertNamed("perSampleLoss", "same buffer as the input sampleWeights",
            () => circle.Forward(b.Labels, b.Embeddings, D, b.Loss, perSampleLoss: b.Weights, sampleWeights: b.Weights));
        AssertNamed("gradRefEmbeddings", "same buffer as the output gradEmbeddings",
            () => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, b.Grad, b.Grad, refEmbeddings: b.Embeddings));
        using Circle none = Cpu(Reduction.None);
        using var vector = new Buffers(none, lossLength: N);
        AssertNamed("perSampleLoss", "same buffer as the output loss",
            () => none.Forward(vector.Labels, vector.Embeddings, D, vector.Loss, perSampleLoss: vector.Loss));
        AssertNamed("loss", "same buffer as the input upstream",
            () => none.ForwardBackward(vector.Labels, vector.Embeddings, D, vector.Loss, vector.Grad, upstream: vector.Loss));
    }

    [Fact]
    public void Disposed_buffers_throw_ObjectDisposedException_and_dispose_is_idempotent()
    {
        using Circle circle = Cpu();
        using var b = new Buffers(circle);
        long freed = DeviceMemoryHandle.FreedCount;
        DeviceBuffer<float> buffer = circle.CreateUnbackedDeviceBuffer<float>(N * D);
        Assert.False(buffer.IsDisposed);
        buffer.Dispose();
        Assert.True(buffer.IsDisposed);
        Assert.Equal(freed + 1, DeviceMemoryHandle.FreedCount);
        buffer.Dispose();
        buffer.Dispose();
        Assert.Equal(freed + 1, DeviceMemoryHandle.FreedCount);
        Assert.Contains("disposed", buffer.ToString(), StringComparison.Ordinal);

        Assert.Throws<ObjectDisposedException>(() => buffer.CopyFrom(new float[N * D]));
        Assert.Throws<ObjectDisposedException>(() => buffer.CopyTo(new float[N * D]));
        Assert.Throws<ObjectDisposedException>(() => buffer.ToArray());
        Assert.Throws<ObjectDisposedException>(() => b.Grad.CopyTo(buffer));
        Assert.Equal("embeddings", Assert.Throws<ObjectDisposedException>(() => circle.Forward(b.Labels, buffer, D, b.Loss)).ObjectName);
        Assert.Equal("gradEmbeddings", Assert.Throws<ObjectDisposedException>(() => circle.ForwardBackward(b.Labels, b.Embeddings, D, b.Loss, buffer)).ObjectName);

        // The loss refuses device calls once disposed, before looking at the buffers.
        circle.Dispose();
        Assert.Throws<ObjectDisposedException>(() => circle.Forward(b.Labels, b.Embeddings, D, b.Loss));
        Assert.Throws<ObjectDisposedException>(() => circle.Synchronize());
    }

    // ---- lifetimes: a buffer keeps its session alive ----

    [Fact]
    public void Disposing_the_Circle_first_keeps_the_session_until_its_last_buffer_is_freed()
    {
        long released = SessionHandle.ReleasedCount;
        var circle = Cpu();
        DeviceBuffer<float> first = circle.CreateUnbackedDeviceBuffer<float>(4);
        DeviceBuffer<int> second = circle.CreateUnbackedDeviceBuffer<int>(4);
        circle.Dispose();
        Assert.True(circle.IsDisposed);
        Assert.Equal(released, SessionHandle.ReleasedCount); // not destroyed: the buffers hold it
        Assert.Throws<ObjectDisposedException>(() => circle.CreateDeviceBuffer<float>(1));

        // The buffers stay usable (here the CPU session refuses the copy itself, after the façade let it through).
        Assert.Throws<CircleLossBackendUnavailableException>(() => first.CopyFrom(new float[4]));
        first.Dispose();
        Assert.Equal(released, SessionHandle.ReleasedCount);
        second.Dispose();
        Assert.Equal(released + 1, SessionHandle.ReleasedCount);
        second.Dispose();
        Assert.Equal(released + 1, SessionHandle.ReleasedCount);
    }

    [Fact]
    public void Disposing_the_buffers_first_then_the_Circle_destroys_the_session_once()
    {
        long released = SessionHandle.ReleasedCount;
        long freed = DeviceMemoryHandle.FreedCount;
        var circle = Cpu();
        DeviceBuffer<double> buffer = circle.CreateUnbackedDeviceBuffer<double>(4);
        buffer.Dispose();
        Assert.Equal(freed + 1, DeviceMemoryHandle.FreedCount);
        Assert.Equal(released, SessionHandle.ReleasedCount);
        circle.Dispose();
        Assert.Equal(released + 1, SessionHandle.ReleasedCount);
        circle.Dispose();
        buffer.Dispose();
        Assert.Equal(released + 1, SessionHandle.ReleasedCount);
        Assert.Equal(freed + 1, DeviceMemoryHandle.FreedCount);
    }

    [Fact]
    public void Undisposed_buffers_and_Circles_are_released_by_their_finalisers_in_any_order()
    {
        const int count = 16;
        long released = SessionHandle.ReleasedCount;
        long freed = DeviceMemoryHandle.FreedCount;
        List<WeakReference> handles = CreateAndDrop(count);
        for (int attempt = 0; attempt < 10 && handles.Any(h => h.IsAlive); attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.All(handles, h => Assert.False(h.IsAlive));
        Assert.True(DeviceMemoryHandle.FreedCount - freed >= 3 * count, $"freed {DeviceMemoryHandle.FreedCount - freed} of {3 * count} buffers");
        Assert.True(SessionHandle.ReleasedCount - released >= count, $"released {SessionHandle.ReleasedCount - released} of {count} sessions");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> CreateAndDrop(int count)
    {
        var handles = new List<WeakReference>();
        for (int i = 0; i < count; i++)
        {
            var circle = Cpu();
            handles.Add(new WeakReference(circle.Handle, trackResurrection: true));
            for (int k = 0; k < 3; k++)
            {
                DeviceBuffer<float> buffer = circle.CreateUnbackedDeviceBuffer<float>(4);
                handles.Add(new WeakReference(buffer.Handle, trackResurrection: true));
            }

            if (i % 2 == 0)
            {
                circle.Dispose(); // half of them: the Circle disposed, its buffers left to the finaliser
            }
        }

        return handles;
    }
}
