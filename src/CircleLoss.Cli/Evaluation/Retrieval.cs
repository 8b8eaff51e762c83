using System;
using System.Threading.Tasks;

namespace CircleLoss.Cli.Evaluation;

/// <summary>Retrieval quality of an embedding: every item queries all the others by cosine similarity.</summary>
/// <param name="RecallAt1">The fraction of queries whose nearest other item has their class.</param>
/// <param name="RecallAt4">The fraction of queries with an item of their class among their 4 nearest.</param>
/// <param name="MeanAveragePrecision">The mean over queries of the average precision of the full ranking
/// (every other item of the query's class is relevant).</param>
/// <param name="Queries">The queries counted: items with at least one other item of their class.</param>
internal readonly record struct RetrievalMetrics(double RecallAt1, double RecallAt4, double MeanAveragePrecision, int Queries);

internal static class Retrieval
{
    /// <summary>
    /// Recall@1, Recall@4 and mean average precision of <paramref name="embeddings"/> (rows of
    /// <paramref name="dimension"/> values, compared by cosine similarity, a zero row being similar to nothing):
    /// each item is a query against all the other items. Queries without another item of their class are not
    /// counted. Ties in similarity are ranked by index, so the result is deterministic.
    /// </summary>
    public static RetrievalMetrics Evaluate(ReadOnlySpan<double> embeddings, int dimension, ReadOnlySpan<int> labels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        int n = labels.Length;
        if (embeddings.Length != (long)n * dimension)
        {
            throw new ArgumentException($"embeddings must hold {n}×{dimension} values, not {embeddings.Length}.", nameof(embeddings));
        }

        // Unit rows, so that dot products are cosine similarities.
        var unit = new double[n * dimension];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = embeddings.Slice(i * dimension, dimension);
            double norm = Math.Sqrt(Training.Dense.Dot(row, row));
            Span<double> target = unit.AsSpan(i * dimension, dimension);
            if (norm > 0)
            {
                for (int j = 0; j < dimension; j++)
                {
                    target[j] = row[j] / norm;
                }
            }
        }

        int[] labelArray = labels.ToArray();
        var hit1 = new double[n];
        var hit4 = new double[n];
        var averagePrecision = new double[n];
        var counted = new bool[n];
        Parallel.For(0, n, () => (Similarity: new double[n], Order: new int[n]), (i, _, scratch) =>
        {
            int label = labelArray[i];
            int relevant = 0;
            for (int j = 0; j < n; j++)
            {
                if (j != i && labelArray[j] == label)
                {
                    relevant++;
                }
            }

            if (relevant == 0)
            {
                return scratch;
            }

            ReadOnlySpan<double> query = unit.AsSpan(i * dimension, dimension);
            int count = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == i)
                {
                    continue;
                }

                scratch.Similarity[count] = Training.Dense.Dot(query, unit.AsSpan(j * dimension, dimension));
                scratch.Order[count] = j;
                count++;
            }

            Array.Sort(scratch.Similarity, scratch.Order, 0, count, RankComparer.Instance);
            // Array.Sort is not stable: restore index order within equal similarities.
            TieBreak(scratch.Similarity, scratch.Order, count);

            int hits = 0;
            double precisionSum = 0;
            for (int rank = 0; rank < count; rank++)
            {
                if (labelArray[scratch.Order[rank]] == label)
                {
                    hits++;
                    precisionSum += hits / (double)(rank + 1);
                    if (rank < 1)
                    {
                        hit1[i] = 1;
                    }

                    if (rank < 4)
                    {
                        hit4[i] = 1;
                    }

                    if (hits == relevant)
                    {
                        break;
                    }
                }
            }

            averagePrecision[i] = precisionSum / relevant;
            counted[i] = true;
            return scratch;
        }, _ => { });

        // Summed in index order: the same result whatever the thread schedule.
        int queries = 0;
        double sum1 = 0, sum4 = 0, sumAp = 0;
        for (int i = 0; i < n; i++)
        {
            if (counted[i])
            {
                queries++;
                sum1 += hit1[i];
                sum4 += hit4[i];
                sumAp += averagePrecision[i];
            }
        }

        return queries == 0
            ? new RetrievalMetrics(double.NaN, double.NaN, double.NaN, 0)
            : new RetrievalMetrics(sum1 / queries, sum4 / queries, sumAp / queries, queries);
    }

    /// <summary>Sorts each run of equal similarities by index.</summary>
    private static void TieBreak(double[] similarity, int[] order, int count)
    {
        int start = 0;
        while (start < count)
        {
            int end = start + 1;
            while (end < count && similarity[end] == similarity[start])
            {
                end++;
            }

            if (end - start > 1)
            {
                Array.Sort(order, start, end - start);
            }

            start = end;
        }
    }

    /// <summary>Descending similarity.</summary>
    private sealed class RankComparer : System.Collections.Generic.IComparer<double>
    {
        public static readonly RankComparer Instance = new();

        public int Compare(double x, double y) => y.CompareTo(x);
    }
}
