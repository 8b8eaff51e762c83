using System;
using System.Linq;
using System.Numerics;

namespace CircleLoss.Interop.Distributed.MpiTests;

/// <summary>The largest normwise differences between a distributed run and the single-process one.</summary>
internal readonly record struct Differences(double Loss, double PerSampleLoss, double Gradients, bool MasksEqual)
{
    public bool Within(double lossTolerance, double gradientTolerance) =>
        MasksEqual && Loss <= lossTolerance && PerSampleLoss <= lossTolerance && Gradients <= gradientTolerance;
}

/// <summary>
/// One batch computed by one process (every rank computes it whole: the independent truth) and by the ranks together,
/// each holding an unequal slice; the distributed outputs are gathered and compared with the single-process ones.
/// </summary>
internal static class Equality
{
    /// <summary>Unequal slices of <paramref name="rows"/> over the ranks, varying with <paramref name="pattern"/>:
    /// rank r gets a share proportional to 1 + (r + pattern) mod size, and for pattern ≡ 0 (mod 3) the last rank
    /// gets none.</summary>
    public static int[] Slices(int rows, int size, int pattern)
    {
        var shares = Enumerable.Range(0, size).Select(r => 1 + (r + pattern) % size).ToArray();
        if (size > 1 && pattern % 3 == 0)
        {
            shares[size - 1] = 0;
        }

        int total = shares.Sum();
        var counts = shares.Select(s => rows * s / total).ToArray();
        counts[0] += rows - counts.Sum();
        return counts;
    }

    public static Differences Run<T>(ICollectives collectives, Batch batch, int pattern)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = batch.Dimension, n = batch.N, m = batch.M;
        bool refEmbeddings = batch.RefEmbeddings is not null, refLabels = batch.RefLabels is not null;
        bool none = batch.Options.Reduction == Reduction.None;
        T[] x = Cast<T>(batch.Embeddings), r = Cast<T>(batch.RefEmbeddings ?? []);
        T[] w = Cast<T>(batch.SampleWeights ?? []), up = Cast<T>(batch.Upstream ?? []);
        using var circle = new Circle(batch.Options);

        // The single process: the whole batch.
        var loss = new T[none ? n : 1];
        var perSample = new T[n];
        var mask = new bool[n];
        var gradX = new T[n * d];
        var gradR = new T[refEmbeddings ? m * d : 0];
        circle.ForwardBackward(Request(batch, batch.Labels, x, w, up, refLabels ? batch.RefLabels! : null, refEmbeddings ? r : null,
            loss, perSample, mask, gradX, gradR));

        // The ranks: slices of the queries (and of the reference set), then everything gathered back.
        int size = collectives.Size, rank = collectives.Rank;
        int[] rows = Slices(n, size, pattern);
        int[] referenceRows = refEmbeddings || refLabels ? (refEmbeddings && refLabels ? Slices(m, size, pattern + 1) : rows) : rows;
        int first = rows.Take(rank).Sum(), count = rows[rank];
        int refFirst = referenceRows.Take(rank).Sum(), refCount = referenceRows[rank];
        var myLoss = new T[none ? count : 1];
        var myPerSample = new T[count];
        var myMask = new bool[count];
        var myGradX = new T[count * d];
        var myGradR = new T[refEmbeddings ? refCount * d : 0];
        var distributed = new DistributedCircle(circle, collectives);
        distributed.ForwardBackward(Request(batch, batch.Labels.AsSpan(first, count).ToArray(), x.AsSpan(first * d, count * d).ToArray(),
            w.Length == 0 ? w : w.AsSpan(first, count).ToArray(),
            none && up.Length > 0 ? up.AsSpan(first, count).ToArray() : up,
            refLabels ? batch.RefLabels!.AsSpan(refFirst, refCount).ToArray() : null,
            refEmbeddings ? r.AsSpan(refFirst * d, refCount * d).ToArray() : null,
            myLoss, myPerSample, myMask, myGradX, myGradR));

        T[] allLoss = none ? Gather<T>(collectives, myLoss, rows) : myLoss;
        T[] allPerSample = Gather<T>(collectives, myPerSample, rows);
        byte[] allMask = Gather<byte>(collectives, myMask.Select(v => v ? (byte)1 : (byte)0).ToArray(), rows);
        T[] allGradX = Gather<T>(collectives, myGradX, rows.Select(c => c * d).ToArray());
        T[] allGradR = refEmbeddings ? Gather<T>(collectives, myGradR, referenceRows.Select(c => c * d).ToArray()) : [];
        return new Differences(
            Error(loss, allLoss),
            Error(perSample, allPerSample),
            Math.Max(Error(gradX, allGradX), Error(gradR, allGradR)),
            mask.Select(v => v ? (byte)1 : (byte)0).SequenceEqual(allMask));
    }

    private static CircleRequest<T> Request<T>(Batch batch, long[] labels, T[] x, T[] w, T[] up, long[]? refLabels, T[]? refEmbeddings,
        T[] loss, T[] perSample, bool[] mask, T[] gradX, T[] gradR)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LabelSpan Labels(long[] values) => batch.WideLabels ? values : values.Select(v => (int)v).ToArray();
        var request = new CircleRequest<T>(Labels(labels), x, batch.Dimension)
        {
            SampleWeights = w, Upstream = up, Loss = loss, PerSampleLoss = perSample, Mask = mask, GradEmbeddings = gradX,
        };
        if (refLabels is not null)
        {
            request = request with { RefLabels = Labels(refLabels) };
        }

        if (refEmbeddings is not null)
        {
            request = request with { RefEmbeddings = refEmbeddings, GradRefEmbeddings = gradR };
        }

        return request;
    }

    public static T[] Gather<T>(ICollectives collectives, T[] mine, int[] counts)
        where T : unmanaged
    {
        var all = new T[counts.Sum()];
        collectives.AllGather<T>(mine, all, counts);
        return all;
    }

    private static T[] Cast<T>(double[] values)
        where T : unmanaged, IFloatingPointIeee754<T> => values.Select(T.CreateTruncating).ToArray();

    /// <summary>max|a − b| / max|a| (absolute when a is all zeros).</summary>
    private static double Error<T>(T[] expected, T[] actual)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (expected.Length != actual.Length)
        {
            return double.PositiveInfinity;
        }

        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateTruncating(expected[i]), a = double.CreateTruncating(actual[i]);
            if (!double.IsFinite(a))
            {
                return double.PositiveInfinity;
            }

            diff = Math.Max(diff, Math.Abs(e - a));
            scale = Math.Max(scale, Math.Abs(e));
        }

        return scale > 0 ? diff / scale : diff;
    }
}
