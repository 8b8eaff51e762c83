using Microsoft.Extensions.Logging;

namespace CircleLoss.Interop;

/// <summary>
/// The façade's log messages (source-generated). Nothing is logged at Information or above per call:
/// session creation logs the backend (Debug) and, once, a fallback from Auto to the CPU (Information);
/// failed native calls are logged at Debug when the caller's input was rejected (the exception says it all)
/// and at Error when the library or the device failed.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "SessionCreated", Level = LogLevel.Debug,
        Message = "Circle session created on {Backend} (requested {RequestedBackend}, {ThreadCount} threads): {Description}")]
    public static partial void SessionCreated(ILogger logger, Backend backend, Backend requestedBackend, int threadCount, string description);

    [LoggerMessage(EventId = 2, EventName = "BackendFallback", Level = LogLevel.Information,
        Message = "Circle backend Auto fell back to the CPU: {Reason}")]
    public static partial void BackendFallback(ILogger logger, string reason);

    [LoggerMessage(EventId = 3, EventName = "SessionCreationFailed", Level = LogLevel.Error,
        Message = "Could not create a Circle session on backend {Backend}: {Status}: {NativeMessage}")]
    public static partial void SessionCreationFailed(ILogger logger, Backend backend, string status, string nativeMessage);

    [LoggerMessage(EventId = 4, EventName = "NativeCallRejected", Level = LogLevel.Debug,
        Message = "{Function} rejected its input: {Status}: {NativeMessage}")]
    public static partial void NativeCallRejected(ILogger logger, string function, string status, string nativeMessage);

    [LoggerMessage(EventId = 5, EventName = "NativeCallFailed", Level = LogLevel.Error,
        Message = "{Function} failed: {Status}: {NativeMessage}")]
    public static partial void NativeCallFailed(ILogger logger, string function, string status, string nativeMessage);

    [LoggerMessage(EventId = 6, EventName = "SessionDisposed", Level = LogLevel.Debug,
        Message = "Circle session on {Backend} disposed")]
    public static partial void SessionDisposed(ILogger logger, Backend backend);
}
