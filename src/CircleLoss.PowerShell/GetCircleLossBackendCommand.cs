using System;
using System.Management.Automation;
using System.Text.RegularExpressions;
using CircleLoss.Interop;

namespace CircleLoss.PowerShell;

/// <summary>
/// <c>Get-CircleLossBackend</c>: the native library's version and path, the CPU backend's threads, GEMM kernel and
/// CPU features, and whether CUDA can be used here (the devices, or why not).
/// </summary>
[Cmdlet(VerbsCommon.Get, "CircleLossBackend")]
[OutputType(typeof(CircleLossBackendInfo))]
public sealed partial class GetCircleLossBackendCommand : PSCmdlet
{
    /// <inheritdoc />
    protected override void EndProcessing()
    {
        try
        {
            CircleLossLibrary.Initialize();
            BackendAvailability cpu = CircleLossLibrary.QueryBackend(Backend.Cpu);
            BackendAvailability cuda = CircleLossLibrary.QueryBackend(Backend.Cuda);
            WriteVerbose($"Native library loaded from {CircleLossLibrary.LoadedFrom}");
            WriteObject(new CircleLossBackendInfo
            {
                ModuleVersion = typeof(GetCircleLossBackendCommand).Assembly.GetName().Version?.ToString(3) ?? "",
                LibraryVersion = CircleLossLibrary.VersionString,
                BindingsVersion = CircleLossLibrary.BindingsVersion.ToString(3),
                LibraryPath = CircleLossLibrary.LibraryPath,
                CpuDetail = cpu.Detail,
                CpuFeatures = ParseFeatures(cpu.Detail),
                CpuThreads = ParseThreads(cpu.Detail),
                CudaAvailable = cuda.IsAvailable,
                CudaDetail = cuda.Detail,
                CudaUnavailableReason = cuda.IsAvailable ? null : cuda.Detail,
                AutoSelects = cuda.IsAvailable ? Backend.Cuda : Backend.Cpu,
            });
        }
        catch (Exception e) when (Errors.IsReportable(e))
        {
            ThrowTerminatingError(Errors.FromException(e, null));
        }
    }

    /// <summary>The features after "CPU features:" in the library's description (empty when it does not list them).</summary>
    internal static string[] ParseFeatures(string detail)
    {
        Match match = FeaturesPattern().Match(detail);
        return match.Success
            ? match.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
    }

    private static int ParseThreads(string detail)
    {
        Match match = ThreadsPattern().Match(detail);
        return match.Success && int.TryParse(match.Groups[1].Value, out int threads) ? threads : 0;
    }

    [GeneratedRegex(@"CPU features:\s*([^;]*)")]
    private static partial Regex FeaturesPattern();

    [GeneratedRegex(@"(\d+) hardware thread")]
    private static partial Regex ThreadsPattern();
}
