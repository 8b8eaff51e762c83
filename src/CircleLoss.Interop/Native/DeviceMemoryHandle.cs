using System;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace CircleLoss.Interop.Native;

/// <summary>
/// Owns one allocation of device memory (<c>circleloss_device_alloc</c>) on one native session, and a
/// reference to that session (<see cref="System.Runtime.InteropServices.SafeHandle.DangerousAddRef"/>) for as
/// long as the allocation lives: the session cannot be destroyed before its memory is freed, whichever of
/// the two is disposed or finalised first, and the memory is always freed on the session it came from.
/// </summary>
/// <remarks>
/// Released by <see cref="System.Runtime.InteropServices.SafeHandle.Dispose()"/> or by the finaliser: waits
/// for the session's queued work (<c>circleloss_session_synchronize</c>, so no queued kernel or copy still
/// uses the memory), frees it (<c>circleloss_device_free</c>), then drops the session reference, which
/// destroys the session when its owner was disposed before. Operations on the memory hold a reference to
/// this handle, so a Dispose racing with them frees the memory only after they have returned.
/// </remarks>
internal sealed unsafe class DeviceMemoryHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private static long s_allocated;
    private static long s_freed;

    // Set, with a reference added, exactly when the handle becomes valid; read by ReleaseHandle only.
    private SessionHandle? _session;

    public DeviceMemoryHandle()
        : base(ownsHandle: true)
    {
    }

    /// <summary>Allocations made since the process started (diagnostics and tests).</summary>
    internal static long AllocatedCount => Interlocked.Read(ref s_allocated);

    /// <summary>Allocations freed since the process started, by Dispose or by the finaliser (diagnostics and tests).</summary>
    internal static long FreedCount => Interlocked.Read(ref s_freed);

    /// <summary>The device address (valid while a reference to this handle is held).</summary>
    internal void* Pointer => (void*)handle;

    /// <summary>The session the memory belongs to (alive while this handle is valid).</summary>
    internal SessionHandle Session => _session ?? throw new InvalidOperationException("The device memory handle was never allocated.");

    /// <summary>
    /// Allocates <paramref name="bytes"/> on the session's device. On failure returns null with the status and
    /// the native message (read on this thread right after the failure). Throws
    /// <see cref="ObjectDisposedException"/> when the session is already closed.
    /// </summary>
    internal static DeviceMemoryHandle? Allocate(SessionHandle session, ulong bytes, out circleloss_status status, out NativeError error)
    {
        bool added = false;
        try
        {
            session.DangerousAddRef(ref added); // the session stays open during the call
            void* pointer = null;
            status = NativeMethods.circleloss_device_alloc(&pointer, session.Session, bytes);
            if (status != circleloss_status.CIRCLELOSS_STATUS_OK || pointer == null)
            {
                error = NativeErrors.LastError();
                if (status == circleloss_status.CIRCLELOSS_STATUS_OK)
                {
                    // Defence in depth: the ABI promises a pointer on success.
                    status = circleloss_status.CIRCLELOSS_STATUS_INTERNAL_ERROR;
                    error = new NativeError("circleloss_device_alloc returned OK but no pointer", string.Empty);
                }

                return null;
            }

            error = default;
            return Adopt(session, (IntPtr)pointer);
        }
        finally
        {
            if (added)
            {
                session.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Takes ownership of device memory at <paramref name="address"/> that belongs to <paramref name="session"/>: the
    /// handle frees it with <c>circleloss_device_free</c> and holds a reference on the session until then.
    /// </summary>
    internal static DeviceMemoryHandle Adopt(SessionHandle session, IntPtr address)
    {
        var result = new DeviceMemoryHandle();
        bool added = false;
        session.DangerousAddRef(ref added);
        result._session = session;
        result.SetHandle(address);
        Interlocked.Increment(ref s_allocated);
        return result;
    }

    protected override bool ReleaseHandle()
    {
        SessionHandle? session = _session;
        if (session is null)
        {
            return true;
        }

        circleloss_session* native = session.Session;
        // The session's work (a computation or copy another thread queued) may still use this memory.
        circleloss_status synchronized = NativeMethods.circleloss_session_synchronize(native);
        circleloss_status freed = NativeMethods.circleloss_device_free(native, (void*)handle);
        Interlocked.Increment(ref s_freed);
        _session = null;
        session.DangerousRelease();
        return synchronized == circleloss_status.CIRCLELOSS_STATUS_OK && freed == circleloss_status.CIRCLELOSS_STATUS_OK;
    }
}
