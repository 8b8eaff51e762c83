using System;
using CircleLoss.Interop.Native;

namespace CircleLoss.Interop;

/// <summary>
/// An array of <typeparamref name="T"/> in the memory of the CUDA device of one <see cref="Interop.Circle"/>, so
/// that repeated calls keep their inputs and outputs on the device instead of copying them between host and
/// device every time. Create it with <see cref="Circle.CreateDeviceBuffer{T}(int)"/> (or
/// <see cref="Circle.CreateDeviceBuffer{T}(ReadOnlySpan{T})"/>), fill it with <see cref="CopyFrom"/>, pass it to
/// the <see cref="Circle"/> overloads that take device buffers, read it with <see cref="CopyTo(Span{T})"/>, and
/// dispose it.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/> (embeddings, weights, upstream gradients,
/// losses, saved state, gradients), <see cref="int"/> (labels) or <see cref="bool"/> (the output mask, one
/// byte per value: 1 where the loss is positive).</typeparam>
/// <remarks>
/// <para><b>Lifetime.</b> The memory is allocated on the <see cref="Circle"/>'s native session and freed on that
/// session by <see cref="Dispose"/> or, when the buffer is never disposed, by its finaliser. A buffer keeps the
/// session alive: disposing the <see cref="Circle"/> first is safe — the <see cref="Circle"/> refuses new
/// computations at once, the buffer can still be copied from and to, and the native session is destroyed when
/// the last of its buffers has been freed. Before the memory is freed the session's queued work is waited for,
/// so no computation or copy still uses it. Nothing the buffer hands out points into device memory: the
/// copy methods copy.</para>
/// <para><b>Threads.</b> All members are thread-safe in the sense that they never corrupt memory: a
/// <see cref="Dispose"/> racing with a copy, or with a computation that uses the buffer, frees the memory only
/// after that operation has returned, and operations that start after <see cref="Dispose"/> throw
/// <see cref="ObjectDisposedException"/>. Concurrent writes to the same buffer (two copies into it, or a copy
/// into a buffer a computation is reading or writing) leave its contents unspecified, as they would for an
/// array.</para>
/// <para><b>Ownership.</b> A buffer can be used only with the <see cref="Circle"/> that created it (its device
/// and stream); passing it to another throws <see cref="ArgumentException"/>.</para>
/// </remarks>
public sealed unsafe class DeviceBuffer<T> : IDisposable
    where T : unmanaged
{
    private readonly DeviceMemoryHandle _handle;
    private volatile bool _disposed;

    internal DeviceBuffer(Circle circle, DeviceMemoryHandle handle, int length)
    {
        Circle = circle;
        _handle = handle;
        Length = length;
    }

    /// <summary>The <see cref="Interop.Circle"/> that created the buffer; the only one it can be used with.</summary>
    public Circle Circle { get; }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>The size in bytes (<see cref="Length"/> · the size of <typeparamref name="T"/>).</summary>
    public long ByteLength => (long)Length * sizeof(T);

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The native allocation (the Circle's device calls hold a reference to it while they run).</summary>
    internal DeviceMemoryHandle Handle => _handle;

    /// <summary>Copies <paramref name="source"/> from host memory into the whole buffer and waits for the copy to
    /// finish. The copy runs on the session's stream, so it is ordered after the computations already queued.</summary>
    /// <param name="source"><see cref="Length"/> values; used only during the call.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> does not hold <see cref="Length"/> values.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    /// <exception cref="CircleLossDeviceException">The CUDA runtime reported an error.</exception>
    public void CopyFrom(ReadOnlySpan<T> source)
    {
        RequireLength(source.Length, nameof(source));
        fixed (T* pointer = source)
        {
            Copy(null, pointer, circleloss_copy_kind.CIRCLELOSS_COPY_HOST_TO_DEVICE);
        }
    }

    /// <summary>Copies the whole buffer into <paramref name="destination"/> in host memory, after the work already
    /// queued on the session (the computation that wrote the buffer) has finished.</summary>
    /// <param name="destination">Receives <see cref="Length"/> values; used only during the call. Written only on
    /// success.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold <see cref="Length"/> values.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    /// <exception cref="CircleLossDeviceException">The CUDA runtime reported an error.</exception>
    public void CopyTo(Span<T> destination)
    {
        RequireLength(destination.Length, nameof(destination));
        fixed (T* pointer = destination)
        {
            Copy(pointer, null, circleloss_copy_kind.CIRCLELOSS_COPY_DEVICE_TO_HOST);
        }
    }

    /// <summary>Copies the whole buffer into another device buffer of the same <see cref="Interop.Circle"/>, on the
    /// device, and waits for the copy to finish.</summary>
    /// <param name="destination">A buffer of the same length, created by the same <see cref="Interop.Circle"/>,
    /// not this one.</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is this buffer, belongs to another
    /// <see cref="Interop.Circle"/>, or has another length.</exception>
    /// <exception cref="ObjectDisposedException">One of the buffers has been disposed.</exception>
    /// <exception cref="CircleLossDeviceException">The CUDA runtime reported an error.</exception>
    public void CopyTo(DeviceBuffer<T> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (ReferenceEquals(destination, this))
        {
            throw new ArgumentException("destination is this buffer.", nameof(destination));
        }

        if (!ReferenceEquals(destination.Circle, Circle))
        {
            throw new ArgumentException("destination was created by another Circle: device-to-device copies stay within one Circle's session.", nameof(destination));
        }

        RequireLength(destination.Length, nameof(destination));
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination._disposed)
        {
            throw new ObjectDisposedException(nameof(destination), "The device buffer destination has been disposed.");
        }

        bool added = false;
        try
        {
            AddRef(destination._handle, ref added, nameof(destination));
            Copy(destination._handle.Pointer, null, circleloss_copy_kind.CIRCLELOSS_COPY_DEVICE_TO_DEVICE);
        }
        finally
        {
            if (added)
            {
                destination._handle.DangerousRelease();
            }
        }
    }

    /// <summary>Copies the buffer into a new host array (see <see cref="CopyTo(Span{T})"/>).</summary>
    /// <returns>A new array of <see cref="Length"/> values that the caller owns.</returns>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    /// <exception cref="CircleLossDeviceException">The CUDA runtime reported an error.</exception>
    public T[] ToArray()
    {
        var result = new T[Length];
        CopyTo(result);
        return result;
    }

    /// <summary>Frees the device memory (after any operation running on it has returned, and after the session's
    /// queued work has finished). Calling it again does nothing.</summary>
    public void Dispose()
    {
        _disposed = true;
        _handle.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"DeviceBuffer<{typeof(T).Name}>(length={Length}{(IsDisposed ? ", disposed" : string.Empty)})";

    /// <summary>Whether <typeparamref name="T"/> is one of the element types a device buffer may hold.</summary>
    internal static bool IsSupportedElementType =>
        typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(int) || typeof(T) == typeof(bool);

    /// <summary>One copy between this buffer and <paramref name="destination"/> or <paramref name="source"/> (the other
    /// side is this buffer's memory), holding a reference to the buffer while it runs.</summary>
    private void Copy(void* destination, void* source, circleloss_copy_kind kind)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool added = false;
        try
        {
            AddRef(_handle, ref added, null);
            if (Length == 0)
            {
                return;
            }

            void* device = _handle.Pointer;
            circleloss_status status = NativeMethods.circleloss_device_copy(
                _handle.Session.Session,
                destination == null ? device : destination,
                source == null ? device : source,
                (ulong)ByteLength,
                kind);
            if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
            {
                throw Circle.Failure(status, "circleloss_device_copy");
            }
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    private static void AddRef(DeviceMemoryHandle handle, ref bool added, string? name)
    {
        try
        {
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(name ?? $"DeviceBuffer<{typeof(T).Name}>",
                $"The device buffer{(name is null ? string.Empty : " " + name)} has been disposed.");
        }
    }

    private void RequireLength(int length, string name)
    {
        if (length != Length)
        {
            throw new ArgumentException($"{name} must hold Length = {Length} values (the buffer's length), but holds {length}.", name);
        }
    }
}
