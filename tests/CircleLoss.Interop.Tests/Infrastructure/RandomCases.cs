using System;
using System.Linq;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>How a random case supplies its reference set.</summary>
public enum RefsKind
{
    /// <summary>The queries are their own references.</summary>
    Self,

    /// <summary>Reference labels and embeddings (M may differ from N).</summary>
    Both,

    /// <summary>Reference labels only (the references are the queries).</summary>
    LabelsOnly,

    /// <summary>Reference embeddings only (the reference labels are the query labels).</summary>
    EmbeddingsOnly,
}

/// <summary>Random problems: unit-norm embeddings (optionally scaled), a few classes, optional weights and upstream.</summary>
internal static class RandomCases
{
    public static ReferenceProblem Make(int seed, int n, int d, RefsKind refs = RefsKind.Self, int m = 0, int classes = 3,
        bool weights = false, bool upstream = false, Reduction reduction = Reduction.SumOverBatchSize,
        GradientMode mode = GradientMode.Keras, double gamma = 80, double margin = 0.4, bool removeDiagonal = true, double norm = 1.0)
    {
        var random = new Random(seed);
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(classes)).ToArray();
        double[] embeddings = UnitRows(random, n, d, norm);
        int refRows = refs == RefsKind.Both ? m : n;
        int[]? refLabels = refs is RefsKind.Both or RefsKind.LabelsOnly ? Enumerable.Range(0, refRows).Select(_ => random.Next(classes)).ToArray() : null;
        double[]? refEmbeddings = refs is RefsKind.Both or RefsKind.EmbeddingsOnly ? UnitRows(random, refRows, d, norm) : null;
        double[]? sampleWeights = weights ? Enumerable.Range(0, n).Select(_ => random.Next(4) == 0 ? 0.0 : 0.25 + 2 * random.NextDouble()).ToArray() : null;
        int lossLength = reduction == Reduction.None ? n : 1;
        double[]? up = upstream ? Enumerable.Range(0, lossLength).Select(_ => 2 * random.NextDouble() - 0.5).ToArray() : null;
        return new ReferenceProblem(labels, embeddings, d, gamma, margin, removeDiagonal, reduction, mode,
            refLabels, refEmbeddings, sampleWeights, up);
    }

    private static double[] UnitRows(Random random, int rows, int d, double norm)
    {
        var values = new double[rows * d];
        for (int i = 0; i < rows; i++)
        {
            double sum = 0;
            for (int k = 0; k < d; k++)
            {
                // Box–Muller: directions uniform on the sphere.
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                double z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                values[i * d + k] = z;
                sum += z * z;
            }

            double scale = norm / Math.Sqrt(sum);
            for (int k = 0; k < d; k++)
            {
                values[i * d + k] *= scale;
            }
        }

        return values;
    }

    public static CircleOptions Options(this ReferenceProblem p, Backend backend = Backend.Cpu) => new()
    {
        Gamma = p.Gamma,
        Margin = p.Margin,
        RemoveDiagonal = p.RemoveDiagonal,
        Reduction = p.Reduction,
        GradientMode = p.Mode,
        Backend = backend,
    };
}
