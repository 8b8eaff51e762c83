using System;

namespace CircleLoss.Cli.Evaluation;

/// <summary>A two-component principal component analysis, enough to draw embeddings in the plane.</summary>
internal static class Pca
{
    /// <summary>Projects the rows of <paramref name="data"/> (rows×<paramref name="dimension"/>) onto their first
    /// two principal components. Deterministic: power iteration from a fixed start, each component's sign chosen
    /// so that its largest entry is positive.</summary>
    public static (double[] X, double[] Y) Project2D(ReadOnlySpan<double> data, int rows, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (data.Length != (long)rows * dimension)
        {
            throw new ArgumentException($"data must hold {rows}×{dimension} values, not {data.Length}.", nameof(data));
        }

        var mean = new double[dimension];
        for (int i = 0; i < rows; i++)
        {
            Training.Dense.Axpy(1.0 / Math.Max(rows, 1), data.Slice(i * dimension, dimension), mean);
        }

        var centered = new double[rows * dimension];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < dimension; j++)
            {
                centered[i * dimension + j] = data[i * dimension + j] - mean[j];
            }
        }

        var covariance = new double[dimension * dimension];
        Training.Dense.MatMulTransposeA(centered, centered, covariance, rows, dimension, dimension);

        double[] first = TopEigenvector(covariance, dimension);
        double lambda = Rayleigh(covariance, first, dimension);
        // Deflate and find the second component.
        for (int a = 0; a < dimension; a++)
        {
            for (int b = 0; b < dimension; b++)
            {
                covariance[a * dimension + b] -= lambda * first[a] * first[b];
            }
        }

        double[] second = dimension > 1 ? TopEigenvector(covariance, dimension) : new double[dimension];
        var x = new double[rows];
        var y = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> row = centered.AsSpan(i * dimension, dimension);
            x[i] = Training.Dense.Dot(row, first);
            y[i] = Training.Dense.Dot(row, second);
        }

        return (x, y);
    }

    private static double[] TopEigenvector(double[] matrix, int dimension)
    {
        var v = new double[dimension];
        for (int j = 0; j < dimension; j++)
        {
            v[j] = 1.0 + 0.01 * j; // a fixed start that is not orthogonal to a typical top eigenvector
        }

        Normalize(v);
        var next = new double[dimension];
        for (int iteration = 0; iteration < 500; iteration++)
        {
            Training.Dense.MatMul(matrix, v, next, dimension, dimension, 1);
            double norm = Math.Sqrt(Training.Dense.Dot(next, next));
            if (norm == 0)
            {
                return new double[dimension];
            }

            double change = 0;
            for (int j = 0; j < dimension; j++)
            {
                double value = next[j] / norm;
                change = Math.Max(change, Math.Abs(value - v[j]));
                v[j] = value;
            }

            if (change < 1e-10)
            {
                break;
            }
        }

        int largest = 0;
        for (int j = 1; j < dimension; j++)
        {
            if (Math.Abs(v[j]) > Math.Abs(v[largest]))
            {
                largest = j;
            }
        }

        if (v[largest] < 0)
        {
            for (int j = 0; j < dimension; j++)
            {
                v[j] = -v[j];
            }
        }

        return v;
    }

    private static double Rayleigh(double[] matrix, double[] v, int dimension)
    {
        var mv = new double[dimension];
        Training.Dense.MatMul(matrix, v, mv, dimension, dimension, 1);
        return Training.Dense.Dot(v, mv);
    }

    private static void Normalize(double[] v)
    {
        double norm = Math.Sqrt(Training.Dense.Dot(v, v));
        for (int j = 0; j < v.Length; j++)
        {
            v[j] /= norm;
        }
    }
}
