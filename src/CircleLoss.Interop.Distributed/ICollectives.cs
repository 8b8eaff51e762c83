using System;
using System.Diagnostics.CodeAnalysis;

namespace CircleLoss.Interop.Distributed;

/// <summary>
/// The collective operations a distributed loss needs, over a fixed group of processes (ranks 0 to
/// <see cref="Size"/> − 1). Every rank calls the same operations in the same order with consistent counts; each call
/// returns when this rank's part is complete. <see cref="OpenMpiCollectives"/> implements them with Open MPI; a
/// program with its own transport implements this interface instead.
/// </summary>
/// <remarks>Element types: <see cref="float"/>, <see cref="double"/>, <see cref="int"/>, <see cref="long"/> and
/// <see cref="byte"/> (implementations throw <see cref="NotSupportedException"/> for others; sums only for the
/// numeric types).</remarks>
public interface ICollectives
{
    /// <summary>This process's rank, 0 ≤ Rank &lt; Size.</summary>
    int Rank { get; }

    /// <summary>The number of processes.</summary>
    int Size { get; }

    /// <summary>Gathers every rank's <paramref name="local"/> into <paramref name="gathered"/>, in rank order
    /// (all-gather with unequal counts).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="local">This rank's elements; its length is <c>counts[Rank]</c>.</param>
    /// <param name="gathered">Receives every rank's elements, rank 0's first; its length is the sum of <paramref name="counts"/>.</param>
    /// <param name="counts">The number of elements of each rank (<see cref="Size"/> values, the same on every rank).</param>
    void AllGather<T>(ReadOnlySpan<T> local, Span<T> gathered, ReadOnlySpan<int> counts)
        where T : unmanaged;

    /// <summary>Replaces <paramref name="values"/> by their element-wise sum over the ranks (all-reduce).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="values">This rank's values (the same length on every rank); receives the sums.</param>
    void AllReduceSum<T>(Span<T> values)
        where T : unmanaged;

    /// <summary>Sums <paramref name="contributions"/> element-wise over the ranks and gives each rank its block of the
    /// sum (reduce-scatter with unequal counts): rank r receives elements <c>[counts[0] + … + counts[r − 1],
    /// … + counts[r])</c>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="contributions">This rank's contribution to every block; its length is the sum of <paramref name="counts"/>.</param>
    /// <param name="local">Receives this rank's block of the sum; its length is <c>counts[Rank]</c>.</param>
    /// <param name="counts">The block length of each rank (<see cref="Size"/> values, the same on every rank).</param>
    void ReduceScatterSum<T>(ReadOnlySpan<T> contributions, Span<T> local, ReadOnlySpan<int> counts)
        where T : unmanaged;

    /// <summary>Ends every process of the group, after writing <paramref name="message"/> to standard error: for a
    /// failure the other ranks cannot learn about by a collective (they would wait forever).</summary>
    /// <param name="errorCode">The exit code the job reports.</param>
    /// <param name="message">What went wrong, for the job's log.</param>
    [DoesNotReturn]
    void Abort(int errorCode, string message);
}
