using System;
using CircleLoss.Interop.Native;

namespace CircleLoss.Interop;

// A batch computed in parts (one process of several, say): the parts' reduction terms combined into the
// batch's loss and divisor by the library's own rule, so that no caller re-implements it.
public sealed partial class Circle
{
    /// <summary>Values of <see cref="CircleRequest{T}.ReductionTerms"/>: the sum of <c>w_i · l_i · mask_i</c>, then
    /// the request's own divisor.</summary>
    public const int ReductionTermCount = NativeConstants.CIRCLELOSS_REDUCTION_TERMS;

    /// <summary>The loss of a batch computed in parts, from the element-wise sums of the parts'
    /// <see cref="CircleRequest{T}.ReductionTerms"/>, with the library's division rule (a divisor of 0 gives 0).</summary>
    /// <param name="reduction">The reduction of the parts (not <see cref="Reduction.None"/>).</param>
    /// <param name="summedTerms">The <see cref="ReductionTermCount"/> terms summed over every part of the batch.</param>
    /// <returns>The batch's loss, and the divisor every part's backward pass takes as
    /// <see cref="CircleRequest{T}.ReductionDivisor"/> (1 for <see cref="Reduction.Sum"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="summedTerms"/> does not hold <see cref="ReductionTermCount"/>
    /// values, or the library rejected the reduction or the terms (negative, NaN or infinite).</exception>
    public static unsafe (double Loss, double Divisor) ReduceTerms(Reduction reduction, ReadOnlySpan<double> summedTerms)
    {
        if (summedTerms.Length != ReductionTermCount)
        {
            throw new ArgumentException(
                $"summedTerms must hold {ReductionTermCount} values (the summed reduction terms of the parts), but holds {summedTerms.Length}.",
                nameof(summedTerms));
        }

        NativeLibraryLoader.EnsureLoaded();
        double loss = 0, divisor = 0;
        fixed (double* terms = summedTerms)
        {
            circleloss_status status = NativeMethods.circleloss_reduce_terms(&loss, &divisor, (circleloss_reduction)reduction, terms);
            if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
            {
                throw NativeErrors.Create(status, "circleloss_reduce_terms", NativeErrors.LastError());
            }
        }

        return (loss, divisor);
    }
}
