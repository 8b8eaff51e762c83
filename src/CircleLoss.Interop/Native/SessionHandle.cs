using System;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace CircleLoss.Interop.Native;

/// <summary>
/// Owns one native session (<c>circleloss_session*</c>). Released by <see cref="System.Runtime.InteropServices.SafeHandle.Dispose()"/> or,
/// when its owner was never disposed, by the finaliser. Calls hold a reference
/// (<see cref="System.Runtime.InteropServices.SafeHandle.DangerousAddRef"/>) so that a Dispose racing with
/// a call destroys the session only after the call has returned.
/// </summary>
internal sealed unsafe class SessionHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private static long s_created;
    private static long s_released;

    public SessionHandle()
        : base(ownsHandle: true)
    {
    }

    /// <summary>Sessions created since the process started (diagnostics).</summary>
    internal static long CreatedCount => Interlocked.Read(ref s_created);

    /// <summary>Sessions destroyed since the process started, by Dispose or by the finaliser (diagnostics).</summary>
    internal static long ReleasedCount => Interlocked.Read(ref s_released);

    internal circleloss_session* Session => (circleloss_session*)handle;

    /// <summary>Creates the native session; on failure returns the status and the native message.</summary>
    internal static SessionHandle? Create(circleloss_session_config* config, out circleloss_status status, out NativeError error)
    {
        var result = new SessionHandle();
        circleloss_session* session = null;
        status = NativeMethods.circleloss_session_create(&session, config);
        if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
        {
            error = NativeErrors.LastError();
            result.SetHandleAsInvalid();
            return null;
        }

        error = default;
        result.SetHandle((IntPtr)session);
        Interlocked.Increment(ref s_created);
        return result;
    }

    protected override bool ReleaseHandle()
    {
        circleloss_status status = NativeMethods.circleloss_session_destroy((circleloss_session*)handle);
        Interlocked.Increment(ref s_released);
        return status == circleloss_status.CIRCLELOSS_STATUS_OK;
    }
}
