using System;
using System.Numerics;

namespace CircleLoss.Interop.Distributed;

// How a batch is spread over the ranks: each rank describes its slice in a fixed header of longs, the headers
// are all-gathered, and every rank derives the same layout from them (or the same exception, when the ranks
// disagree), so no further collective is needed to agree.
internal sealed class BatchLayout
{
    internal const int FailedField = 0;
    private const int RowsField = 1;
    private const int ReferenceRowsField = 2;
    private const int DimensionField = 3;
    private const int ElementSizeField = 4;
    private const int LabelBytesField = 5;
    private const int FlagsField = 6;
    private const int GammaField = 7;
    private const int MarginField = 8;
    private const int OptionsField = 9;
    private const int OffsetField = 10;
    private const int UpstreamField = 11;
    internal const int HeaderLength = 12;

    private readonly int[] _rows;
    private readonly int[] _referenceRows;

    private BatchLayout(int[] rows, int[] referenceRows, int rank, int dimension, int labelBytes, long diagonalOffset)
    {
        _rows = rows;
        _referenceRows = referenceRows;
        Dimension = dimension;
        LabelBytes = labelBytes;
        LocalRows = rows[rank];
        LocalReferenceRows = referenceRows[rank];
        long firstRow = 0, referenceRowsTotal = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            firstRow += r < rank ? rows[r] : 0;
            referenceRowsTotal += referenceRows[r];
        }

