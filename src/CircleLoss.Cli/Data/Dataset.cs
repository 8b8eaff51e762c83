using System;
using System.Collections.Generic;
using System.Linq;

namespace CircleLoss.Cli.Data;

/// <summary>A labelled table of features: <see cref="Count"/> rows of <see cref="FeatureCount"/> values,
/// row-major in <see cref="Features"/>, with one integer label per row.</summary>
internal sealed class Dataset
{
    public Dataset(string name, double[] features, int featureCount, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(featureCount, 1);
        if (features.Length != (long)labels.Length * featureCount)
        {
            throw new ArgumentException($"features must hold {labels.Length}×{featureCount} values, not {features.Length}.", nameof(features));
        }

        Name = name;
        Features = features;
        FeatureCount = featureCount;
        Labels = labels;
    }

    /// <summary>Where the data came from (shown to the user).</summary>
    public string Name { get; }

    /// <summary>The features, row-major: row i starts at i·<see cref="FeatureCount"/>.</summary>
    public double[] Features { get; }

    public int FeatureCount { get; }

    public int[] Labels { get; }

    public int Count => Labels.Length;

    /// <summary>Row <paramref name="index"/>'s features.</summary>
    public ReadOnlySpan<double> Row(int index) => Features.AsSpan(index * FeatureCount, FeatureCount);

    /// <summary>The distinct labels, sorted.</summary>
    public int[] Classes() => Labels.Distinct().Order().ToArray();

    /// <summary>The rows whose label is in <paramref name="classes"/>, in their original order.</summary>
    public Dataset WhereClass(IReadOnlySet<int> classes, string name)
    {
        var rows = new List<int>();
        for (int i = 0; i < Count; i++)
        {
            if (classes.Contains(Labels[i]))
            {
                rows.Add(i);
            }
        }

        return Select(rows, name);
    }

    /// <summary>A new table of the given rows, in the given order (features copied).</summary>
    public Dataset Select(IReadOnlyList<int> rows, string name)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var features = new double[rows.Count * FeatureCount];
        var labels = new int[rows.Count];
        for (int k = 0; k < rows.Count; k++)
        {
            Row(rows[k]).CopyTo(features.AsSpan(k * FeatureCount, FeatureCount));
            labels[k] = Labels[rows[k]];
        }

        return new Dataset(name, features, FeatureCount, labels);
    }
}
