using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace CircleLoss.Interop.Distributed.MpiTests;

/// <summary>A whole batch in float64 with its options: a golden case (tests/data/golden) or a random one.</summary>
internal sealed record Batch(
    string Name,
    long[] Labels,
    double[] Embeddings,
    int Dimension,
    CircleOptions Options,
    long[]? RefLabels,
    double[]? RefEmbeddings,
    double[]? SampleWeights,
    double[]? Upstream,
    bool WideLabels)
{
    public int N => Labels.Length;

    /// <summary>Rows of the reference set when one is given (labels or embeddings), else N.</summary>
    public int M => RefEmbeddings is not null ? RefEmbeddings.Length / Dimension : RefLabels?.Length ?? N;

    public static IEnumerable<Batch> Golden(string folder)
    {
        foreach (string file in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            JsonElement input = document.RootElement.GetProperty("input");
            (double[] x, int d) = Matrix(input.GetProperty("embeddings"));
            foreach (GradientMode mode in new[] { GradientMode.Keras, GradientMode.Paper })
            {
                yield return new Batch(
                    $"{Path.GetFileNameWithoutExtension(file)} {mode}",
                    Longs(input.GetProperty("labels")),
                    x,
                    d,
                    new CircleOptions
                    {
                        Gamma = input.GetProperty("gamma").GetDouble(),
                        Margin = input.GetProperty("margin").GetDouble(),
                        RemoveDiagonal = input.GetProperty("remove_diagonal").GetBoolean(),
                        Reduction = ParseReduction(input.GetProperty("reduction").GetString()!),
                        GradientMode = mode,
                        Backend = Backend.Cpu,
                        ThreadCount = 1,
                    },
                    IsNull(input, "ref_labels") ? null : Longs(input.GetProperty("ref_labels")),
                    IsNull(input, "ref_embeddings") ? null : Matrix(input.GetProperty("ref_embeddings")).Values,
                    IsNull(input, "sample_weight") ? null : Doubles(input.GetProperty("sample_weight")),
                    IsNull(input, "upstream") ? null : Doubles(input.GetProperty("upstream")),
                    WideLabels: false);
            }
        }
    }

    /// <summary>A random batch (fixed seed): rows of norm 0.9, a few classes, weights with zeros, an upstream.</summary>
    /// <remarks>Not unit norm: with reference labels alone, a row whose reference label differs from its label is a
    /// negative of itself, at s = |x|². At |x| = 1 that pair sits on the kink of the slopes at s = 1 (docs/design.md
    /// 1.6), where the one-process and the distributed products round s to either side of 1 (as the golden norm09
    /// cases avoid it).</remarks>
    public static Batch Random(int seed, int n, int d, Reduction reduction, RefsKind refs, int m, GradientMode mode)
    {
        var random = new Random(seed);
        double[] Rows(int rows)
        {
            var v = new double[rows * d];
            for (int i = 0; i < rows; i++)
            {
                double norm = 0;
                for (int k = 0; k < d; k++)
                {
                    double value = random.NextDouble() * 2 - 1;
                    v[i * d + k] = value;
                    norm += value * value;
                }

                for (int k = 0; k < d; k++)
                {
                    v[i * d + k] *= 0.9 / Math.Sqrt(norm);
                }
            }

            return v;
        }

        long[] labels = Enumerable.Range(0, n).Select(_ => (long)random.Next(4) << 33 | 5).ToArray();  // 64-bit labels
        double[] x = Rows(n);
        int refRows = refs == RefsKind.Both ? m : n;
        long[]? refLabels = refs is RefsKind.Both or RefsKind.LabelsOnly
            ? Enumerable.Range(0, refRows).Select(_ => (long)random.Next(4) << 33 | 5).ToArray()
            : null;
        double[]? refEmbeddings = refs is RefsKind.Both or RefsKind.EmbeddingsOnly ? Rows(refRows) : null;
        double[] weights = Enumerable.Range(0, n).Select(i => i % 7 == 3 ? 0.0 : 0.25 + random.NextDouble()).ToArray();
        double[] upstream = reduction == Reduction.None
            ? Enumerable.Range(0, n).Select(_ => 0.5 + random.NextDouble()).ToArray()
            : [0.75];
        return new Batch($"random seed {seed} {reduction} {refs} {mode}", labels, x, d,
            new CircleOptions { Gamma = 32, Margin = 0.25, Reduction = reduction, GradientMode = mode, Backend = Backend.Cpu, ThreadCount = 1 },
            refLabels, refEmbeddings, weights, upstream, WideLabels: true);
    }

    private static Reduction ParseReduction(string text) => text switch
    {
        "none" => Reduction.None,
        "sum" => Reduction.Sum,
        "sum_over_batch_size" => Reduction.SumOverBatchSize,
        "mean" => Reduction.Mean,
        "mean_with_sample_weight" => Reduction.MeanWithSampleWeight,
        _ => throw new FormatException("unknown reduction " + text),
    };

    private static bool IsNull(JsonElement e, string name) => !e.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null;

    private static long[] Longs(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static (double[] Values, int Columns) Matrix(JsonElement e)
    {
        double[][] rows = e.EnumerateArray().Select(Doubles).ToArray();
        return (rows.SelectMany(r => r).ToArray(), rows.Length == 0 ? 0 : rows[0].Length);
    }
}

/// <summary>Which references a batch has, as in the single-process contract.</summary>
internal enum RefsKind
{
    Self,
    Both,
    LabelsOnly,
    EmbeddingsOnly,
}
