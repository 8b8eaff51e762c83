using System;
using System.Linq;
using System.Runtime.CompilerServices;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CircleLoss.Interop.TorchSharp.Tests;

/// <summary>Runs before any test touches TorchSharp: makes its native library loadable on Debian 12 (see
/// <see cref="LibTorchSharpCompatibility"/>).</summary>
internal static class TorchSetup
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        LibTorchSharpCompatibility.Prepare(AppContext.BaseDirectory);
    }
}

/// <summary>Tensors from arrays and back, and a random problem whose every row has positives and negatives.</summary>
internal static class T
{
    public static Tensor Matrix(double[] values, long rows, long columns, ScalarType dtype, bool requiresGrad = false)
    {
        Tensor t = tensor(values, rows, columns, dtype: ScalarType.Float64).to_type(dtype);
        return requiresGrad ? t.requires_grad_(true) : t;
    }

    public static Tensor Vector(double[] values, ScalarType dtype) => tensor(values, dtype: ScalarType.Float64).to_type(dtype);

    public static Tensor Labels(int[] labels, ScalarType dtype) => dtype == ScalarType.Int64
        ? tensor(labels.Select(v => (long)v).ToArray(), dtype: ScalarType.Int64)
        : tensor(labels, dtype: ScalarType.Int32);

    public static double[] Values(Tensor t) => t.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>L2-normalised random rows, and labels of <paramref name="classes"/> classes with every class at least
    /// twice in the queries (so that every row has positives and negatives, where the literal formula's autograd is
    /// finite).</summary>
    public static (int[] Labels, double[] Rows) Problem(int seed, int n, int d, int classes)
    {
        var random = new Random(seed);
        int[] labels = Enumerable.Range(0, n).Select(i => i % classes).OrderBy(_ => random.Next()).ToArray();
        var rows = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int k = 0; k < d; k++)
            {
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                rows[i * d + k] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                norm += rows[i * d + k] * rows[i * d + k];
            }

            for (int k = 0; k < d; k++)
            {
                rows[i * d + k] /= Math.Sqrt(norm);
            }
        }

        return (labels, rows);
    }

    /// <summary>The live tensors TorchSharp counts on this thread (created minus disposed, inside and outside dispose scopes).</summary>
    public static long LiveTensors() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    public static void Close(double[] expected, Tensor actual, double tolerance, string what) =>
        Interop.Tests.Infrastructure.Compare.Close(expected, Values(actual), tolerance, what);

    public static void Close(Tensor expected, Tensor actual, double tolerance, string what) => Close(Values(expected), actual, tolerance, what);

    public static void Equal(Tensor expected, Tensor actual) => Assert.Equal(Values(expected), Values(actual));
}
