using System;
using System.Buffers;
using System.Numerics;

namespace CircleLoss.Interop.Distributed;

/// <summary>
/// The circle loss of a batch spread across processes: each rank passes its slice of the batch (any number of rows,
/// including none) and gets the loss of the whole batch and the gradients of the whole batch's loss with respect to
/// its own rows, as if one process had computed the concatenation of the slices in rank order. What
/// pytorch-metric-learning's <c>DistributedLossWrapper</c> gives PyTorch users, without any approximation.
/// </summary>
/// <remarks>
/// <para>Per call: the ranks agree on the shapes and options (one small all-gather); the reference rows (the
/// embeddings themselves, or each rank's slice of a reference set) and their labels are all-gathered; each rank runs
/// the forward pass of its rows against all of them, with <see cref="CircleRequest{T}.DiagonalOffset"/> = its first
/// row's index, so that <see cref="CircleOptions.RemoveDiagonal"/> removes exactly the self pairs, and with
/// <see cref="CircleRequest{T}.ReductionDivisor"/> = 1 (the gradients of the weighted sum); the reduction terms are
/// all-reduced and combined by <see cref="Circle.ReduceTerms"/> into the batch's loss and divisor; the gradients of the
/// reference role are reduce-scattered back to the ranks that own those rows, and the gradients divided by the
/// batch's divisor. Traffic per step: an all-gather and a reduce-scatter of M·D values (M = the batch's reference
/// rows, the batch itself by default).</para>
/// <para>The request is the one of <see cref="Circle"/>, holding this rank's slice: labels, embeddings, sample
/// weights and upstream (N values for <see cref="Reduction.None"/>) of its rows, and with a reference set its slice
/// of the reference set. Outputs: <see cref="CircleRequest{T}.Loss"/> receives the batch's loss (this rank's N values
/// for <see cref="Reduction.None"/>); per-sample losses, mask and gradients are those of this rank's rows;
/// <see cref="CircleRequest{T}.ReductionTerms"/> receives the batch's summed terms.
/// <see cref="CircleRequest{T}.DiagonalOffset"/> is the batch's (with a reference set: the reference row of the
/// batch's query row 0's diagonal pair). Saved states and <see cref="CircleRequest{T}.ReductionDivisor"/> are
/// managed here and must be left unset. A scalar reduction's upstream must be the same on every rank.</para>
/// <para>Failures: every rank throws the same <see cref="CircleLossDistributedException"/> at the same step when
/// any rank's input is refused (checked before the first collective that depends on it), so no rank waits forever.
/// Outputs may then have been written in part. Host memory only, on any backend of the <see cref="Circle"/> (the CUDA
/// backend stages host arrays itself). One call at a time per instance.</para>
/// </remarks>
public sealed class DistributedCircle
{
    private readonly ICollectives _collectives;

    /// <summary>A distributed loss over <paramref name="collectives"/>, computing with <paramref name="circle"/>
    /// (whose options must be the same on every rank). Neither is owned.</summary>
    /// <param name="circle">The loss this rank computes with.</param>
    /// <param name="collectives">The group of ranks (e.g. <see cref="OpenMpiCollectives.Initialize"/>).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public DistributedCircle(Circle circle, ICollectives collectives)
    {
        ArgumentNullException.ThrowIfNull(circle);
        ArgumentNullException.ThrowIfNull(collectives);
        Circle = circle;
        _collectives = collectives;
    }

    /// <summary>The loss this rank computes with.</summary>
    public Circle Circle { get; }

    /// <summary>The group of ranks.</summary>
    public ICollectives Collectives => _collectives;

    /// <summary>The forward pass over the whole batch (see the remarks of <see cref="DistributedCircle"/>).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="request">This rank's slice and its outputs.</param>
    /// <exception cref="CircleLossDistributedException">Any rank's input was refused (every rank throws it), ranks
    /// disagree on shapes or options, or a collective failed.</exception>
    public void Forward<T>(scoped in CircleRequest<T> request)
        where T : unmanaged, IFloatingPointIeee754<T> => Run(request, backward: false);

    /// <summary>The forward and backward passes over the whole batch: the batch's loss, and the gradients of the
    /// batch's loss with respect to this rank's embeddings (and its slice of the reference set).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="request">This rank's slice and its outputs.</param>
    /// <exception cref="CircleLossDistributedException">Any rank's input was refused (every rank throws it), ranks
    /// disagree on shapes or options, or a collective failed.</exception>
    public void ForwardBackward<T>(scoped in CircleRequest<T> request)
        where T : unmanaged, IFloatingPointIeee754<T> => Run(request, backward: true);

    private void Run<T>(scoped in CircleRequest<T> request, bool backward)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = _collectives.Size, rank = _collectives.Rank;

        // 1. Agree on the slices, shapes and options (one all-gather that also carries this rank's own checks).
        var header = new long[BatchLayout.HeaderLength];
        Exception? failure = null;
        try
        {
            BatchLayout.Describe(request, backward, Circle.Options, header);
        }
        catch (Exception e)
        {
            failure = e;
            Array.Clear(header);
            header[BatchLayout.FailedField] = 1;
        }

        var headers = new long[BatchLayout.HeaderLength * size];
        _collectives.AllGather<long>(header, headers, Repeat(BatchLayout.HeaderLength, size));
        if (BatchLayout.AnyFailed(headers, size))
        {
            ThrowAgreedFailure("argument checks", failure);
        }

        BatchLayout batch = BatchLayout.Agree(headers, size, rank); // deterministic: every rank throws alike
        bool scalar = Circle.Options.Reduction != Reduction.None;
        int d = batch.Dimension;

