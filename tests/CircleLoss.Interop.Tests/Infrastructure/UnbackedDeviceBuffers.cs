using System;
using CircleLoss.Interop.Native;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>
/// Device buffers for tests of the façade on machines without a device: a buffer at an address that is never
/// dereferenced, on a CPU session, which refuses every device pointer (copies and frees answer BACKEND_UNAVAILABLE,
/// device computations INVALID_ARGUMENT) before touching it. The handle is the product's own (adopted memory holds a
/// session reference like an allocation), so the checks, the reference counting and the release paths are real.
/// </summary>
internal static class UnbackedDeviceBuffers
{
    private static readonly IntPtr NeverDereferenced = 0x10000;

    public static DeviceBuffer<T> CreateUnbackedDeviceBuffer<T>(this Circle circle, int length)
        where T : unmanaged
    {
        if (circle.Backend != Backend.Cpu)
        {
            throw new InvalidOperationException("Unbacked device buffers are for CPU sessions only, which never dereference them.");
        }

        return new DeviceBuffer<T>(circle, DeviceMemoryHandle.Adopt(circle.Handle, NeverDereferenced), length);
    }
}
