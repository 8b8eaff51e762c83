using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using CircleLoss.Interop.Native;

namespace CircleLoss.Interop;

// Device memory: buffers owned by this Circle's CUDA session, and the computations whose every array lives in
// them (problem.memory = DEVICE), so repeated calls avoid host↔device copies.
public sealed unsafe partial class Circle
{
    /// <summary>
    /// Allocates a buffer of <paramref name="length"/> elements in the memory of this loss's CUDA device (its
    /// contents are undefined until written). Dispose it when done; see <see cref="DeviceBuffer{T}"/> for its
    /// lifetime, which may outlast this <see cref="Circle"/>'s.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/> (embeddings, weights, upstream gradients, losses,
    /// saved state, gradients), <see cref="int"/> (labels) or <see cref="bool"/> (the output mask).</typeparam>
    /// <param name="length">The number of elements, ≥ 0.</param>
    /// <returns>A new buffer that the caller owns.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double, int or bool.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="CircleLossBackendUnavailableException">This loss runs on the CPU (<see cref="Backend"/> is
    /// <see cref="Interop.Backend.Cpu"/>): device memory needs a CUDA session. The native message says so.</exception>
    /// <exception cref="CircleLossOutOfMemoryException">The device has not enough free memory.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public DeviceBuffer<T> CreateDeviceBuffer<T>(int length)
        where T : unmanaged
    {
        if (!DeviceBuffer<T>.IsSupportedElementType)
        {
            throw new NotSupportedException(
                $"A DeviceBuffer holds float or double (embeddings, weights, losses, gradients), int (labels) or bool (the mask), not {typeof(T).Name}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ObjectDisposedException.ThrowIf(_disposed, this);
        DeviceMemoryHandle? handle;
        circleloss_status status;
        NativeError error;
        try
        {
            handle = DeviceMemoryHandle.Allocate(_session, (ulong)length * (ulong)sizeof(T), out status, out error);
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check above and the allocation.
            throw new ObjectDisposedException(GetType().FullName);
        }

        if (handle is null)
        {
            throw Failure(status, "circleloss_device_alloc", error);
        }

        return new DeviceBuffer<T>(this, handle, length);
    }

    /// <summary>Allocates a device buffer holding a copy of <paramref name="contents"/> (see
    /// <see cref="CreateDeviceBuffer{T}(int)"/> and <see cref="DeviceBuffer{T}.CopyFrom"/>).</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="double"/>, <see cref="int"/> or <see cref="bool"/>.</typeparam>
    /// <param name="contents">The values to copy to the device; used only during the call.</param>
    /// <returns>A new buffer of <c>contents.Length</c> elements that the caller owns.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double, int or bool.</exception>
    /// <exception cref="CircleLossBackendUnavailableException">This loss runs on the CPU.</exception>
    /// <exception cref="CircleLossOutOfMemoryException">The device has not enough free memory.</exception>
    /// <exception cref="CircleLossDeviceException">The copy failed.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public DeviceBuffer<T> CreateDeviceBuffer<T>(ReadOnlySpan<T> contents)
        where T : unmanaged
    {
        DeviceBuffer<T> buffer = CreateDeviceBuffer<T>(contents.Length);
        try
        {
            buffer.CopyFrom(contents);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Waits until all the work queued on this loss's session has finished; returns at once on the CPU.
    /// The façade's computations and copies wait for their own work before they return, so this is rarely needed:
    /// a fence for timing, or a check that the device reports no pending error.</summary>
    /// <exception cref="CircleLossDeviceException">The CUDA runtime reported an error.</exception>
    /// <exception cref="ObjectDisposedException">The loss has been disposed.</exception>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool added = false;
        try
        {
            AddRef(ref added);
            circleloss_status status = NativeMethods.circleloss_session_synchronize(_session.Session);
            if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
            {
                throw Failure(status, "circleloss_session_synchronize");
            }
        }
        finally
        {
            if (added)
            {
                _session.DangerousRelease();
            }
        }
    }

    /// <summary>The forward pass with every array in device memory (see <see cref="DeviceBuffer{T}"/>):
    /// the loss, and optionally the per-sample losses, the mask and the state
    /// <see cref="Backward{T}(DeviceBuffer{int}, DeviceBuffer{T}, int, DeviceBuffer{T}, DeviceBuffer{T}, DeviceBuffer{T}, DeviceBuffer{T}, DeviceBuffer{T}, DeviceBuffer{int}, DeviceBuffer{T})"/>
    /// needs. Same semantics and lengths as the span overload; nothing is copied between host and device.</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels.</param>
    /// <param name="embeddings">N×D query embeddings, row-major.</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="loss">Receives the loss: 1 value, or N values for <see cref="Interop.Reduction.None"/>.</param>
    /// <param name="perSampleLoss">Receives the N unweighted losses; null to skip.</param>
    /// <param name="mask">Receives Keras's output mask, <c>l_i &gt; 0</c> (N values); null to skip.</param>
    /// <param name="savedState">Receives <see cref="SavedStatePerRow"/>·N values for <c>Backward</c>; null to skip.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or null for all ones.</param>
    /// <param name="refLabels">M reference labels, or null (see the remarks of <see cref="Circle"/>; an empty buffer
    /// is an empty reference set).</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or null.</param>
    /// <remarks>Every buffer must have been created by this <see cref="Circle"/>, and an output must not be the same
    /// buffer as an input or another output. The buffers are used only during the call (each is kept alive by it, so
    /// a racing <see cref="DeviceBuffer{T}.Dispose"/> waits for it); the outputs are complete when the call returns,
    /// and are written only on success. The library checks the device inputs for NaN, infinity and negative
    /// weights on the device before computing.</remarks>
    /// <exception cref="ArgumentNullException">A required buffer is null.</exception>
    /// <exception cref="ArgumentException">A length does not match N, D or M, a buffer belongs to another
    /// <see cref="Circle"/>, an output is also an input or another output, or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="CircleLossOutOfMemoryException">The workspace limit or the device memory is insufficient.</exception>
    /// <exception cref="CircleLossDeviceException">The CUDA runtime reported an error.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss or one of the buffers has been disposed.</exception>
    public void Forward<T>(DeviceBuffer<int> labels, DeviceBuffer<T> embeddings, int dimension,
        DeviceBuffer<T> loss, DeviceBuffer<T>? perSampleLoss = null, DeviceBuffer<bool>? mask = null, DeviceBuffer<T>? savedState = null,
        DeviceBuffer<T>? sampleWeights = null, DeviceBuffer<int>? refLabels = null, DeviceBuffer<T>? refEmbeddings = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var call = new DeviceCall<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, RefEmbeddings = refEmbeddings,
            Loss = loss, PerSampleLoss = perSampleLoss, Mask = mask, SavedStateOut = savedState,
        };
        ExecuteDevice(Operation.Forward, in call);
    }

    /// <summary>Forward and backward in one call, with every array in device memory (see
    /// <see cref="DeviceBuffer{T}"/>): the loss, optionally the per-sample losses and the mask, and the gradients
    /// scaled by an upstream gradient. Same semantics and lengths as the span overload; nothing is copied between
    /// host and device.</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels.</param>
    /// <param name="embeddings">N×D query embeddings, row-major.</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="loss">Receives the loss: 1 value, or N values for <see cref="Interop.Reduction.None"/>.</param>
    /// <param name="gradEmbeddings">Receives the gradient with respect to the embeddings (N×D); through both roles when
    /// no <paramref name="refEmbeddings"/> are given.</param>
    /// <param name="gradRefEmbeddings">Receives the gradient with respect to <paramref name="refEmbeddings"/> (M×D) when
    /// they are given; must be null otherwise.</param>
    /// <param name="perSampleLoss">Receives the N unweighted losses; null to skip.</param>
    /// <param name="mask">Receives the output mask (N values); null to skip.</param>
    /// <param name="upstream">The gradient of the output: N values for <see cref="Interop.Reduction.None"/>, 1 value
    /// otherwise; null for ones.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or null for all ones.</param>
    /// <param name="refLabels">M reference labels, or null.</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or null.</param>
    /// <remarks>Every buffer must have been created by this <see cref="Circle"/>, and an output must not be the same
    /// buffer as an input or another output. The buffers are used only during the call; the outputs are complete
    /// when the call returns, and are written only on success.</remarks>
    /// <exception cref="ArgumentNullException">A required buffer is null.</exception>
    /// <exception cref="ArgumentException">A length does not match N, D or M, a buffer belongs to another
    /// <see cref="Circle"/>, an output is also an input or another output, or the library rejected an input.</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="CircleLossOutOfMemoryException">The workspace limit or the device memory is insufficient.</exception>
    /// <exception cref="CircleLossDeviceException">The CUDA runtime reported an error.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss or one of the buffers has been disposed.</exception>
    public void ForwardBackward<T>(DeviceBuffer<int> labels, DeviceBuffer<T> embeddings, int dimension,
        DeviceBuffer<T> loss, DeviceBuffer<T> gradEmbeddings, DeviceBuffer<T>? gradRefEmbeddings = null,
        DeviceBuffer<T>? perSampleLoss = null, DeviceBuffer<bool>? mask = null, DeviceBuffer<T>? upstream = null,
        DeviceBuffer<T>? sampleWeights = null, DeviceBuffer<int>? refLabels = null, DeviceBuffer<T>? refEmbeddings = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var call = new DeviceCall<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, RefEmbeddings = refEmbeddings, Upstream = upstream,
            Loss = loss, PerSampleLoss = perSampleLoss, Mask = mask,
            GradEmbeddings = gradEmbeddings, GradRefEmbeddings = gradRefEmbeddings,
        };
        ExecuteDevice(Operation.ForwardBackward, in call);
    }

    /// <summary>The backward pass with every array in device memory (see <see cref="DeviceBuffer{T}"/>):
    /// the gradients from the state a previous device
    /// <see cref="Forward{T}(DeviceBuffer{int}, DeviceBuffer{T}, int, DeviceBuffer{T}, DeviceBuffer{T}, DeviceBuffer{bool}, DeviceBuffer{T}, DeviceBuffer{T}, DeviceBuffer{int}, DeviceBuffer{T})"/>
    /// saved for the same inputs and options, scaled by an upstream gradient.</summary>
    /// <typeparam name="T"><see cref="float"/> (float32) or <see cref="double"/> (float64).</typeparam>
    /// <param name="labels">N query labels (as given to Forward).</param>
    /// <param name="embeddings">N×D query embeddings (as given to Forward).</param>
    /// <param name="dimension">D, the embedding dimension (≥ 1).</param>
    /// <param name="savedState">The <see cref="SavedStatePerRow"/>·N values Forward wrote.</param>
    /// <param name="gradEmbeddings">Receives the gradient with respect to the embeddings (N×D).</param>
    /// <param name="gradRefEmbeddings">Receives the gradient with respect to <paramref name="refEmbeddings"/> (M×D) when
    /// they are given; must be null otherwise.</param>
    /// <param name="upstream">The gradient of the output: N values for <see cref="Interop.Reduction.None"/>, 1 value
    /// otherwise; null for ones.</param>
    /// <param name="sampleWeights">N weights ≥ 0, or null (as given to Forward).</param>
    /// <param name="refLabels">M reference labels, or null (as given to Forward).</param>
    /// <param name="refEmbeddings">M×D reference embeddings, or null (as given to Forward).</param>
    /// <remarks>Every buffer must have been created by this <see cref="Circle"/>, and an output must not be the same
    /// buffer as an input or another output. The buffers are used only during the call; the outputs are complete
    /// when the call returns, and are written only on success.</remarks>
    /// <exception cref="ArgumentNullException">A required buffer is null.</exception>
    /// <exception cref="ArgumentException">A length does not match N, D or M, a buffer belongs to another
    /// <see cref="Circle"/>, an output is also an input or another output, or the library rejected an input
    /// (including a saved state that Forward cannot have written).</exception>
    /// <exception cref="CircleLossNonFiniteInputException">An input holds NaN or infinity.</exception>
    /// <exception cref="CircleLossOutOfMemoryException">The workspace limit or the device memory is insufficient.</exception>
    /// <exception cref="CircleLossDeviceException">The CUDA runtime reported an error.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    /// <exception cref="ObjectDisposedException">The loss or one of the buffers has been disposed.</exception>
    public void Backward<T>(DeviceBuffer<int> labels, DeviceBuffer<T> embeddings, int dimension,
        DeviceBuffer<T> savedState, DeviceBuffer<T> gradEmbeddings, DeviceBuffer<T>? gradRefEmbeddings = null,
        DeviceBuffer<T>? upstream = null,
        DeviceBuffer<T>? sampleWeights = null, DeviceBuffer<int>? refLabels = null, DeviceBuffer<T>? refEmbeddings = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var call = new DeviceCall<T>
        {
            Labels = labels, Embeddings = embeddings, Dimension = dimension, SampleWeights = sampleWeights,
            RefLabels = refLabels, RefEmbeddings = refEmbeddings, Upstream = upstream,
            SavedStateIn = savedState, GradEmbeddings = gradEmbeddings, GradRefEmbeddings = gradRefEmbeddings,
        };
        ExecuteDevice(Operation.Backward, in call);
    }

    private struct DeviceCall<T>
        where T : unmanaged
    {
        public DeviceBuffer<int>? Labels;
        public DeviceBuffer<T>? Embeddings;
        public int Dimension;
        public DeviceBuffer<T>? SampleWeights;
        public DeviceBuffer<int>? RefLabels;
        public DeviceBuffer<T>? RefEmbeddings;
        public DeviceBuffer<T>? Upstream;
        public DeviceBuffer<T>? SavedStateIn;
        public DeviceBuffer<T>? Loss;
        public DeviceBuffer<T>? PerSampleLoss;
        public DeviceBuffer<bool>? Mask;
        public DeviceBuffer<T>? SavedStateOut;
        public DeviceBuffer<T>? GradEmbeddings;
        public DeviceBuffer<T>? GradRefEmbeddings;
    }

    /// <summary>The native allocations of one device call, in the order of <see cref="RegionNames"/>.</summary>
    [InlineArray(RegionCount)]
    private struct CallHandles
    {
        private DeviceMemoryHandle? _element;
    }

    private const int RegionCount = 13;

    private void ExecuteDevice<T>(Operation operation, in DeviceCall<T> call)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        RequireElementType<T>();
        ArgumentNullException.ThrowIfNull(call.Labels, "labels");
        ArgumentNullException.ThrowIfNull(call.Embeddings, "embeddings");
        if (operation != Operation.Backward)
        {
            ArgumentNullException.ThrowIfNull(call.Loss, "loss");
        }

        if (operation != Operation.Forward)
        {
            ArgumentNullException.ThrowIfNull(call.GradEmbeddings, "gradEmbeddings");
        }

        if (operation == Operation.Backward)
        {
            ArgumentNullException.ThrowIfNull(call.SavedStateIn, "savedState");
        }

        // ---- Ownership: every buffer must be this Circle's (its session, device and stream). ----
        var handles = default(CallHandles);
        handles[0] = Owned(call.Labels, 0);
        handles[1] = Owned(call.Embeddings, 1);
        handles[2] = Owned(call.SampleWeights, 2);
        handles[3] = Owned(call.RefLabels, 3);
        handles[4] = Owned(call.RefEmbeddings, 4);
        handles[5] = Owned(call.Upstream, 5);
        handles[6] = Owned(call.SavedStateIn, 6);
        handles[7] = Owned(call.Loss, 7);
        handles[8] = Owned(call.PerSampleLoss, 8);
        handles[9] = Owned(call.Mask, 9);
        handles[10] = Owned(call.SavedStateOut, 10);
        handles[11] = Owned(call.GradEmbeddings, 11);
        handles[12] = Owned(call.GradRefEmbeddings, 12);

        // ---- Shapes: the same rules as the span overloads; null is "not given". ----
        var shape = new Shape
        {
            Labels = call.Labels.Length,
            Embeddings = call.Embeddings.Length,
            Dimension = call.Dimension,
            SampleWeights = call.SampleWeights?.Length ?? -1,
            RefLabels = call.RefLabels?.Length ?? -1,
            RefEmbeddings = call.RefEmbeddings?.Length ?? -1,
            Upstream = call.Upstream?.Length ?? -1,
            SavedStateIn = call.SavedStateIn?.Length ?? -1,
            Loss = call.Loss?.Length ?? -1,
            PerSampleLoss = call.PerSampleLoss?.Length ?? -1,
            Mask = call.Mask?.Length ?? -1,
            SavedStateOut = call.SavedStateOut?.Length ?? -1,
            GradEmbeddings = call.GradEmbeddings?.Length ?? -1,
            GradRefEmbeddings = call.GradRefEmbeddings?.Length ?? -1,
            ReductionTerms = -1, // device requests have no reduction terms (host spans only)
        };
        (long n, long m) = CheckShapes(operation, shape, "null");

        // ---- No output may be an input or another output (buffers never overlap otherwise). ----
        for (int i = FirstOutputRegion; i < RegionCount; i++)
        {
            for (int j = 0; j < i && handles[i] is not null; j++)
            {
                if (ReferenceEquals(handles[i], handles[j]))
                {
                    string what = j < FirstOutputRegion ? "the input" : "the output";
                    throw new ArgumentException(
                        $"{RegionNames[i]} is the same buffer as {what} {RegionNames[j]}: outputs must not share memory with inputs or with other outputs.",
                        RegionNames[i]);
                }
            }
        }

        // ---- Reference the session and every buffer for the duration of the call, then call. ----
        Span<bool> added = stackalloc bool[RegionCount];
        bool sessionAdded = false;
        try
        {
            AddRef(ref sessionAdded);
            for (int i = 0; i < RegionCount; i++)
            {
                if (handles[i] is { } handle)
                {
                    try
                    {
                        handle.DangerousAddRef(ref added[i]);
                    }
                    catch (ObjectDisposedException)
                    {
                        throw new ObjectDisposedException(RegionNames[i], $"The device buffer {RegionNames[i]} has been disposed.");
                    }
                }
            }

            circleloss_problem problem = _problemTemplate;
            problem.dtype = typeof(T) == typeof(float) ? circleloss_dtype.CIRCLELOSS_DTYPE_FLOAT32 : circleloss_dtype.CIRCLELOSS_DTYPE_FLOAT64;
            problem.memory = circleloss_memory.CIRCLELOSS_MEMORY_DEVICE;
            problem.n = n;
            problem.d = call.Dimension;
            problem.m = m;
            problem.labels = (int*)Pointer(handles[0]);
            problem.embeddings = Pointer(handles[1]);
            problem.sample_weights = Pointer(handles[2]);
            problem.ref_labels = (int*)Pointer(handles[3]);
            problem.ref_embeddings = Pointer(handles[4]);
            problem.upstream = Pointer(handles[5]);

            circleloss_forward_output forward = _forwardTemplate;
            forward.loss = Pointer(handles[7]);
            forward.per_sample_loss = Pointer(handles[8]);
            forward.mask = (byte*)Pointer(handles[9]);
            forward.saved_state = Pointer(handles[10]);

            circleloss_gradient_output gradient = _gradientTemplate;
            gradient.grad_embeddings = Pointer(handles[11]);
            gradient.grad_ref_embeddings = Pointer(handles[12]);

            circleloss_options options = _nativeOptions;
            circleloss_session* session = _session.Session;
            CallNative(operation, session, &options, &problem, &forward, &gradient, Pointer(handles[6]), null);

            // The ABI does not promise that a device computation has finished when it returns (this provider's
            // has): wait for it, so that the outputs are complete on return whatever reads them next.
            circleloss_status status = NativeMethods.circleloss_session_synchronize(session);
            if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
            {
                throw Failure(status, "circleloss_session_synchronize");
            }
        }
        finally
        {
            for (int i = 0; i < RegionCount; i++)
            {
                if (added[i])
                {
                    handles[i]!.DangerousRelease();
                }
            }

            if (sessionAdded)
            {
                _session.DangerousRelease();
            }
        }
    }

    /// <summary>The buffer's allocation after checking that this Circle created it and that it is not disposed; null
    /// for null.</summary>
    private DeviceMemoryHandle? Owned<T>(DeviceBuffer<T>? buffer, int region)
        where T : unmanaged
    {
        if (buffer is null)
        {
            return null;
        }

        string name = RegionNames[region];
        if (!ReferenceEquals(buffer.Circle, this))
        {
            throw new ArgumentException(
                $"{name} was created by another Circle: a device buffer can be used only with the Circle that created it.", name);
        }

        if (buffer.IsDisposed)
        {
            throw new ObjectDisposedException(name, $"The device buffer {name} has been disposed.");
        }

        return buffer.Handle;
    }

    private static void* Pointer(DeviceMemoryHandle? handle) => handle is null ? null : handle.Pointer;
}
