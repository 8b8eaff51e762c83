using System;
using System.Collections.Concurrent;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace CircleLoss.Interop.Tests.Infrastructure;

internal sealed record LogEntry(LogLevel Level, EventId EventId, string Message);

/// <summary>An <see cref="ILogger"/> that records what it is given.</summary>
internal sealed class TestLogger : ILogger
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public LogEntry[] Entries => _entries.ToArray();

    public LogEntry[] AtOrAbove(LogLevel level) => Entries.Where(e => e.Level >= level).ToArray();

    public void Clear() => _entries.Clear();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue(new LogEntry(logLevel, eventId, formatter(state, exception)));
}
