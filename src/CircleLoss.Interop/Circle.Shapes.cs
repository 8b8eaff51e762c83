using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CircleLoss.Interop.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CircleLoss.Interop;

// The checks the façade makes before the library is called: every length against N, D and M, and no output
// overlapping an input or another output (what the library cannot see in raw pointers).
public sealed unsafe partial class Circle
{
    /// <summary>The lengths of the arrays of one call, span or device buffer; -1 where an optional one is not given.</summary>
    private struct Shape
    {
        public long Labels;
        public long Embeddings;
        public int Dimension;
        public long SampleWeights;
        public long RefLabels;
        public long RefEmbeddings;
        public long Upstream;
        public long SavedStateIn;
        public long Loss;
        public long PerSampleLoss;
        public long Mask;
        public long SavedStateOut;
        public long GradEmbeddings;
        public long GradRefEmbeddings;
        public long ReductionTerms;
    }

    private static long OptionalLength(int length) => length == 0 ? -1 : length;

    /// <summary>Checks every length of a call against N, D and M before the library is called, and returns N and M.
    /// <paramref name="absent"/> says how the caller leaves an optional array out ("empty" spans, "null" buffers).</summary>
    private (long N, long M) CheckShapes(Operation operation, in Shape s, string absent)
    {
        if (s.Dimension < 1)
        {
            throw new ArgumentOutOfRangeException("dimension", s.Dimension, "The embedding dimension D must be >= 1.");
        }

        long n = s.Labels;
        long d = s.Dimension;
        if (s.Embeddings != n * d)
        {
            throw new ArgumentException(
                $"embeddings must hold N×D = {n}×{d} = {n * d} values (N = labels.Length, D = dimension), but holds {s.Embeddings}.",
                "embeddings");
        }

        bool hasRefLabels = s.RefLabels >= 0;
        bool hasRefEmbeddings = s.RefEmbeddings >= 0;
        long m;
        if (hasRefLabels && hasRefEmbeddings)
        {
            m = s.RefLabels;
            if (s.RefEmbeddings != m * d)
            {
                throw new ArgumentException(
                    $"refEmbeddings must hold M×D = {m}×{d} = {m * d} values (M = refLabels.Length, D = dimension), but holds {s.RefEmbeddings}.",
                    "refEmbeddings");
            }
        }
        else if (hasRefLabels)
        {
            m = n;
            if (s.RefLabels != n)
            {
                throw new ArgumentException(
                    $"refLabels must hold N = {n} labels when refEmbeddings is not given (the references are then the queries), but holds {s.RefLabels}.",
                    "refLabels");
            }
        }
        else if (hasRefEmbeddings)
        {
            m = n;
            if (s.RefEmbeddings != n * d)
            {
                throw new ArgumentException(
                    $"refEmbeddings must hold N×D = {n}×{d} = {n * d} values when refLabels is not given (the reference labels are then the query labels), but holds {s.RefEmbeddings}.",
                    "refEmbeddings");
            }
        }
        else
        {
            m = n;
        }

        if (operation == Operation.ProductFloor)
        {
            return (n, m);
        }

        long lossLength = Options.Reduction == Reduction.None ? n : 1;
        RequireOptionalLength(s.SampleWeights, n, "sampleWeights", "N (one weight per query row)", absent);

        if (operation != Operation.Forward)
        {
            RequireOptionalLength(s.Upstream, lossLength, "upstream",
                Options.Reduction == Reduction.None ? "N (reduction None: one value per query row)" : "1 (the reduced loss is a scalar)", absent);
            RequireLength(s.GradEmbeddings, n * d, "gradEmbeddings", "N×D");
            if (hasRefEmbeddings)
            {
                RequireLength(s.GradRefEmbeddings, m * d, "gradRefEmbeddings", "M×D (refEmbeddings was given)");
            }
            else if (s.GradRefEmbeddings >= 0)
            {
                throw new ArgumentException(
                    $"gradRefEmbeddings must be {absent} when refEmbeddings is not given: the gradient of both roles goes to gradEmbeddings.",
                    "gradRefEmbeddings");
            }
        }

        if (operation != Operation.Backward)
        {
            RequireLength(s.Loss, lossLength, "loss",
                Options.Reduction == Reduction.None ? "N (reduction None)" : "1");
            RequireOptionalLength(s.PerSampleLoss, n, "perSampleLoss", "N", absent);
            RequireOptionalLength(s.Mask, n, "mask", "N", absent);
            RequireOptionalLength(s.SavedStateOut, SavedStatePerRow * n, "savedState", $"{SavedStatePerRow}×N", absent);
            RequireOptionalLength(s.ReductionTerms, ReductionTermCount, "reductionTerms", $"{ReductionTermCount}", absent);
        }
        else
        {
            RequireLength(s.SavedStateIn, SavedStatePerRow * n, "savedState", $"{SavedStatePerRow}×N (from Forward)");
        }

        return (n, m);
    }

    private static void RequireLength(long actual, long expected, string name, string what)
    {
        if (actual != expected)
        {
            throw new ArgumentException(
                $"{name} must hold {what} = {expected} values, but {(actual < 0 ? "is not given" : $"holds {actual}")}.", name);
        }
    }

    /// <summary>An optional array: absent (length -1) or exactly <paramref name="expected"/> long.</summary>
    private static void RequireOptionalLength(long actual, long expected, string name, string what, string absent)
    {
        if (actual >= 0 && actual != expected)
        {
            throw new ArgumentException($"{name} must be {absent} (not given) or hold {what} = {expected} values, but holds {actual}.", name);
        }
    }

    private readonly struct Region(void* start, long length)
    {
        public readonly nuint Start = (nuint)start;
        public readonly long Length = length;

        public bool Overlaps(in Region other) =>
            Length > 0 && other.Length > 0
            && Start < other.Start + (nuint)other.Length
            && other.Start < Start + (nuint)Length;
    }

    private static void CheckNoOverlap(ReadOnlySpan<Region> regions)
    {
        for (int i = FirstOutputRegion; i < regions.Length; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (regions[i].Overlaps(regions[j]))
                {
                    string what = j < FirstOutputRegion ? "the input" : "the output";
                    throw new ArgumentException(
                        $"{RegionNames[i]} overlaps {what} {RegionNames[j]}: outputs must not share memory with inputs or with other outputs.",
                        RegionNames[i]);
                }
            }
        }
    }
}
