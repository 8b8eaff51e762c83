using System;
using System.Linq;
using CircleLoss.Cli.Evaluation;
using Xunit;

namespace CircleLoss.Cli.Tests;

public class RetrievalTests
{
    private static double[] Angles(params double[] degrees) =>
        degrees.SelectMany(d => new[] { Math.Cos(d * Math.PI / 180), Math.Sin(d * Math.PI / 180) }).ToArray();

    [Fact]
    public void Hand_computed_two_classes_nearest_neighbour_always_wrong()
    {
        // Cosines: p0·p1 = 0.8, p0·p2 = 0.6, p0·p3 = 0, p1·p2 = 0.96, p1·p3 = 0.6, p2·p3 = 0.8.
        double[] points = [1, 0, 0.8, 0.6, 0.6, 0.8, 0, 1];
        int[] labels = [0, 1, 0, 1];

        RetrievalMetrics m = Retrieval.Evaluate(points, 2, labels);

        // The one relevant item of each query is at rank 2 (p0, p3) or rank 3 (p1, p2).
        Assert.Equal(4, m.Queries);
        Assert.Equal(0.0, m.RecallAt1);
        Assert.Equal(1.0, m.RecallAt4);
        Assert.Equal((1.0 / 2 + 1.0 / 3 + 1.0 / 3 + 1.0 / 2) / 4, m.MeanAveragePrecision, 12);
    }

    [Fact]
    public void Hand_computed_average_precision_with_several_relevant_items()
    {
        // Unit vectors at 0°, 10°, 60°, 90°; p2 is alone in its class and is not a query.
        double[] points = Angles(0, 10, 60, 90);
        int[] labels = [0, 0, 1, 0];

        RetrievalMetrics m = Retrieval.Evaluate(points, 2, labels);

        // p0: p1 (rel), p2, p3 (rel) → AP (1 + 2/3)/2; p1: p0 (rel), p2, p3 (rel) → the same;
        // p3: p2, p1 (rel), p0 (rel) → AP (1/2 + 2/3)/2.
        Assert.Equal(3, m.Queries);
        Assert.Equal(2.0 / 3, m.RecallAt1, 12);
        Assert.Equal(1.0, m.RecallAt4);
        Assert.Equal((5.0 / 6 + 5.0 / 6 + 7.0 / 12) / 3, m.MeanAveragePrecision, 12);
    }

    [Fact]
    public void Recall_at_4_misses_a_match_ranked_fifth()
    {
        // Unit vectors at 0°, 5°, 11°, 18°, 26° and 60° (no two distances equal).
        double[] points = Angles(0, 5, 11, 18, 26, 60);
        int[] labels = [0, 1, 1, 1, 1, 0];

        RetrievalMetrics m = Retrieval.Evaluate(points, 2, labels);

        // p0: p1, p2, p3, p4, then p5 (rel) → rank 5. p5: p4, p3, p2, p1, then p0 → rank 5.
        // p1: p0 (5°), p2 (6°, rel), p3 (rel), p4 (rel) → AP (1/2 + 2/3 + 3/4)/3.
        // p2: p1 (6°, rel), p3 (7°, rel), p0 (11°), p4 (rel) → AP (1 + 1 + 3/4)/3.
        // p3: p2, p4, p1 (all rel) → AP 1. p4: p3, p2, p1 → AP 1.
        double[] ap = [1.0 / 5, (1.0 / 2 + 2.0 / 3 + 3.0 / 4) / 3, (1 + 1 + 3.0 / 4) / 3, 1, 1, 1.0 / 5];
        Assert.Equal(6, m.Queries);
        Assert.Equal(3.0 / 6, m.RecallAt1, 12);
        Assert.Equal(4.0 / 6, m.RecallAt4, 12);
        Assert.Equal(ap.Average(), m.MeanAveragePrecision, 12);
    }

