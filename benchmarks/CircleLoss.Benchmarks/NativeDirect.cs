using System;
using System.Runtime.InteropServices;
using CircleLoss.Interop;
using CircleLoss.Interop.Native;

namespace CircleLoss.Benchmarks;

// Benchmark-only direct calls into the same libcircleloss the façade loaded, through the façade's generated bindings
// (CircleLoss.Interop.Native, visible to this project): the direct call that the façade's overhead is measured
// against, and circleloss_measure_product_floor (not exposed by the façade).
internal static unsafe class NativeDirect
{
    /// <summary>Loads the library the façade uses.</summary>
    public static void Register() => CircleLossLibrary.Initialize();

    public static void Check(circleloss_status status, string function)
    {
        if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
        {
            string message = Marshal.PtrToStringUTF8((IntPtr)NativeMethods.circleloss_last_error()) ?? "";
            throw new InvalidOperationException($"{function} failed with status {status}: {message}");
        }
    }

    public static SafeHandle SessionOf(Circle circle) => circle.Handle;

    public static circleloss_status ForwardBackward(circleloss_forward_output* forward, circleloss_gradient_output* gradient, SafeHandle session,
        circleloss_options* options, circleloss_problem* problem) =>
        NativeMethods.circleloss_forward_backward(forward, gradient, (circleloss_session*)session.DangerousGetHandle(), options, problem);

    public static circleloss_status MeasureProductFloor(double* seconds, SafeHandle session, circleloss_problem* problem) =>
        NativeMethods.circleloss_measure_product_floor(seconds, (circleloss_session*)session.DangerousGetHandle(), problem);
}
