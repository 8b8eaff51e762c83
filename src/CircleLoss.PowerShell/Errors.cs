using System;
using System.Collections.Generic;
using System.Management.Automation;
using CircleLoss.Interop;

namespace CircleLoss.PowerShell;

/// <summary>
/// Builds the module's error records. Every error the cmdlets write is an <see cref="ErrorRecord"/> with a
/// stable FullyQualifiedErrorId, a category, and a message that names the cmdlet's parameter; no .NET stack
/// trace is ever shown for a bad input.
/// </summary>
internal static class Errors
{
    // The façade's parameter names, as the cmdlets call them.
    private static readonly Dictionary<string, string> ParameterNames = new(StringComparer.Ordinal)
    {
        ["labels"] = "Label",
        ["embeddings"] = "Embedding",
        ["dimension"] = "Embedding",
        ["sampleWeights"] = "SampleWeight",
        ["refLabels"] = "ReferenceLabel",
        ["refEmbeddings"] = "ReferenceEmbedding",
        ["upstream"] = "Upstream",
        ["options"] = "Gamma/Margin/Backend/ThreadCount/DeviceIndex",
        ["backend"] = "Backend",
    };

    /// <summary>A bad argument: category InvalidArgument, the parameter as the target object's name.</summary>
    public static ErrorRecord InvalidArgument(string errorId, string parameter, string message, object? target = null) =>
        new(new ArgumentException(message, parameter), errorId, ErrorCategory.InvalidArgument, target ?? parameter)
        {
            ErrorDetails = new ErrorDetails(message), // the message without .NET's " (Parameter '...')"
        };

    /// <summary>A bad value in one pipeline object: category InvalidArgument, the object as the target.</summary>
    public static ErrorRecord InvalidInputObject(string errorId, string message, object? target) =>
        new(new ArgumentException(message, "InputObject"), errorId, ErrorCategory.InvalidArgument, target)
        {
            ErrorDetails = new ErrorDetails(message),
        };

    /// <summary>Turns what the façade threw into an error record (categories as the module's help lists them).</summary>
    public static ErrorRecord FromException(Exception exception, object? target)
    {
        switch (exception)
        {
            case CircleLossNativeLibraryException e:
                return new ErrorRecord(e, "NativeLibraryUnavailable", ErrorCategory.ResourceUnavailable, target)
                {
                    ErrorDetails = new ErrorDetails(
                        $"The CircleLoss native library ({CircleLossLibrary.NativeLibraryFileName}) could not be loaded. {e.Message}")
                    {
                        RecommendedAction = "Reinstall the module, or set the environment variable " +
                                            $"{CircleLossLibrary.NativeLibraryPathVariable} to the library's file or folder before importing it.",
                    },
                };
            case CircleLossBackendUnavailableException e:
                return new ErrorRecord(e, "BackendUnavailable", ErrorCategory.ResourceUnavailable, target)
                {
                    ErrorDetails = new ErrorDetails($"-Backend: {e.Message}")
                    {
                        RecommendedAction = "Use -Backend Auto (falls back to the CPU) or -Backend Cpu; Get-CircleLossBackend says why CUDA is unavailable.",
                    },
                };
            case CircleLossOutOfMemoryException e:
                return new ErrorRecord(e, "OutOfMemory", ErrorCategory.ResourceUnavailable, target)
                {
                    ErrorDetails = new ErrorDetails($"Not enough memory for this batch: {e.Message}")
                    {
                        RecommendedAction = "Split the input with -BatchSize.",
                    },
                };
            case CircleLossDeviceException e:
                return new ErrorRecord(e, "DeviceError", ErrorCategory.DeviceError, target);
            case ArgumentException e:
            {
                string parameter = e.ParamName is not null && ParameterNames.TryGetValue(e.ParamName, out string? name)
                    ? name
                    : e.ParamName ?? "an argument";
                string errorId = e is CircleLossNonFiniteInputException ? "NonFiniteInput" : "InvalidArgument";
                return new ErrorRecord(e, errorId, ErrorCategory.InvalidArgument, target)
                {
                    ErrorDetails = new ErrorDetails($"-{parameter}: {MessageWithoutParameter(e)}"),
                };
            }

            case InvalidOperationException e:
                return new ErrorRecord(e, "InvalidOperation", ErrorCategory.InvalidOperation, target);
            case CircleLossException e:
                return new ErrorRecord(e, "NativeError", ErrorCategory.NotSpecified, target);
            default:
                return new ErrorRecord(exception, "UnexpectedError", ErrorCategory.NotSpecified, target)
                {
                    ErrorDetails = new ErrorDetails($"{exception.GetType().Name}: {exception.Message}"),
                };
        }
    }

    /// <summary>An exception's message without the " (Parameter 'x')" .NET appends.</summary>
    private static string MessageWithoutParameter(ArgumentException e)
    {
        string message = e.Message;
        string suffix = $" (Parameter '{e.ParamName}')";
        return e.ParamName is not null && message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    /// <summary>Whether an exception is one the cmdlets turn into an error record (not a pipeline stop).</summary>
    public static bool IsReportable(Exception exception) =>
        exception is not (PipelineStoppedException or StackOverflowException or AccessViolationException);
}
