using System;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace CircleLoss.Interop.Native;

/// <summary>Turns native status codes into the façade's exceptions (the table is in Exceptions.cs).</summary>
internal static unsafe partial class NativeErrors
{
    /// <summary>Decodes a NUL-terminated UTF-8 string the library owns; the library's pointer is not kept.</summary>
    internal static string Text(byte* text) => text == null ? string.Empty : Marshal.PtrToStringUTF8((IntPtr)text) ?? string.Empty;

    /// <summary>The thread-local message of the last failed call; read it right after the failure, on the same thread.</summary>
    internal static string LastError() => Text(NativeMethods.circleloss_last_error());

    internal static string StatusName(circleloss_status status) => Text(NativeMethods.circleloss_status_name(status));

    /// <summary>True for the statuses that mean the caller passed something wrong (logged at Debug, not Error).</summary>
    internal static bool IsCallerError(circleloss_status status) => status is circleloss_status.CIRCLELOSS_STATUS_INVALID_ARGUMENT
        or circleloss_status.CIRCLELOSS_STATUS_NON_FINITE_INPUT or circleloss_status.CIRCLELOSS_STATUS_SIZE_OVERFLOW;

    /// <summary>Builds the exception for a failed call. <paramref name="nativeMessage"/> is circleloss_last_error's text.</summary>
    internal static Exception Create(circleloss_status status, string function, string nativeMessage)
    {
        string statusName = StatusName(status);
        string message = (nativeMessage.Length == 0 ? "(no message)" : nativeMessage) + $" [{function}: {statusName}]";
        return status switch
        {
            circleloss_status.CIRCLELOSS_STATUS_INVALID_ARGUMENT or circleloss_status.CIRCLELOSS_STATUS_SIZE_OVERFLOW =>
                new CircleLossArgumentException(message, ParameterName(nativeMessage), (CircleLossStatus)status, nativeMessage),
            circleloss_status.CIRCLELOSS_STATUS_NON_FINITE_INPUT =>
                new CircleLossNonFiniteInputException(message, ParameterName(nativeMessage), nativeMessage),
            circleloss_status.CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE => new CircleLossBackendUnavailableException(message, nativeMessage),
            circleloss_status.CIRCLELOSS_STATUS_OUT_OF_MEMORY => new CircleLossOutOfMemoryException(message, nativeMessage),
            circleloss_status.CIRCLELOSS_STATUS_DEVICE_ERROR => new CircleLossDeviceException(message, nativeMessage),
            _ => new CircleLossException(message, Enum.IsDefined((CircleLossStatus)status) ? (CircleLossStatus)status : CircleLossStatus.InternalError, nativeMessage),
        };
    }

    /// <summary>
    /// The façade's parameter that a native message names ("problem-&gt;ref_embeddings has a non-finite value
    /// ..." → refEmbeddings), or null when it names none or several.
    /// </summary>
    internal static string? ParameterName(string nativeMessage)
    {
        string? found = null;
        foreach (Match match in NativeNameRegex().Matches(nativeMessage))
        {
            string? name = match.Groups["owner"].Value switch
            {
                "options" or "config" => "options",
                _ => match.Groups["field"].Value switch
                {
                    "labels" => "labels",
                    "embeddings" => "embeddings",
                    "ref_labels" => "refLabels",
                    "ref_embeddings" => "refEmbeddings",
                    "sample_weights" => "sampleWeights",
                    "upstream" => "upstream",
                    "saved_state" => "savedState",
                    "loss" => "loss",
                    "per_sample_loss" => "perSampleLoss",
                    "mask" => "mask",
                    "grad_embeddings" => "gradEmbeddings",
                    "grad_ref_embeddings" => "gradRefEmbeddings",
                    _ => null,
                },
            };

            if (name is null)
            {
                continue;
            }

            if (found is not null && found != name)
            {
                return null;
            }

            found = name;
        }

        return found;
    }

    // "problem->sample_weights", "options->gamma", "gradient_output->grad_embeddings", "saved_state[3]".
    [GeneratedRegex(@"(?:(?<owner>problem|options|config|forward_output|gradient_output|output)->(?<field>\w+))|(?<field>saved_state)\b")]
    private static partial Regex NativeNameRegex();
}
