using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Sdk;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>Normwise relative comparison: max|a − b| / max|ref| (absolute when the reference is all zeros).</summary>
internal static class Compare
{
    public static double Error(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            if (!double.IsFinite(actual[i]))
            {
                return double.PositiveInfinity;
            }

            maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - actual[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }

        return maxRef > 0 ? maxDiff / maxRef : maxDiff;
    }

    public static void Close(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double tolerance, string what)
    {
        double error = Error(expected, actual);
        if (!(error <= tolerance))
        {
            int worst = Enumerable.Range(0, expected.Count).MaxBy(i => Math.Abs(expected[i] - actual[i]));
            throw new XunitException(
                $"{what}: normwise relative error {error:G3} > {tolerance:G3} (worst at index {worst}: expected {expected[worst]:R}, got {actual[worst]:R})");
        }
    }

    public static void Close(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double tolerance, string what) =>
        Close(expected, actual.Select(v => (double)v).ToArray(), tolerance, what);

    public static double[] ToDouble(this float[] values) => values.Select(v => (double)v).ToArray();

    public static float[] ToSingle(this double[] values) => values.Select(v => (float)v).ToArray();
}