        ReferenceRows = (int)referenceRowsTotal;
        // Pair (i, j) of the batch is its diagonal when j == i + offset; this rank's row i is the batch's row
        // firstRow + i. Offsets beyond what the library accepts are passed on unchanged, for it to refuse.
        const long bound = 1L << 62;
        PartDiagonalOffset = diagonalOffset is > bound or < -bound ? diagonalOffset : firstRow + diagonalOffset;
    }

    public int Dimension { get; }

    public int LabelBytes { get; }

    public bool Int64Labels => LabelBytes == sizeof(long);

    public int LocalRows { get; }

    public int LocalReferenceRows { get; }

    public int ReferenceRows { get; }

    public long PartDiagonalOffset { get; }

    /// <summary>Per rank: its reference rows times <paramref name="perRow"/> (elements or bytes).</summary>
    public int[] ReferenceCounts(int perRow)
    {
        var counts = new int[_referenceRows.Length];
        for (int r = 0; r < counts.Length; r++)
        {
            counts[r] = _referenceRows[r] * perRow;
        }

        return counts;
    }

    public int Rows(int rank) => _rows[rank];

    /// <summary>This rank's checks of what the library cannot see in the part calls (they get gathered references and
    /// buffers of this class), and its header. Throws what <see cref="Circle"/> would for the same mistake.</summary>
    public static void Describe<T>(scoped in CircleRequest<T> request, bool backward, CircleOptions options, Span<long> header)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException($"The loss computes in float32 (float) or float64 (double), not {typeof(T).Name}.");
        }

        int d = request.Dimension;
        if (d < 1)
        {
            throw new ArgumentOutOfRangeException("dimension", d, "The embedding dimension D must be >= 1.");
        }

        long n = request.Labels.Length;
        if (request.Embeddings.Length != n * d)
        {
            throw new ArgumentException(
                $"embeddings must hold N×D = {n}×{d} = {n * d} values (N = labels.Length, D = dimension), but holds {request.Embeddings.Length}.",
                "embeddings");
        }

        long referenceRows = ReferenceRowsOf(request, n, d);
        if (request.HasRefLabels && !request.RefLabels.IsEmpty && !request.Labels.IsEmpty && request.RefLabels.IsInt64 != request.Labels.IsInt64)
        {
            throw new ArgumentException("refLabels must have the integer type of labels.", "refLabels");
        }

        if (request.ReductionDivisor != 0)
        {
            throw new ArgumentException(
                "ReductionDivisor must be 0: the distributed loss passes the whole batch's divisor itself.", "ReductionDivisor");
        }

        if (!request.SavedState.IsEmpty || !request.SavedStateOutput.IsEmpty)
        {
            throw new ArgumentException(
                "SavedState and SavedStateOutput must be empty: the distributed loss keeps the state between its forward and backward passes itself.",
                request.SavedState.IsEmpty ? "SavedStateOutput" : "SavedState");
        }

        if (request.DiagonalOffset != 0 && !request.HasRefEmbeddings)
        {
            throw new ArgumentException(
                $"DiagonalOffset must be 0 when no RefEmbeddings are given (got {request.DiagonalOffset}): the queries are then their own references.",
                "DiagonalOffset");
        }

        if (!request.ReductionTerms.IsEmpty && request.ReductionTerms.Length != Circle.ReductionTermCount)
        {
            throw new ArgumentException(
                $"reductionTerms must hold {Circle.ReductionTermCount} values, but holds {request.ReductionTerms.Length}.", "reductionTerms");
        }

        if (backward && request.HasRefEmbeddings && request.GradRefEmbeddings.Length != referenceRows * d)
        {
            throw new ArgumentException(
                $"gradRefEmbeddings must hold M×D = {referenceRows}×{d} = {referenceRows * d} values (this rank's reference rows), but holds {request.GradRefEmbeddings.Length}.",
                "gradRefEmbeddings");
        }

        header[FailedField] = 0;
        header[RowsField] = n;
        header[ReferenceRowsField] = referenceRows;
        header[DimensionField] = d;
        header[ElementSizeField] = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        header[LabelBytesField] = n == 0 && referenceRows == 0 ? 0 : request.Labels.IsEmpty ? (request.RefLabels.IsInt64 ? 8 : 4) : (request.Labels.IsInt64 ? 8 : 4);
        header[FlagsField] = (request.HasRefLabels ? 1 : 0) | (request.HasRefEmbeddings ? 2 : 0) | (backward ? 4 : 0);
        header[GammaField] = BitConverter.DoubleToInt64Bits(options.Gamma);
        header[MarginField] = BitConverter.DoubleToInt64Bits(options.Margin);
        header[OptionsField] = (options.RemoveDiagonal ? 1L : 0L) + ((long)options.Reduction << 1) + ((long)options.GradientMode << 8);
        header[OffsetField] = request.DiagonalOffset;
        header[UpstreamField] = options.Reduction == Reduction.None
            ? 0
            : BitConverter.DoubleToInt64Bits(request.Upstream.IsEmpty ? 1.0 : double.CreateTruncating(request.Upstream[0]));
    }

    // The rows of this rank's slice of the reference set (its own rows unless reference embeddings are given), with
    // the single-process rules: labels alone or embeddings alone stand for the queries' own rows.
    private static long ReferenceRowsOf<T>(scoped in CircleRequest<T> request, long n, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (request.HasRefLabels && request.HasRefEmbeddings)
        {
            long m = request.RefLabels.Length;
            if (request.RefEmbeddings.Length != m * d)
            {
                throw new ArgumentException(
                    $"refEmbeddings must hold M×D = {m}×{d} = {m * d} values (M = refLabels.Length), but holds {request.RefEmbeddings.Length}.",
                    "refEmbeddings");
            }

            return m;
        }

        if (request.HasRefLabels && request.RefLabels.Length != n)
        {
            throw new ArgumentException(
                $"refLabels must hold N = {n} labels when refEmbeddings is not given (the references are then the queries), but holds {request.RefLabels.Length}.",
                "refLabels");
        }

        if (request.HasRefEmbeddings && !request.HasRefLabels && request.RefEmbeddings.Length != n * d)
        {
            throw new ArgumentException(
                $"refEmbeddings must hold N×D = {n}×{d} = {n * d} values when refLabels is not given (the reference labels are then the query labels), but holds {request.RefEmbeddings.Length}.",
                "refEmbeddings");
        }

        return n;
    }

    public static bool AnyFailed(long[] headers, int size)
    {
        for (int r = 0; r < size; r++)
        {
            if (headers[r * HeaderLength + FailedField] != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The layout every rank derives from the same headers, or the same exception on every rank.</summary>
    public static BatchLayout Agree(long[] headers, int size, int rank)
    {
        (string Name, int Field)[] mustMatch =
        [
            ("the embedding dimension", DimensionField), ("the element type's size in bytes", ElementSizeField),
            ("which references are given and whether gradients are computed (flags)", FlagsField),
            ("gamma (bits)", GammaField), ("margin (bits)", MarginField),
            ("remove_diagonal, reduction and gradient mode (packed)", OptionsField),
            ("DiagonalOffset", OffsetField), ("the upstream gradient of the scalar loss (bits)", UpstreamField),
        ];
        foreach ((string name, int field) in mustMatch)
        {
            for (int r = 1; r < size; r++)
            {
                long first = headers[field], other = headers[r * HeaderLength + field];
                if (other != first)
                {
                    throw new CircleLossDistributedException(
                        $"The ranks disagree on {name}: rank 0 has {Show(field, first)}, rank {r} has {Show(field, other)}. Every rank must use the same options, element type, dimension and kind of references.");
                }
            }
        }

        // Label width: only ranks with labels say which (an empty rank's label span has no type to speak of).
        int labelBytes = 0;
        for (int r = 0; r < size; r++)
        {
            int bytes = (int)headers[r * HeaderLength + LabelBytesField];
            if (bytes == 0)
            {
                continue;
            }

            if (labelBytes != 0 && bytes != labelBytes)
            {
                throw new CircleLossDistributedException(
                    $"The ranks disagree on the label type: some pass {labelBytes * 8}-bit labels, rank {r} passes {bytes * 8}-bit labels.");
            }

            labelBytes = bytes;
        }

        var rows = new int[size];
        var referenceRows = new int[size];
        long d = headers[DimensionField];
        long totalReferences = 0;
        for (int r = 0; r < size; r++)
        {
            rows[r] = checked((int)headers[r * HeaderLength + RowsField]);
            referenceRows[r] = checked((int)headers[r * HeaderLength + ReferenceRowsField]);
            totalReferences += referenceRows[r];
        }

        if (totalReferences * d > int.MaxValue || totalReferences * Math.Max(labelBytes, 4) > int.MaxValue)
        {
            throw new CircleLossDistributedException(
                $"The batch's {totalReferences} reference rows × D = {d} exceed what one MPI collective carries ({int.MaxValue} elements: MPI's counts are int).");
        }

        return new BatchLayout(rows, referenceRows, rank, (int)d, labelBytes == 0 ? sizeof(int) : labelBytes, headers[OffsetField]);
    }

    private static string Show(int field, long value) => field switch
    {
        GammaField or MarginField or UpstreamField => BitConverter.Int64BitsToDouble(value).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