    [Fact]
    public void Ties_are_ranked_by_index()
    {
        // Exact ties: every similarity is 0 or 1.
        double[] points = [1, 0, 0, 1, 0, 1, 1, 0];
        int[] labels = [0, 1, 0, 1];

        RetrievalMetrics m = Retrieval.Evaluate(points, 2, labels);

        // p0: p3 (1), then p1 before p2 (tied at 0) → its match p2 at rank 3. p1: p2, then p0 before p3 → rank 3.
        // p2: p1, then p0 (rel) before p3 → rank 2. p3: p0, then p1 (rel) before p2 → rank 2.
        Assert.Equal(0.0, m.RecallAt1);
        Assert.Equal((1.0 / 3 + 1.0 / 3 + 1.0 / 2 + 1.0 / 2) / 4, m.MeanAveragePrecision, 12);
    }

    [Fact]
    public void Separated_clusters_score_one()
    {
        double[] points = Angles(0, 1, 2, 90, 91, 92, 180, 181);
        int[] labels = [4, 4, 4, 9, 9, 9, 2, 2];

        RetrievalMetrics m = Retrieval.Evaluate(points, 2, labels);

        Assert.Equal(new RetrievalMetrics(1, 1, 1, 8), m);
    }

    [Fact]
    public void Scale_of_a_row_does_not_matter_cosine()
    {
        double[] points = [1, 0, 0.8, 0.6, 0.6, 0.8, 0, 1];
        double[] scaled = [3, 0, 0.08, 0.06, 6, 8, 0, 0.5];
        int[] labels = [0, 1, 0, 1];

        Assert.Equal(Retrieval.Evaluate(points, 2, labels), Retrieval.Evaluate(scaled, 2, labels));
    }

    [Fact]
    public void Matches_a_naive_implementation_on_random_data()
    {
        var random = new Random(7);
        const int n = 60, d = 5;
        double[] points = Enumerable.Range(0, n * d).Select(_ => random.NextDouble() - 0.5).ToArray();
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(6)).ToArray();

        RetrievalMetrics m = Retrieval.Evaluate(points, d, labels);

        double Cos(int a, int b)
        {
            double dot = 0, na = 0, nb = 0;
            for (int k = 0; k < d; k++)
            {
                dot += points[a * d + k] * points[b * d + k];
                na += points[a * d + k] * points[a * d + k];
                nb += points[b * d + k] * points[b * d + k];
            }

            return dot / Math.Sqrt(na * nb);
        }

        double r1 = 0, r4 = 0, map = 0;
        int queries = 0;
        for (int i = 0; i < n; i++)
        {
            int[] ranked = Enumerable.Range(0, n).Where(j => j != i).OrderByDescending(j => Cos(i, j)).ThenBy(j => j).ToArray();
            bool[] relevant = ranked.Select(j => labels[j] == labels[i]).ToArray();
            int total = relevant.Count(r => r);
            if (total == 0)
            {
                continue;
            }

            queries++;
            r1 += relevant[0] ? 1 : 0;
            r4 += relevant.Take(4).Any(r => r) ? 1 : 0;
            double sum = 0;
            int hits = 0;
            for (int k = 0; k < relevant.Length; k++)
            {
                if (relevant[k])
                {
                    hits++;
                    sum += hits / (double)(k + 1);
                }
            }

            map += sum / total;
        }

        Assert.Equal(queries, m.Queries);
        Assert.Equal(r1 / queries, m.RecallAt1, 12);
        Assert.Equal(r4 / queries, m.RecallAt4, 12);
        Assert.Equal(map / queries, m.MeanAveragePrecision, 12);
    }

    [Fact]
    public void No_query_with_a_match_gives_NaN_and_zero_queries()
    {
        RetrievalMetrics m = Retrieval.Evaluate([1, 0, 0, 1], 2, [1, 2]);

        Assert.Equal(0, m.Queries);
        Assert.True(double.IsNaN(m.RecallAt1));
    }

    [Fact]
    public void Wrong_length_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Retrieval.Evaluate([1, 0, 0], 2, [1, 2]));
    }
}
