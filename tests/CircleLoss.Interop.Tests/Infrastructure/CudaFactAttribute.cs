using System;
using Xunit;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>Whether this machine can run CUDA sessions, asked once (<see cref="CircleLossLibrary.QueryBackend"/>).</summary>
internal static class Cuda
{
    private static readonly Lazy<BackendAvailability> Availability = new(() => CircleLossLibrary.QueryBackend(Backend.Cuda));

    public static bool IsAvailable => Availability.Value.IsAvailable;

    public static string Detail => Availability.Value.Detail;
}

/// <summary>
/// A fact that needs a usable CUDA device: reported as skipped, with the library's reason, where
/// <see cref="CircleLossLibrary.QueryBackend"/> says CUDA is unavailable (so a run without a GPU shows how many
/// device tests it did not run, rather than passing them).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!Cuda.IsAvailable)
        {
            Skip = "needs a CUDA device: " + Cuda.Detail;
        }
    }
}