        T[] references = ArrayPool<T>.Shared.Rent(Math.Max(1, batch.ReferenceRows * d));
        byte[] referenceLabels = ArrayPool<byte>.Shared.Rent(Math.Max(1, batch.ReferenceRows * batch.LabelBytes));
        T[] gradReferences = backward ? ArrayPool<T>.Shared.Rent(Math.Max(1, batch.ReferenceRows * d)) : [];
        try
        {
            // 2. Gather the reference rows and their labels (the queries themselves unless a reference set is given).
            Span<T> allReferences = references.AsSpan(0, batch.ReferenceRows * d);
            Span<byte> allReferenceLabels = referenceLabels.AsSpan(0, batch.ReferenceRows * batch.LabelBytes);
            ReadOnlySpan<T> myReferences = request.HasRefEmbeddings ? request.RefEmbeddings : request.Embeddings;
            LabelSpan myReferenceLabels = request.HasRefLabels ? request.RefLabels : request.Labels;
            _collectives.AllGather(myReferences, allReferences, batch.ReferenceCounts(d));
            _collectives.AllGather(myReferenceLabels.AsBytes(), allReferenceLabels, batch.ReferenceCounts(batch.LabelBytes));

            // 3. This rank's rows against every reference row, in one call. The batch's divisor is not known yet: the
            //    call divides by 1 (its gradients are those of the weighted sum) and reports its reduction terms.
            LabelSpan labels = request.Labels.IsEmpty ? LabelSpan.FromBytes([], batch.Int64Labels) : request.Labels;
            Span<double> terms = stackalloc double[Circle.ReductionTermCount];
            Span<T> allGradReferences = gradReferences.AsSpan(0, backward ? batch.ReferenceRows * d : 0);
            try
            {
                var part = new CircleRequest<T>(labels, request.Embeddings, d)
                {
                    SampleWeights = request.SampleWeights,
                    RefLabels = LabelSpan.FromBytes(allReferenceLabels, batch.Int64Labels), RefEmbeddings = allReferences,
                    DiagonalOffset = batch.PartDiagonalOffset, ReductionDivisor = scalar && backward ? 1 : 0,
                    Upstream = backward ? request.Upstream : default,
                    Loss = request.Loss, PerSampleLoss = request.PerSampleLoss, Mask = request.Mask,
                    ReductionTerms = scalar ? terms : default,
                    GradEmbeddings = backward ? request.GradEmbeddings : default, GradRefEmbeddings = allGradReferences,
                };
                if (backward)
                {
                    Circle.ForwardBackward(part);
                }
                else
                {
                    Circle.Forward(part);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }

            // 4. The parts' terms summed, with the number of ranks that failed: all fail together or none does.
            Span<double> summed = [failure is null ? 0 : 1, terms[0], terms[1]];
            _collectives.AllReduceSum(summed);
            if (summed[0] > 0)
            {
                ThrowAgreedFailure(backward ? "forward and backward pass" : "forward pass", failure);
            }

            double divisor = 1;
            if (scalar)
            {
                (double loss, divisor) = Circle.ReduceTerms(Circle.Options.Reduction, summed[1..]);
                request.Loss[0] = T.CreateTruncating(loss);
                if (!request.ReductionTerms.IsEmpty)
                {
                    summed[1..].CopyTo(request.ReductionTerms);
                }
            }

            if (backward)
            {
                // 5. The reference role's gradients back to the ranks that own those rows; everything divided by the
                //    batch's divisor (0 gives 0, as divide_no_nan: every coefficient is 0 then anyway).
                Span<T> mine = new T[batch.LocalReferenceRows * d];
                _collectives.ReduceScatterSum<T>(allGradReferences, mine, batch.ReferenceCounts(d));
                Span<T> grad = request.GradEmbeddings;
                if (!request.HasRefEmbeddings)
                {
                    for (int e = 0; e < mine.Length; e++)
                    {
                        grad[e] += mine[e];
                    }
                }

                if (divisor != 1)
                {
                    Divide(grad, divisor);
                    Divide(mine, divisor);
                }

                if (request.HasRefEmbeddings)
                {
                    mine.CopyTo(request.GradRefEmbeddings);
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(references);
            ArrayPool<byte>.Shared.Return(referenceLabels);
            if (backward)
            {
                ArrayPool<T>.Shared.Return(gradReferences);
            }
        }
    }

    private static void Divide<T>(Span<T> values, double divisor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T by = T.CreateTruncating(divisor);
        for (int e = 0; e < values.Length; e++)
        {
            values[e] = divisor == 0 ? T.Zero : values[e] / by;
        }
    }

    // Every rank learns which ranks failed and why (two small all-gathers), then throws the same exception.
    private void ThrowAgreedFailure(string step, Exception? localFailure)
    {
        int size = _collectives.Size;
        byte[] message = localFailure is null
            ? []
            : System.Text.Encoding.UTF8.GetBytes(Truncate($"{localFailure.GetType().Name}: {localFailure.Message}", 2000));
        var lengths = new int[size];
        _collectives.AllGather<int>([message.Length], lengths, Repeat(1, size));
        int total = 0;
        foreach (int length in lengths)
        {
            total += length;
        }

        var all = new byte[total];
        _collectives.AllGather<byte>(message, all, lengths);
        var failures = new System.Collections.Generic.List<RankFailure>();
        int offset = 0;
        for (int r = 0; r < size; r++)
        {
            if (lengths[r] > 0)
            {
                failures.Add(new RankFailure(r, System.Text.Encoding.UTF8.GetString(all, offset, lengths[r])));
            }

            offset += lengths[r];
        }

        throw new CircleLossDistributedException(step, size, failures, localFailure);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private static int[] Repeat(int value, int count)
    {
        var result = new int[count];
        Array.Fill(result, value);
        return result;
    }
}
