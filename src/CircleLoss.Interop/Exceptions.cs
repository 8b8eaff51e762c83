using System;
using System.Collections.Generic;

namespace CircleLoss.Interop;

// How native status codes become exceptions (one table, applied to every call):
//
//   native status           exception                                    base type
//   INVALID_ARGUMENT        CircleLossArgumentException                  ArgumentException
//   NON_FINITE_INPUT        CircleLossNonFiniteInputException            CircleLossArgumentException
//   SIZE_OVERFLOW           CircleLossArgumentException                  ArgumentException
//   UNSUPPORTED_VERSION     CircleLossException                          Exception
//   INVALID_SESSION         CircleLossException                          Exception
//   BACKEND_UNAVAILABLE     CircleLossBackendUnavailableException        CircleLossException
//   OUT_OF_MEMORY           CircleLossOutOfMemoryException               OutOfMemoryException
//   DEVICE_ERROR            CircleLossDeviceException                    CircleLossException
//   INTERNAL_ERROR, other   CircleLossException                          Exception
//
// Every one of them carries Status and NativeMessage. Problems the façade finds itself, before calling
// the library, are ArgumentException / ArgumentNullException / ArgumentOutOfRangeException naming the
// parameter; use after Dispose is ObjectDisposedException; a library that cannot be loaded is
// CircleLossNativeLibraryException (a DllNotFoundException).

/// <summary>
/// An error reported by the native library. Derived types: <see cref="CircleLossBackendUnavailableException"/>
/// and <see cref="CircleLossDeviceException"/>. Argument errors the library reports are
/// <see cref="CircleLossArgumentException"/> (an <see cref="ArgumentException"/>), and lack of memory is
/// <see cref="CircleLossOutOfMemoryException"/> (an <see cref="OutOfMemoryException"/>, like <see cref="InsufficientMemoryException"/>); those carry
/// <c>Status</c> and <c>NativeMessage</c> too.
/// </summary>
public class CircleLossException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public CircleLossException()
        : this("The CircleLoss native library reported an error.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CircleLossException(string message)
        : this(message, CircleLossStatus.InternalError, message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public CircleLossException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = CircleLossStatus.InternalError;
        NativeMessage = message;
    }

    /// <summary>Creates an exception for a native status and its message.</summary>
    public CircleLossException(string message, CircleLossStatus status, string nativeMessage)
        : base(message)
    {
        Status = status;
        NativeMessage = nativeMessage;
    }

    /// <summary>The native status code.</summary>
    public CircleLossStatus Status { get; }

    /// <summary>The native library's own message (<c>circleloss_last_error</c>).</summary>
    public string NativeMessage { get; }
}

