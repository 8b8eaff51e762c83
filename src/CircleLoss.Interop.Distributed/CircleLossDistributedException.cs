using System;
using System.Collections.Generic;
using System.Linq;

namespace CircleLoss.Interop.Distributed;

/// <summary>A failure on one rank and what it said.</summary>
/// <param name="Rank">The rank that failed.</param>
/// <param name="Message">Its exception's type and message.</param>
public sealed record RankFailure(int Rank, string Message);

/// <summary>
/// A distributed computation failed on one or more ranks. Every rank throws it, with the same list of failures, at
/// the same point of the call: the ranks agree on the failure before the next collective, so none is left waiting.
/// On a rank that failed itself, <see cref="Exception.InnerException"/> is its own exception.
/// </summary>
public sealed class CircleLossDistributedException : CircleLossException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public CircleLossDistributedException()
        : this("The distributed circle loss failed on another rank.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CircleLossDistributedException(string message)
        : base(message)
    {
        Failures = [];
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public CircleLossDistributedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Failures = [];
    }

    /// <summary>Creates the exception every rank throws for the failures of one step.</summary>
    /// <param name="step">The step of the computation that failed (for the message).</param>
    /// <param name="size">The number of ranks.</param>
    /// <param name="failures">The ranks that failed and their messages.</param>
    /// <param name="localFailure">This rank's own exception, if it failed.</param>
    public CircleLossDistributedException(string step, int size, IReadOnlyList<RankFailure> failures, Exception? localFailure)
        : base(Describe(step, size, failures), localFailure ?? new InvalidOperationException(Describe(step, size, failures)))
    {
        Failures = failures;
    }

    /// <summary>The ranks that failed, in rank order, with their messages.</summary>
    public IReadOnlyList<RankFailure> Failures { get; }

    private static string Describe(string step, int size, IReadOnlyList<RankFailure> failures)
    {
        string ranks = string.Join(", ", failures.Select(f => f.Rank));
        string details = string.Join(" | ", failures.Select(f => $"rank {f.Rank}: {f.Message}"));
        return $"The distributed circle loss failed in its {step} on rank(s) {ranks} of {size}; every rank throws this exception. {details}";
    }
}
