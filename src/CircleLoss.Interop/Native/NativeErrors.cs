using System;
using System.Runtime.InteropServices;

namespace CircleLoss.Interop.Native;

/// <summary>Turns native status codes into the façade's exceptions (the table is in Exceptions.cs).</summary>
internal static unsafe partial class NativeErrors
{
    /// <summary>Decodes a NUL-terminated UTF-8 string the library owns; the library's pointer is not kept.</summary>
    internal static string Text(byte* text) => text == null ? string.Empty : Marshal.PtrToStringUTF8((IntPtr)text) ?? string.Empty;

    /// <summary>The thread-local message and argument of the last failed call; read them right after the failure, on the same thread.</summary>
    internal static NativeError LastError() =>
        new(Text(NativeMethods.circleloss_last_error()), Text(NativeMethods.circleloss_last_error_argument()));

    internal static string StatusName(circleloss_status status) => Text(NativeMethods.circleloss_status_name(status));

    /// <summary>True for the statuses that mean the caller passed something wrong (logged at Debug, not Error).</summary>
    internal static bool IsCallerError(circleloss_status status) => status is circleloss_status.CIRCLELOSS_STATUS_INVALID_ARGUMENT
        or circleloss_status.CIRCLELOSS_STATUS_NON_FINITE_INPUT or circleloss_status.CIRCLELOSS_STATUS_SIZE_OVERFLOW;

    /// <summary>Builds the exception for a failed call from what the library said about it.</summary>
    internal static Exception Create(circleloss_status status, string function, NativeError error)
    {
        string nativeMessage = error.Message;
        string? parameter = ParameterName(error.Argument);
        string statusName = StatusName(status);
        string message = (nativeMessage.Length == 0 ? "(no message)" : nativeMessage) + $" [{function}: {statusName}]";
        return status switch
        {
            circleloss_status.CIRCLELOSS_STATUS_INVALID_ARGUMENT or circleloss_status.CIRCLELOSS_STATUS_SIZE_OVERFLOW =>
                new CircleLossArgumentException(message, parameter, (CircleLossStatus)status, nativeMessage, error.Argument),
            circleloss_status.CIRCLELOSS_STATUS_NON_FINITE_INPUT =>
                new CircleLossNonFiniteInputException(message, parameter, nativeMessage, error.Argument),
            circleloss_status.CIRCLELOSS_STATUS_BACKEND_UNAVAILABLE => new CircleLossBackendUnavailableException(message, nativeMessage),
            circleloss_status.CIRCLELOSS_STATUS_OUT_OF_MEMORY => new CircleLossOutOfMemoryException(message, nativeMessage),
            circleloss_status.CIRCLELOSS_STATUS_DEVICE_ERROR => new CircleLossDeviceException(message, nativeMessage),
            _ => new CircleLossException(message, Enum.IsDefined((CircleLossStatus)status) ? (CircleLossStatus)status : CircleLossStatus.InternalError, nativeMessage),
        };
    }

    /// <summary>
    /// The façade's parameter for the C argument the library rejected (circleloss_last_error_argument: "problem-&gt;ref_embeddings"
    /// → refEmbeddings, "options-&gt;gamma" → options), or null for an argument the façade has no parameter for (such as
    /// problem-&gt;m, which the façade derives) or for none.
    /// </summary>
    internal static string? ParameterName(string nativeArgument)
    {
        int arrow = nativeArgument.IndexOf("->", StringComparison.Ordinal);
        string owner = arrow < 0 ? nativeArgument : nativeArgument[..arrow];
        if (owner is "options" or "config")
        {
            return "options";
        }

        string field = arrow < 0 ? nativeArgument : nativeArgument[(arrow + 2)..];
        return field switch
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
        };
    }
}

/// <summary>What the library said about its last failed call on this thread: the message and the C name of the argument
/// it rejected ("" when none).</summary>
internal readonly record struct NativeError(string Message, string Argument);