/// <summary>The requested backend cannot run here (native status <c>BACKEND_UNAVAILABLE</c>), for instance
/// <see cref="Backend.Cuda"/> on a machine without a usable CUDA device. The message says why.</summary>
public class CircleLossBackendUnavailableException : CircleLossException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public CircleLossBackendUnavailableException()
        : this("The requested CircleLoss backend is not available.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CircleLossBackendUnavailableException(string message)
        : base(message, CircleLossStatus.BackendUnavailable, message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public CircleLossBackendUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a native message.</summary>
    public CircleLossBackendUnavailableException(string message, string nativeMessage)
        : base(message, CircleLossStatus.BackendUnavailable, nativeMessage)
    {
    }
}

/// <summary>The accelerator's runtime reported an error (native status <c>DEVICE_ERROR</c>).</summary>
public class CircleLossDeviceException : CircleLossException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public CircleLossDeviceException()
        : this("The accelerator's runtime reported an error.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CircleLossDeviceException(string message)
        : base(message, CircleLossStatus.DeviceError, message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public CircleLossDeviceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a native message.</summary>
    public CircleLossDeviceException(string message, string nativeMessage)
        : base(message, CircleLossStatus.DeviceError, nativeMessage)
    {
    }
}

/// <summary>
/// The native library rejected an argument (native status <c>INVALID_ARGUMENT</c> or <c>SIZE_OVERFLOW</c>).
/// <see cref="ArgumentException.ParamName"/> is the façade's parameter when the native message names one.
/// </summary>
public class CircleLossArgumentException : ArgumentException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public CircleLossArgumentException()
        : this("The CircleLoss native library rejected an argument.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CircleLossArgumentException(string message)
        : this(message, null, CircleLossStatus.InvalidArgument, message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public CircleLossArgumentException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = CircleLossStatus.InvalidArgument;
        NativeMessage = message;
        NativeArgument = string.Empty;
    }

    /// <summary>Creates an exception for a native status, naming the parameter when known.</summary>
    public CircleLossArgumentException(string message, string? paramName, CircleLossStatus status, string nativeMessage)
        : this(message, paramName, status, nativeMessage, string.Empty)
    {
    }

    /// <summary>Creates an exception for a native status and the native argument it is about.</summary>
    public CircleLossArgumentException(string message, string? paramName, CircleLossStatus status, string nativeMessage,
        string nativeArgument)
        : base(message, paramName)
    {
        Status = status;
        NativeMessage = nativeMessage;
        NativeArgument = nativeArgument;
    }

    /// <summary>The native status code.</summary>
    public CircleLossStatus Status { get; }

    /// <summary>The native library's own message (<c>circleloss_last_error</c>).</summary>
    public string NativeMessage { get; }

    /// <summary>The C name of the argument the library rejected (<c>circleloss_last_error_argument</c>), such as
    /// <c>options-&gt;gamma</c> or <c>problem-&gt;sample_weights</c>; empty when the failure is about no single
    /// argument. Layers above the façade (the cmdlet, the CLI) map it to their own parameter names.</summary>
    public string NativeArgument { get; }
}

/// <summary>
/// NaN or infinity in the embeddings, reference embeddings, sample weights or upstream gradients (native
/// status <c>NON_FINITE_INPUT</c>). The native message names the first bad row and column;
/// <see cref="ArgumentException.ParamName"/> names the parameter.
/// </summary>
public class CircleLossNonFiniteInputException : CircleLossArgumentException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public CircleLossNonFiniteInputException()
        : this("An input holds NaN or infinity.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CircleLossNonFiniteInputException(string message)
        : base(message, null, CircleLossStatus.NonFiniteInput, message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public CircleLossNonFiniteInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a native message, naming the parameter when known.</summary>
    public CircleLossNonFiniteInputException(string message, string? paramName, string nativeMessage)
        : base(message, paramName, CircleLossStatus.NonFiniteInput, nativeMessage)
    {
    }

    /// <summary>Creates an exception for a native message and the native argument it is about.</summary>
    public CircleLossNonFiniteInputException(string message, string? paramName, string nativeMessage, string nativeArgument)
        : base(message, paramName, CircleLossStatus.NonFiniteInput, nativeMessage, nativeArgument)
    {
    }
}

/// <summary>Host memory, device memory or the configured workspace limit is insufficient (native status
/// <c>OUT_OF_MEMORY</c>). Nothing was written; the <see cref="Circle"/> stays usable.</summary>
public class CircleLossOutOfMemoryException : OutOfMemoryException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public CircleLossOutOfMemoryException()
        : this("The CircleLoss native library ran out of memory.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CircleLossOutOfMemoryException(string message)
        : this(message, message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public CircleLossOutOfMemoryException(string message, Exception innerException)
        : base(message, innerException)
    {
        NativeMessage = message;
    }

    /// <summary>Creates an exception for a native message.</summary>
    public CircleLossOutOfMemoryException(string message, string nativeMessage)
        : base(message)
    {
        NativeMessage = nativeMessage;
    }

    /// <summary>The native status code: always <see cref="CircleLossStatus.OutOfMemory"/>.</summary>
    public CircleLossStatus Status => CircleLossStatus.OutOfMemory;

    /// <summary>The native library's own message (<c>circleloss_last_error</c>).</summary>
    public string NativeMessage { get; }
}

/// <summary>
/// The native library could not be loaded, or the one loaded does not match these bindings.
/// <see cref="Exception.Message"/> lists every path tried, why each failed, and the likely causes;
/// <see cref="Attempts"/> holds the same list.
/// </summary>
public class CircleLossNativeLibraryException : DllNotFoundException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public CircleLossNativeLibraryException()
        : this("The CircleLoss native library could not be loaded.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CircleLossNativeLibraryException(string message)
        : this(message, Array.Empty<string>())
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public CircleLossNativeLibraryException(string message, Exception innerException)
        : base(message, innerException)
    {
        Attempts = Array.Empty<string>();
    }

    /// <summary>Creates an exception with a message and the load attempts.</summary>
    public CircleLossNativeLibraryException(string message, IReadOnlyList<string> attempts)
        : base(message)
    {
        Attempts = attempts;
    }

    /// <summary>Each load attempt: the path (or the probing step) and why it failed.</summary>
    public IReadOnlyList<string> Attempts { get; }
}
