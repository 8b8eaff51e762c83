using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using Microsoft.Extensions.Logging;

namespace CircleLoss.PowerShell;

/// <summary>
/// Receives the façade's log messages and hands them to the cmdlet's verbose and debug streams. A cmdlet
/// may only write from its pipeline thread, so messages are queued and written by <see cref="Flush"/>,
/// which the cmdlet calls on that thread.
/// </summary>
internal sealed class CmdletLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _messages = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _messages.Enqueue((logLevel, "CircleLoss: " + formatter(state, exception)));
    }

    /// <summary>Writes the queued messages: Information and above as verbose, the rest as debug.</summary>
    public void Flush(Cmdlet cmdlet)
    {
        while (_messages.TryDequeue(out var entry))
        {
            if (entry.Level >= LogLevel.Information)
            {
                cmdlet.WriteVerbose(entry.Message);
            }
            else
            {
                cmdlet.WriteDebug(entry.Message);
            }
        }
    }
}
