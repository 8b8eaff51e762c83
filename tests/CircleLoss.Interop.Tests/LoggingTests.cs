using System;
using System.Linq;
using CircleLoss.Interop.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit;

namespace CircleLoss.Interop.Tests;

public class LoggingTests
{
    [Fact]
    public void Auto_logs_the_backend_and_a_fallback_to_the_cpu_once()
    {
        var logger = new TestLogger();
        bool cudaUsable = CircleLossLibrary.QueryBackend(Backend.Cuda).IsAvailable;
        using var circle = new Circle(new CircleOptions { Backend = Backend.Auto }, logger);

        LogEntry created = Assert.Single(logger.Entries, e => e.EventId.Name == "SessionCreated");
        Assert.Equal(LogLevel.Debug, created.Level);
        Assert.Contains(circle.Backend.ToString(), created.Message, StringComparison.Ordinal);
        if (cudaUsable)
        {
            Assert.Equal(Backend.Cuda, circle.Backend);
            Assert.Null(circle.FallbackReason);
            Assert.DoesNotContain(logger.Entries, e => e.EventId.Name == "BackendFallback");
        }
        else
        {
            // No CUDA here: the library falls back to the CPU and says why; the façade logs it once.
            Assert.Equal(Backend.Cpu, circle.Backend);
            Assert.False(string.IsNullOrWhiteSpace(circle.FallbackReason));
            LogEntry fallback = Assert.Single(logger.Entries, e => e.EventId.Name == "BackendFallback");
            Assert.Equal(LogLevel.Information, fallback.Level);
            Assert.Contains(circle.FallbackReason!, fallback.Message, StringComparison.Ordinal);
        }

        // Nothing at Information or above per call.
        logger.Clear();
        ReferenceProblem p = RandomCases.Make(1, n: 10, d: 4);
        for (int i = 0; i < 5; i++)
        {
            NativeRun.Float64(circle, p);
            circle.Loss(p.Labels, p.Embeddings.ToSingle(), p.Dimension);
        }

        Assert.Empty(logger.AtOrAbove(LogLevel.Information));
    }

    [Fact]
    public void A_cpu_session_does_not_report_a_fallback()
    {
        var logger = new TestLogger();
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu }, logger);
        Assert.Equal(Backend.Cpu, circle.Backend);
        Assert.Null(circle.FallbackReason);
        Assert.DoesNotContain(logger.Entries, e => e.EventId.Name == "BackendFallback");
        Assert.True(circle.ThreadCount >= 1);
        Assert.False(string.IsNullOrWhiteSpace(circle.Description));
    }

    [Fact]
    public void Rejected_input_is_logged_at_debug_with_the_native_message()
    {
        var logger = new TestLogger();
        using var circle = new Circle(new CircleOptions { Backend = Backend.Cpu }, logger);
        logger.Clear();
        var e = Assert.Throws<CircleLossNonFiniteInputException>(() => circle.Loss([0, 1], [1.0, double.NaN], 1));
        LogEntry entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.Equal("NativeCallRejected", entry.EventId.Name);
        Assert.Contains(e.NativeMessage, entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_that_cannot_be_created_is_logged_as_an_error()
    {
        var logger = new TestLogger();
        Assert.ThrowsAny<Exception>(() => new Circle(new CircleOptions { Backend = Backend.Cpu, ThreadCount = 1_000_000 }, logger));
        LogEntry entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal("SessionCreationFailed", entry.EventId.Name);
        Assert.Contains("num_threads", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_is_logged_at_debug()
    {
        var logger = new TestLogger();
        var circle = new Circle(new CircleOptions { Backend = Backend.Cpu }, logger);
        circle.Dispose();
        circle.Dispose();
        LogEntry entry = Assert.Single(logger.Entries, e => e.EventId.Name == "SessionDisposed");
        Assert.Equal(LogLevel.Debug, entry.Level);
    }
}
