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

    // The arguments the library names (circleloss_last_error_argument) as this module's parameters and error ids:
    // the library checks the options and values, the cmdlets only say which of their parameters it rejected.
    private static readonly Dictionary<string, (string Parameter, string ErrorId)> NativeArguments = new(StringComparer.Ordinal)
    {
        ["options->gamma"] = ("Gamma", "InvalidGamma"),
        ["options->margin"] = ("Margin", "InvalidMargin"),
        ["options->reduction"] = ("Reduction", "InvalidReduction"),
        ["options->gradient_mode"] = ("GradientMode", "InvalidGradientMode"),
        ["config->backend"] = ("Backend", "InvalidBackend"),
        ["config->device_index"] = ("DeviceIndex", "InvalidDeviceIndex"),
        ["config->num_threads"] = ("ThreadCount", "InvalidThreadCount"),
        ["problem->embeddings"] = ("Embedding", "NonFiniteInput"),
        ["problem->ref_embeddings"] = ("ReferenceEmbedding", "NonFiniteInput"),
        ["problem->sample_weights"] = ("SampleWeight", "InvalidSampleWeight"),
        ["problem->upstream"] = ("Upstream", "NonFiniteInput"),
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
    /// <param name="exception">What the façade threw.</param>
    /// <param name="target">The error record's target object.</param>
    /// <param name="display">How the cmdlet calls one of its parameters in messages ("-Embedding"); "-" + name when null.</param>
    /// <param name="context">Appended to messages about values (which batch they were in); empty when null.</param>
    public static ErrorRecord FromException(Exception exception, object? target, Func<string, string>? display = null, string? context = null)
    {
        display ??= parameter => "-" + parameter;
        switch (exception)
        {
            case CircleLossArgumentException e when NativeArguments.TryGetValue(e.NativeArgument, out var known):
            {
                string message = $"{display(known.Parameter)}: {e.NativeMessage}{(e.NativeArgument.StartsWith("problem->", StringComparison.Ordinal) ? context : null)}";
                return new ErrorRecord(e, known.ErrorId, ErrorCategory.InvalidArgument, target ?? known.Parameter)
                {
                    ErrorDetails = new ErrorDetails(message),
                };
            }

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
                    ErrorDetails = new ErrorDetails($"{display(parameter)}: {MessageWithoutParameter(e)}"),
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
