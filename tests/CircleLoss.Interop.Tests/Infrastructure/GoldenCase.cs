using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>Expected outputs of one gradient mode of a golden case (float64, from an independent autodiff implementation).</summary>
internal sealed record GoldenExpected(double[] Loss, double[] PerSampleLoss, bool[] Mask, double[] GradEmbeddings, double[]? GradRefEmbeddings);

/// <summary>One tests/data/golden/*.json case (see README.md there).</summary>
internal sealed record GoldenCase(
    string Name,
    int[] Labels,
    double[] Embeddings,
    int Dimension,
    double Gamma,
    double Margin,
    bool RemoveDiagonal,
    Reduction Reduction,
    int[]? RefLabels,
    double[]? RefEmbeddings,
    double[]? SampleWeights,
    double[]? Upstream,
    GoldenExpected Keras,
    GoldenExpected Paper)
{
    public int N => Labels.Length;

    public int M => RefEmbeddings is not null ? RefEmbeddings.Length / Dimension : RefLabels?.Length ?? N;

    public GoldenExpected Expected(GradientMode mode) => mode == GradientMode.Keras ? Keras : Paper;

    public CircleOptions Options(GradientMode mode, Backend backend) => new()
    {
        Gamma = Gamma,
        Margin = Margin,
        RemoveDiagonal = RemoveDiagonal,
        Reduction = Reduction,
        GradientMode = mode,
        Backend = backend,
    };

    public static IEnumerable<string> Names() =>
        Directory.EnumerateFiles(TestEnvironment.GoldenDir, "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    public static GoldenCase Load(string name)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.GoldenDir, name + ".json")));
        JsonElement root = document.RootElement;
        JsonElement input = root.GetProperty("input");
        (double[] embeddings, int dimension) = Matrix(input.GetProperty("embeddings"));
        double[]? refEmbeddings = IsNull(input, "ref_embeddings") ? null : Matrix(input.GetProperty("ref_embeddings")).Values;
        return new GoldenCase(
            root.GetProperty("name").GetString()!,
            Ints(input.GetProperty("labels")),
            embeddings,
            dimension,
            input.GetProperty("gamma").GetDouble(),
            input.GetProperty("margin").GetDouble(),
            input.GetProperty("remove_diagonal").GetBoolean(),
            ParseReduction(input.GetProperty("reduction").GetString()!),
            IsNull(input, "ref_labels") ? null : Ints(input.GetProperty("ref_labels")),
            refEmbeddings,
            IsNull(input, "sample_weight") ? null : Doubles(input.GetProperty("sample_weight")),
            IsNull(input, "upstream") ? null : Doubles(input.GetProperty("upstream")),
            Expected(root.GetProperty("expected").GetProperty("keras")),
            Expected(root.GetProperty("expected").GetProperty("paper")));
    }

    public static Reduction ParseReduction(string text) => text switch
    {
        "none" => Reduction.None,
        "sum" => Reduction.Sum,
        "sum_over_batch_size" => Reduction.SumOverBatchSize,
        "mean" => Reduction.Mean,
        "mean_with_sample_weight" => Reduction.MeanWithSampleWeight,
        _ => throw new FormatException("unknown reduction " + text),
    };

    private static GoldenExpected Expected(JsonElement e)
    {
        JsonElement loss = e.GetProperty("loss");
        return new GoldenExpected(
            loss.ValueKind == JsonValueKind.Array ? Doubles(loss) : [loss.GetDouble()],
            Doubles(e.GetProperty("per_sample_loss")),
            Ints(e.GetProperty("mask")).Select(v => v != 0).ToArray(),
            Matrix(e.GetProperty("grad_embeddings")).Values,
            IsNull(e, "grad_ref_embeddings") ? null : Matrix(e.GetProperty("grad_ref_embeddings")).Values);
    }

    private static bool IsNull(JsonElement e, string name) => !e.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null;

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static (double[] Values, int Columns) Matrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(Doubles).ToArray();
        int columns = rows.Length == 0 ? 0 : rows[0].Length;
        if (rows.Any(r => r.Length != columns))
        {
            throw new FormatException("ragged matrix");
        }

        return (rows.SelectMany(r => r).ToArray(), columns);
    }
}
